"""SQS: the acta queue (one message per piece of work for the Acta worker), and
reading the on-failure queue the reconciler replays."""

from __future__ import annotations

import json
from typing import Any, Literal, get_args
from uuid import UUID

from voxcliente.adapters import aws
from voxcliente.domain.frozen import Frozen
from voxcliente.settings import Settings, get_settings

WorkKind = Literal["acta", "failure", "resend"]


class MalformedMessage(ValueError):
    """A queue message that can never be work: not JSON, or not a :class:`WorkMessage`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("malformed work message: " + "; ".join(problems))
        self.problems = problems

    def error_count(self) -> int:
        return len(self.problems)


class WorkMessage(Frozen):
    """``acta``: write and send the acta; ``failure``: send the failure notice;
    ``resend``: send the stored acta again, as the ``email_deliveries`` row
    ``delivery_id`` asks (only a resend names one)."""

    meeting_id: UUID
    kind: WorkKind = "acta"
    delivery_id: UUID | None = None

    @classmethod
    def model_validate_json(cls, body: str | bytes) -> WorkMessage:
        """The message in ``body``; keys it does not name are ignored (a newer sender's)."""
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise MalformedMessage([f"not JSON: {exc}"]) from None
        if not isinstance(data, dict):
            raise MalformedMessage(["not a JSON object"])
        problems: list[str] = []
        meeting_id: UUID | None = None
        try:
            meeting_id = UUID(str(data["meeting_id"]))
        except KeyError:
            problems.append("meeting_id is missing")
        except ValueError:
            problems.append(f"meeting_id is not a UUID: {data['meeting_id']!r}")
        kind = data.get("kind", "acta")
        if kind not in get_args(WorkKind):
            problems.append(f"kind must be one of {', '.join(get_args(WorkKind))}: {kind!r}")
        delivery_id: UUID | None = None
        if data.get("delivery_id") is not None:
            try:
                delivery_id = UUID(str(data["delivery_id"]))
            except ValueError:
                problems.append(f"delivery_id is not a UUID: {data['delivery_id']!r}")
        elif kind == "resend":
            problems.append("delivery_id is missing (a resend names its email row)")
        if problems or meeting_id is None:
            raise MalformedMessage(problems)
        return cls(meeting_id=meeting_id, kind=kind, delivery_id=delivery_id)

    def model_dump_json(self) -> str:
        # Compact, as the pydantic model wrote it; no delivery_id key unless there is
        # one, so the acta and failure messages read as before.
        data = {"meeting_id": str(self.meeting_id), "kind": self.kind}
        if self.delivery_id is not None:
            data["delivery_id"] = str(self.delivery_id)
        return json.dumps(data, separators=(",", ":"))


def enqueue(
    meeting_id: UUID,
    kind: WorkKind,
    *,
    delivery_id: UUID | None = None,
    settings: Settings | None = None,
) -> str:
    cfg = settings or get_settings()
    cfg.require("acta_queue_url")
    body = WorkMessage(meeting_id=meeting_id, kind=kind, delivery_id=delivery_id).model_dump_json()
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
