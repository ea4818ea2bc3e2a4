"""What ``make up`` reads from ``template.yaml`` besides the routes, and the page's config.

Each value is the template's (its defaults resolved), so the local wiring follows
the deployed one: the acta queue's batch size and ``maxReceiveCount``, the API's
CORS settings, the reconciler's rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voxlocal import template as cfn
from voxlocal.up.server import SIGN_IN_PATH


def web_config(
    max_upload_bytes: int, allowed_types: Mapping[str, tuple[str, ...]]
) -> dict[str, Any]:
    """``/config.json`` in dev mode (a deployed page's is written at publish, Clerk mode)."""
    return {
        "apiBase": "",
        "auth": {"mode": "dev", "signInUrl": SIGN_IN_PATH},
        "maxUploadBytes": max_upload_bytes,
        "acceptedTypes": {kind: list(extensions) for kind, extensions in allowed_types.items()},
    }


def http_api_cors(template: Mapping[str, Any]) -> dict[str, Any]:
    """The HttpApi's ``CorsConfiguration`` (its origins are replaced by the local ones)."""
    api = next(iter(cfn.resources_of_type(dict(template), "AWS::Serverless::HttpApi").values()))
    cors: dict[str, Any] = dict((api.get("Properties") or {}).get("CorsConfiguration") or {})
    return cors


def _sqs_event(template: Mapping[str, Any], function: str) -> dict[str, Any]:
    resource = dict(template)["Resources"][function]
    for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
        if event.get("Type") == "SQS":
            props: dict[str, Any] = event.get("Properties") or {}
            return props
    raise ValueError(f"{function} has no SQS event in template.yaml")


def acta_batch_size(template: Mapping[str, Any]) -> int:
    """The Acta function's SQS ``BatchSize`` (Lambda's default is 10)."""
    return int(
        cfn.default_value(dict(template), _sqs_event(template, "ActaFunction").get("BatchSize", 10))
    )


def max_receive_count(template: Mapping[str, Any]) -> int:
    """The acta queue's ``maxReceiveCount``: receives before the dead-letter queue."""
    queue = dict(template)["Resources"]["ActaQueue"]["Properties"]
    return int(cfn.default_value(dict(template), queue["RedrivePolicy"]["maxReceiveCount"]))
