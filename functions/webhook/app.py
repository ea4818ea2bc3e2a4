"""Webhook: POST /webhooks/assemblyai — verify the secret header, record, enqueue. Fast."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from voxcliente.flows import webhook
from voxcliente.observability import http_request_id, instrumented


@instrumented(correlation_id=http_request_id)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    reply = webhook.handle(event.get("headers"), body, event.get("queryStringParameters"))
    return {
        "statusCode": reply.status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(reply.body),
    }
