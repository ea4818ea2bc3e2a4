"""Pydantic models of what the tables hold."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

MeetingStatus = Literal["received", "submitted", "transcribed", "generating", "emailed", "failed"]
MEETING_STATUSES: tuple[MeetingStatus, ...] = (
    "received",
    "submitted",
    "transcribed",
    "generating",
    "emailed",
    "failed",
)
ACTIVE_STATUSES: tuple[MeetingStatus, ...] = ("received", "submitted", "transcribed", "generating")
EmailKind = Literal["acta", "failure"]
DeliveryStatus = Literal[
    "pending",
    "sending",
    "sent",
    "delivered",
    "bounced",
    "complained",
    "rejected",
    "suppressed",
    "failed",
]
# SES accepted the message: it must never be sent again.
ACCEPTED_DELIVERY_STATUSES: tuple[DeliveryStatus, ...] = (
    "sent",
    "delivered",
    "bounced",
    "complained",
    "rejected",
)
# Not sent, for good.
UNSENT_FINAL_DELIVERY_STATUSES: tuple[DeliveryStatus, ...] = ("suppressed", "failed")
Provider = Literal["assemblyai", "openai", "ses"]
UsageUnit = Literal["audio_second", "input_token", "output_token", "message"]


class Row(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


class Record(Row):
    """A row of a table keyed by UUID: every such table stamps its inserts."""

    id: UUID
    created_at: datetime


class UpdatableRecord(Record):
    """A row the code changes after insert (``updated_at`` is kept by a trigger)."""

    updated_at: datetime


class User(UpdatableRecord):
    email: str
    auth_provider_id: str | None = None
    cohort: str
    first_seen_date: date
    total_cost_usd: Decimal
    total_actas: int
    email_suppressed_at: datetime | None = None
    email_suppressed_reason: str | None = None


class Client(UpdatableRecord):
    user_id: UUID
    name: str
    industry: str | None = None


class Upload(UpdatableRecord):
    email: str
    s3_key: str
    original_filename: str
    content_type: str
    size_bytes: int
    client_name: str | None = None
    meeting_date: date | None = None
    language: str | None = None
    expires_at: datetime


class Meeting(UpdatableRecord):
    user_id: UUID | None = None
    client_id: UUID | None = None
    upload_id: UUID | None = None
    recipient_email: str | None = None
    s3_bucket: str
    s3_key: str
    s3_version_id: str
    s3_etag: str | None = None
    size_bytes: int | None = None
    content_type: str | None = None
    original_filename: str
    meeting_date: date | None = None
    language: str | None = None
    audio_duration_s: Decimal | None = None
    assemblyai_transcript_id: str | None = None
    status: MeetingStatus
    error_code: str | None = None
    error_message: str | None = None
    attempts: int = 0
    submit_attempts: int = 0
    received_at: datetime
    submit_claimed_at: datetime | None = None
    submitted_at: datetime | None = None
    transcribed_at: datetime | None = None
    generating_at: datetime | None = None
    emailed_at: datetime | None = None
    failed_at: datetime | None = None
    transcription_cost_usd: Decimal
    llm_cost_usd: Decimal
    email_cost_usd: Decimal
    total_cost_usd: Decimal


class Utterance(BaseModel):
    speaker: str
    start_ms: int = Field(ge=0)
    end_ms: int = Field(ge=0)
    text: str
    confidence: float | None = None


class Transcript(Record):
    meeting_id: UUID
    text: str
    utterances: list[Utterance]
    language: str | None = None
    confidence: Decimal | None = None
    word_count: int
    audio_duration_s: Decimal | None = None


class ActaRecord(Record):
    meeting_id: UUID
    content: dict[str, Any]
    language: str
    model: str
    input_tokens: int
    output_tokens: int
    parts: int
    generation_ms: int


class EmailDelivery(UpdatableRecord):
    meeting_id: UUID | None = None
    user_id: UUID | None = None
    recipient: str
    kind: EmailKind
    ses_message_id: str | None = None
    status: DeliveryStatus
    bounce_type: str | None = None
    bounce_subtype: str | None = None
    complaint_type: str | None = None
    details: dict[str, Any]
    claimed_at: datetime | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    delivered_at: datetime | None = None


class UsageRecord(Record):
    meeting_id: UUID
    user_id: UUID | None = None
    provider: Provider
    item: str
    quantity: Decimal
    unit: UsageUnit
    unit_price_usd: Decimal
    cost_usd: Decimal


class MeetingEvent(Row):
    id: int
    meeting_id: UUID
    from_status: MeetingStatus | None = None
    to_status: MeetingStatus
    event: str
    details: dict[str, Any]
    created_at: datetime
