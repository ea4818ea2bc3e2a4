"""boto3 clients, created once per execution environment, from the settings.

No client reads a provider setting from the environment by itself (an empty
``AWS_ENDPOINT_URL: ""`` in the template is not "unset" to every SDK): the
region and the endpoint come from :class:`~voxcliente.settings.Settings`, and
when no endpoint is configured botocore is told to ignore configured endpoint
URLs, so it resolves the public regional endpoint.

S3 addresses buckets virtual-hosted on the *regional* endpoint
(``https://<bucket>.s3.<region>.amazonaws.com/``), also in us-east-1: the
global name answers 307 redirects for a new bucket outside us-east-1 until DNS
settles, which breaks a browser's CORS preflight and AssemblyAI's download of a
presigned GET, and it never works in opt-in regions (S3 user guide, "Virtual
hosting of buckets" and "Making requests: temporary redirects").
"""

from __future__ import annotations

from functools import cache
from typing import Any

from voxcliente.settings import get_settings


def client_config(service: str, *, endpoint_url: str | None) -> Any:
    """The botocore ``Config`` for ``service``: explicit, never taken from the environment."""
    from botocore.config import Config

    options: dict[str, Any] = {
        # SES is never retried by botocore: a read timeout after SES accepted the
        # message would send it twice. The worker's claim and the queue retry instead.
        "retries": (
            {"total_max_attempts": 1, "mode": "standard"}
            if service == "sesv2"
            else {"max_attempts": 3, "mode": "standard"}
        ),
        # Only an endpoint given in the settings counts (see the module docstring).
        "ignore_configured_endpoint_urls": endpoint_url is None,
    }
    if service == "s3":
        # Signature v4 everywhere, presigned URLs included.
        options["signature_version"] = "s3v4"
        options["s3"] = (
            {"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"}
            if endpoint_url is None
            # A local emulator on 127.0.0.1:<port> has no bucket subdomains.
            else {"addressing_style": "path"}
        )
    return Config(**options)


@cache
def client(service: str) -> Any:
    import boto3

    settings = get_settings()
    make: Any = boto3.client
    return make(
        service,
        region_name=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url,
        config=client_config(service, endpoint_url=settings.aws_endpoint_url),
    )


def reset_clients() -> None:
    """Forget the clients (tests switch between moto and other endpoints)."""
    client.cache_clear()
