"""The acta queue: one message per piece of work for the Acta worker."""

from __future__ import annotations

from typing import Literal
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
