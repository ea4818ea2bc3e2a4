"""Publish web/ to a deployed stack: `make publish-web STACK=voxcliente-dev`.

Reads the stack's outputs (WebBucketName, WebDistributionId, WebUrl, ApiUrl)
and parameters (WebOrigins, MaxUploadBytes, AuthIssuerUrl), uploads every file
of web/ with its content type, writes config.json for Clerk sign-in
(CLERK_PUBLISHABLE_KEY, the JWT template in CLERK_JWT_TEMPLATE, default
"voxcliente"), removes files a previous publish left that web/ no longer has,
and invalidates the distribution's cache.

It refuses, before uploading anything, what would leave a page that cannot
work: a missing or malformed publishable key, a key of another Clerk instance
than AuthIssuerUrl (its tokens would be refused with 401), and a WebUrl that is
not in WebOrigins (the browser would block every API call and the upload).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import mimetypes
import os
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
# The layer package, importable as Lambda sees it under /opt/python.
sys.path.insert(0, str(ROOT / "layers" / "common"))

from voxcliente.domain.media import ALLOWED_TYPES  # noqa: E402

# Every file is revalidated: the page has no build step, so its names carry no
# hash; CloudFront's managed CachingOptimized policy keeps each at least 1 s.
CACHE_CONTROL = "no-cache"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
_PUBLISHABLE_KEY = re.compile(r"pk_(test|live)_([A-Za-z0-9+/=_-]+)")


class PublishError(Exception):
    """Something the operator must fix before the page can be published."""


@dataclass(frozen=True)
class Stack:
    outputs: Mapping[str, str]
    parameters: Mapping[str, str]

    def output(self, name: str) -> str:
        value = self.outputs.get(name)
        if not value:
            raise PublishError(
                f"the stack has no output {name}: deploy the current template.yaml first "
                "(sam deploy --config-env <env>)"
            )
        return value


def clerk_host(publishable_key: str) -> str:
    """The Frontend API host a Clerk publishable key encodes (pk_<env>_<base64("host$")>)."""
    match = _PUBLISHABLE_KEY.fullmatch(publishable_key.strip())
    if not match:
        raise PublishError(
            "CLERK_PUBLISHABLE_KEY must be the publishable key from the Clerk Dashboard "
            "(Configure -> API keys), starting with pk_test_ or pk_live_"
        )
    encoded = match.group(2).replace("-", "+").replace("_", "/")
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise PublishError("CLERK_PUBLISHABLE_KEY is not a Clerk publishable key") from exc
    host = decoded.rstrip("$")
    if not re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}", host):
        raise PublishError("CLERK_PUBLISHABLE_KEY is not a Clerk publishable key")
    return host


def check_clerk_instance(publishable_key: str, issuer: str) -> None:
    """The key must belong to the instance that issues the tokens the API accepts."""
    host = clerk_host(publishable_key)
    issuer_host = urlsplit(issuer).hostname or ""
    if host.lower() != issuer_host.lower():
        raise PublishError(
            f"CLERK_PUBLISHABLE_KEY belongs to the Clerk instance {host}, but the stack accepts "
            f"tokens of {issuer or '(no AuthIssuerUrl)'}: use that instance's publishable key, "
            "or deploy with AuthIssuerUrl=https://" + host
        )


def check_origins(web_url: str, web_origins: str, env: str) -> None:
    """The page's origin must be in WebOrigins: the API's and the audio bucket's CORS."""
    origins = [o.strip().rstrip("/") for o in web_origins.split(",") if o.strip()]
    if web_url.rstrip("/") in origins:
        return
    wanted = ",".join([*origins, web_url.rstrip("/")])
    raise PublishError(
        f"WebOrigins does not include the page's address {web_url}, so browsers would block "
        "its calls to the API and its uploads (CORS). Deploy once more with it:\n"
        f"  sam deploy --guided --config-env {env}   (answer WebOrigins: {wanted})\n"
        f"or add WebOrigins={wanted} to parameter_overrides under [{env}.deploy.parameters] "
        f"in samconfig.toml and run sam deploy --config-env {env}; then run this again"
    )


def build_config(stack: Stack, publishable_key: str, jwt_template: str) -> dict[str, Any]:
    """config.json: where the API is, how to sign in, what the page may upload."""
    return {
        "apiBase": stack.output("ApiUrl").rstrip("/"),
        "auth": {
            "mode": "clerk",
            "publishableKey": publishable_key.strip(),
            "jwtTemplate": jwt_template,
        },
        "maxUploadBytes": int(stack.parameters.get("MaxUploadBytes") or 5_000_000_000),
        "acceptedTypes": {kind: list(exts) for kind, exts in ALLOWED_TYPES.items()},
    }


def web_files(root: Path = WEB) -> list[tuple[str, Path, str]]:
    """(key, file, content type) for every file of web/ but a local config.json."""
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = path.relative_to(root).as_posix()
        if key == "config.json" or any(part.startswith(".") for part in path.parts):
            continue
        kind = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        files.append((key, path, kind or "application/octet-stream"))
    return files


def read_stack(cloudformation: Any, name: str) -> Stack:
    (description,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
    parameters = {
        p["ParameterKey"]: p.get("ResolvedValue") or p.get("ParameterValue", "")
        for p in description.get("Parameters", [])
    }
    return Stack(outputs=outputs, parameters=parameters)


def publish(
    stack: Stack,
    *,
    s3: Any,
    cloudfront: Any,
    publishable_key: str,
    jwt_template: str = "voxcliente",
    env: str = "dev",
    root: Path = WEB,
) -> str:
    """Check, upload, prune, invalidate; the page's URL."""
    web_url = stack.output("WebUrl")
    bucket = stack.output("WebBucketName")
    distribution = stack.output("WebDistributionId")
    check_clerk_instance(publishable_key, stack.parameters.get("AuthIssuerUrl", ""))
    check_origins(web_url, stack.parameters.get("WebOrigins", ""), env)
    config = build_config(stack, publishable_key, jwt_template)
    files = web_files(root)
    for key, path, kind in files:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=kind,
            CacheControl=CACHE_CONTROL,
        )
        print(f"  {key} ({kind})")
    # config.json last: the files it leads the page to are already there.
    s3.put_object(
        Bucket=bucket,
        Key="config.json",
        Body=json.dumps(config, indent=2).encode(),
        ContentType=CONTENT_TYPES[".json"],
        CacheControl=CACHE_CONTROL,
    )
    print("  config.json (Clerk sign-in, API at " + config["apiBase"] + ")")
    kept = {key for key, _, _ in files} | {"config.json"}
    stale = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
        if obj["Key"] not in kept
    ]
    for key in stale:
        # The bucket is versioned: a removed file can be restored for 30 days.
        s3.delete_object(Bucket=bucket, Key=key)
        print(f"  removed {key}")
    cloudfront.create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"publish-web-{time.time_ns()}",
        },
    )
    return web_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack-name", default=os.environ.get("STACK", "voxcliente-dev"))
    parser.add_argument("--config-env", default=os.environ.get("CONFIG_ENV", "dev"))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION"))
    args = parser.parse_args(argv)
    key = os.environ.get("CLERK_PUBLISHABLE_KEY", "")
    template = os.environ.get("CLERK_JWT_TEMPLATE", "voxcliente")

    import boto3

    session = boto3.session.Session(region_name=args.region)
    try:
        clerk_host(key)
        stack = read_stack(session.client("cloudformation"), args.stack_name)
        print(f"==> publishing web/ to {stack.output('WebBucketName')}")
        url = publish(
            stack,
            s3=session.client("s3"),
            cloudfront=session.client("cloudfront"),
            publishable_key=key,
            jwt_template=template,
            env=args.config_env,
        )
    except PublishError as exc:
        print(f"publish-web: {exc}", file=sys.stderr)
        return 1
    print(f"==> published; the page is at {url} (CloudFront serves the new files within a minute)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
