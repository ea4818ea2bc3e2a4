"""SQS: the acta queue (one message per piece of work for the Acta worker), and
reading the on-failure queue the reconciler replays."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel

from voxcliente.adapters import aws
from voxcliente.settings import Settings, get_settings

WorkKind = Literal["acta", "failure"]


class WorkMessage(BaseModel):
    """``acta``: write and send the acta; ``failure``: send the failure notice."""

    meeting_id: UUID
    kind: WorkKind = "acta"


def enqueue(meeting_id: UUID, kind: WorkKind, *, settings: Settings | None = None) -> str:
    cfg = settings or get_settings()
    cfg.require("acta_queue_url")
    body = WorkMessage(meeting_id=meeting_id, kind=kind).model_dump_json()
    response = aws.client("sqs").send_message(QueueUrl=cfg.acta_queue_url, MessageBody=body)
    return str(response["MessageId"])


def receive(queue_url: str, *, visibility_timeout_s: int) -> list[dict[str, Any]]:
    """Up to 10 messages waiting in the queue (no long poll), hidden for a while."""
    response = aws.client("sqs").receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=0,
        VisibilityTimeout=visibility_timeout_s,
    )
    return list(response.get("Messages", []))


def delete(queue_url: str, receipt_handle: str) -> None:
    aws.client("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=receipt_handle)
