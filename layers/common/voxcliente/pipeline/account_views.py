"""The AccountApi's JSON: how a meeting, a client, a cost or a time is written.

One convention for every route, so a client parses them one way:

* amounts are decimal strings with the cost columns' six places ("0.012345"):
  a JSON number would round them in JavaScript;
* times are ISO-8601 in UTC with a ``Z`` and milliseconds, dates ``YYYY-MM-DD``;
* audio is in minutes rounded to 0.1 (the figure the quota is set in);
* a list page's cursor is opaque: the URL-safe base64 of the last row's
  ``(received_at, id)``, read back by :func:`read_cursor`, which refuses
  anything it did not write.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from voxcliente.adapters.repository.history import ClientSummary, HistoryMeeting, UserTotals
from voxcliente.domain.models import ActaRecord, Meeting, MeetingEvent, UsageRecord, User

_MICRO = Decimal("0.000001")
_CURSOR_VERSION = "1"
# A cursor this API writes is about 80 characters; anything much longer is not one.
_CURSOR_MAX = 200


def usd(value: Decimal | None) -> str:
    """An amount as a decimal string with six places ("0.012345")."""
    return format((value or Decimal(0)).quantize(_MICRO), "f")


def quantity(value: Decimal) -> str:
    """A usage quantity (seconds, tokens, messages) as a decimal string, no trailing zeros."""
    text = format(value.normalize(), "f")
    return text


def when(value: datetime | None) -> str | None:
    """A time in UTC, ISO-8601 with milliseconds and a ``Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def minutes(seconds: Decimal | None) -> float | None:
    """Audio seconds as minutes rounded to 0.1."""
    return None if seconds is None else round(float(seconds) / 60, 1)


# --- cursors ----------------------------------------------------------------------
class BadCursor(ValueError):
    """The cursor was not written by :func:`write_cursor` (edited, truncated, made up)."""


def write_cursor(received_at: datetime, meeting_id: UUID) -> str:
    text = f"{_CURSOR_VERSION}|{received_at.astimezone(UTC).isoformat()}|{meeting_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def read_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The ``(received_at, id)`` a cursor carries, or :class:`BadCursor`."""
    if not cursor or len(cursor) > _CURSOR_MAX:
        raise BadCursor(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, at, meeting_id = raw.split("|")
        received_at = datetime.fromisoformat(at)
        key = UUID(meeting_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadCursor(cursor) from exc
    if version != _CURSOR_VERSION or received_at.tzinfo is None:
        raise BadCursor(cursor)
    return received_at, key


# --- shapes -----------------------------------------------------------------------
def history_item(
    row: HistoryMeeting | Meeting, *, title: str | None, client: Any
) -> dict[str, Any]:
    """A meeting as ``GET /meetings`` lists it."""
    return {
        "id": str(row.id),
        "status": row.status,
        "filename": row.original_filename,
        "title": title,
        "client": client,
        "meeting_date": day(row.meeting_date),
        "received_at": when(row.received_at),
        "emailed_at": when(row.emailed_at),
        "audio_minutes": minutes(row.audio_duration_s),
        "cost_usd": usd(row.total_cost_usd),
        "erased": row.erased_at is not None,
    }


def listed(row: HistoryMeeting) -> dict[str, Any]:
    client = None if row.client_id is None else {"id": str(row.client_id), "name": row.client_name}
    return history_item(row, title=row.title, client=client)


def account(user: User, totals: UserTotals, *, quota_minutes: int) -> dict[str, Any]:
    """``GET /me``: the account, what its meetings add up to, and this month's quota."""
    return {
        "user": {"id": str(user.id), "email": user.email, "signed_up_at": when(user.signed_up_at)},
        "totals": {
            "meetings": totals.meetings,
            "actas": totals.actas,
            "audio_minutes": minutes(totals.audio_seconds),
            "cost_usd": usd(totals.cost_usd),
        },
        "quota": {
            "monthly_audio_minutes": quota_minutes or None,
            "used_this_month_minutes": minutes(totals.month_audio_seconds),
        },
    }


def client(row: ClientSummary) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "meetings": row.meetings,
        "actas": row.actas,
        "audio_minutes": minutes(row.audio_seconds),
        "cost_usd": usd(row.cost_usd),
        "last_meeting_at": when(row.last_meeting_at),
    }


def timeline(events: Sequence[MeetingEvent]) -> list[dict[str, Any]]:
    return [
        {"status": event.to_status, "event": event.event, "at": when(event.created_at)}
        for event in events
    ]


def costs(meeting: Meeting, lines: Sequence[UsageRecord]) -> dict[str, Any]:
    """The meeting's cost by provider (the columns kept from its usage lines) and the lines."""
    return {
        "transcription_usd": usd(meeting.transcription_cost_usd),
        "generation_usd": usd(meeting.llm_cost_usd),
        "email_usd": usd(meeting.email_cost_usd),
        "total_usd": usd(meeting.total_cost_usd),
        "lines": [
            {
                "provider": line.provider,
                "item": line.item,
                "quantity": quantity(line.quantity),
                "unit": line.unit,
                "cost_usd": usd(line.cost_usd),
            }
            for line in lines
        ],
    }


def detail(
    meeting: Meeting,
    *,
    client_name: str | None,
    acta: ActaRecord | None,
    events: Sequence[MeetingEvent],
    lines: Sequence[UsageRecord],
    downloads: dict[str, Any],
) -> dict[str, Any]:
    """``GET /meetings/{id}``: the listed fields and more, the acta, timeline, costs, links."""
    title = acta.content.get("title") if acta is not None else None
    item = history_item(
        meeting,
        title=title if isinstance(title, str) else None,
        client=None
        if meeting.client_id is None
        else {"id": str(meeting.client_id), "name": client_name},
    )
    item["language"] = meeting.language
    item["error"] = (
        {"code": meeting.error_code, "message": meeting.error_message}
        if meeting.error_code
        else None
    )
    return {
        "meeting": item,
        "acta": acta.content if acta is not None else None,
        "timeline": timeline(events),
        "costs": costs(meeting, lines),
        "downloads": downloads,
    }
