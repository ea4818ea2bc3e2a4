"""boto3 clients, created once per execution environment.

``AWS_ENDPOINT_URL`` (read by boto3 itself) points them at a local emulator
when running on one machine; in AWS it is unset.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Signature v4 everywhere (presigned S3 URLs included); a few quick retries.
    config = Config(
        signature_version="s3v4" if service == "s3" else None,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    make: Any = boto3.client
    return make(service, config=config)


def reset_clients() -> None:
    """Forget the clients (tests switch between moto and other endpoints)."""
    client.cache_clear()
