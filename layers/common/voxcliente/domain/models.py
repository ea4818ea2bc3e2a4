"""What the tables hold, as frozen rows (:mod:`voxcliente.domain.frozen`: every
function defines these at its cold start, and neither pydantic nor ``@dataclass``
is cheap there).

psycopg already hands out typed values (UUID, datetime, date, Decimal, and
JSON as dicts and lists); the one conversion left, a transcript's JSON
utterances into :class:`Utterance` objects, is done here. Rows are built by
:mod:`voxcliente.adapters.repository._rows`, which passes only the columns a
class names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Self
from uuid import UUID

from voxcliente.domain.frozen import Frozen

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
EmailKind = Literal["acta", "failure", "resend", "confirmation"]
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


def _jsonable(value: Any) -> Any:
    """``value`` with UUIDs, dates and Decimals as strings (how pydantic wrote them)."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


class Row(Frozen):
    """A row of a table: built from its columns, dumped as pydantic models were."""

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return cls._field_set

    @classmethod
    def model_validate(cls, data: Mapping[str, Any]) -> Self:
        """The row from a mapping of columns; columns the class does not name are ignored.

        (``model_validate``/``model_dump``: the names callers knew these rows by.)
        """
        known = cls._field_set
        return cls(**{key: value for key, value in data.items() if key in known})

    def model_dump(self, *, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        values = {name: self.__dict__[name] for name in self._fields}
        return _jsonable(values) if mode == "json" else values


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
    # The signed-in identity: (issuer, subject) of the verified token.
    auth_issuer: str | None = None
    auth_subject: str | None = None
    signed_up_at: datetime | None = None


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
    # The signed-in user who asked for it, or the trial confirmation it used.
    user_id: UUID | None = None
    confirmation_id: UUID | None = None


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
    # Kept for download once emailed (keys in the audio bucket).
    docx_s3_key: str | None = None
    transcript_s3_key: str | None = None
    provider_transcript_deleted_at: datetime | None = None
    transcript_purged_at: datetime | None = None
    # Erased: the row keeps its status, timestamps and costs, nothing personal.
    erased_at: datetime | None = None


class Utterance:
    """One speaker's turn. A plain class: a 10-hour transcript builds thousands."""

    __slots__ = ("confidence", "end_ms", "speaker", "start_ms", "text")

    def __init__(
        self,
        *,
        speaker: str,
        start_ms: int,
        end_ms: int,
        text: str,
        confidence: float | None = None,
    ) -> None:
        if start_ms < 0 or end_ms < 0:
            raise ValueError(
                f"an utterance's times are milliseconds from the start, never negative "
                f"(got start_ms={start_ms}, end_ms={end_ms})"
            )
        self.speaker = speaker
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.text = text
        self.confidence = confidence

    @classmethod
    def model_validate(cls, data: Mapping[str, Any]) -> Utterance:
        """From its stored JSON; keys it does not name are ignored."""
        return cls(
            speaker=data["speaker"],
            start_ms=data["start_ms"],
            end_ms=data["end_ms"],
            text=data["text"],
            confidence=data.get("confidence"),
        )

    def model_dump(self, *, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "text": self.text,
            "confidence": self.confidence,
        }

    def __eq__(self, other: object) -> bool:
        if type(other) is not Utterance:
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the pydantic model was

    def __repr__(self) -> str:
        return (
            f"Utterance(speaker={self.speaker!r}, start_ms={self.start_ms}, "
            f"end_ms={self.end_ms}, text={self.text!r}, confidence={self.confidence!r})"
        )


def _decimal(value: Decimal | float | None) -> Decimal | None:
    """A number as Decimal (a float through its shortest repr, as pydantic did)."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


class Transcript(Record):
    meeting_id: UUID
    text: str
    # The column is JSON: a list of dicts from the database, Utterances after __post_init__.
    utterances: list[Utterance]
    language: str | None = None
    confidence: Decimal | None = None
    word_count: int
    audio_duration_s: Decimal | None = None

    def __post_init__(self) -> None:
        utterances = [
            u if isinstance(u, Utterance) else Utterance.model_validate(u) for u in self.utterances
        ]
        fields = self.__dict__
        fields["utterances"] = utterances
        fields["confidence"] = _decimal(self.confidence)
        fields["audio_duration_s"] = _decimal(self.audio_duration_s)

    def model_dump(self, *, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        values = {name: self.__dict__[name] for name in self._fields}
        values["utterances"] = [u.model_dump() for u in self.utterances]
        return _jsonable(values) if mode == "json" else values


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
    recipient: str | None = None
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
