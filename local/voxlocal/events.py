"""Lambda events with the shapes AWS sends, for the tests and the local runner.

The files in ``events/`` are the samples for ``sam local invoke``; these
builders make the same shapes for any bucket, key, body or message.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlsplit

# Lambda's context object is the one invoke_child's child process uses too.
from voxlocal.invoke_child import LambdaContext

__all__ = [
    "LambdaContext",
    "http_api",
    "s3_put",
    "ses_event",
    "sns",
    "sqs",
    "webhook_request_event",
]


def s3_put(bucket: str, *keys: str, size: int = 0, version_id: str | None = None) -> dict[str, Any]:
    """An S3 ObjectCreated notification; keys URL-encoded as S3 does ('+' for spaces)."""
    records = []
    for key in keys:
        obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "size": size, "sequencer": "0"}
        if version_id:
            obj["versionId"] = version_id
        records.append(
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": obj,
                },
            }
        )
    return {"Records": records}


def _claim_text(value: Any) -> str:
    """A claim as the HTTP API's JWT authorizer passes it on: always a string.

    Booleans and numbers as their JSON text; a list as "[a b c]" (bracketed,
    space-separated, not JSON: what API Gateway sends for an array claim such as
    a list ``aud``); an object as its JSON text.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    return json.dumps(value)


def http_api(
    method: str,
    path: str,
    *,
    route: str | None = None,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    path_parameters: dict[str, str] | None = None,
    claims: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) request; header names lower-cased as API Gateway does.

    ``claims``: a token's verified claims, as the JWT authorizer passes them on
    (``requestContext.authorizer.jwt``), each value a string as API Gateway
    gives it. ``source_ip``: the caller's address (``requestContext.http.sourceIp``).

    A query string in ``path`` becomes ``rawQueryString`` and
    ``queryStringParameters`` (repeated names joined by commas, as API Gateway does).
    """
    path, _, query = path.partition("?")
    route_key = f"{method} {route or path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": {k.lower(): v for k, v in (headers or {}).items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": "voxlocal",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    if claims is not None:
        event["requestContext"]["authorizer"] = {
            "jwt": {"claims": {k: _claim_text(v) for k, v in claims.items()}, "scopes": None}
        }
    if query:
        params: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            params[name] = f"{params[name]},{value}" if name in params else value
        event["queryStringParameters"] = params
    if body is not None:
        event["body"] = body
    if path_parameters:
        event["pathParameters"] = path_parameters
    return event


def webhook_request_event(
    url: str, headers: Mapping[str, str], body: Mapping[str, Any]
) -> dict[str, Any]:
    """The HTTP API event for AssemblyAI's webhook POST to ``url`` (the ``webhook_url``
    Submit gave it): path and query string from the URL, the meeting id riding in the
    query; ``body`` sent as JSON."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return http_api("POST", target, headers=dict(headers), body=json.dumps(body))


def sqs(
    messages: list[dict[str, Any]], queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:acta"
) -> dict[str, Any]:
    """An SQS batch from messages as ``receive_message`` returns them."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": str(
                        (m.get("Attributes") or {}).get("ApproximateReceiveCount", "1")
                    ),
                    "SentTimestamp": "0",
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def sns(
    notification: dict[str, Any], topic_arn: str = "arn:aws:sns:us-east-1:123456789012:ses-events"
) -> dict[str, Any]:
    """An SNS delivery to Lambda carrying one JSON message."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": json.dumps(notification),
                    "Timestamp": "2026-11-26T10:00:00.000Z",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def ses_event(event_type: str, message_id: str, recipient: str, **extra: Any) -> dict[str, Any]:
    """An SES event-publishing notification (Delivery, Bounce, Complaint, Reject)."""
    body: dict[str, Any] = {
        "eventType": event_type,
        "mail": {
            "timestamp": "2026-11-26T10:00:00.000Z",
            "messageId": message_id,
            "destination": [recipient],
        },
    }
    if event_type == "Delivery":
        body["delivery"] = {"recipients": [recipient], "smtpResponse": "250 2.0.0 OK"}
    if event_type == "Bounce":
        body["bounce"] = {
            "bounceType": extra.get("bounce_type", "Permanent"),
            "bounceSubType": extra.get("bounce_subtype", "General"),
            "bouncedRecipients": [{"emailAddress": recipient}],
        }
    if event_type == "Complaint":
        body["complaint"] = {
            "complainedRecipients": [{"emailAddress": recipient}],
            "complaintFeedbackType": "abuse",
        }
    if event_type == "Reject":
        body["reject"] = {"reason": "Bad content"}
    return body
