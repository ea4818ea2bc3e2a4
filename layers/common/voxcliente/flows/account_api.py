"""AccountApi: a signed-in person's account, history of meetings, and clients.

Every route reads the caller from the JWT authorizer's verified claims and
resolves their user row in the same transaction as its reads
(:func:`repo.user_for_caller` links an address's earlier actas at the first
request). Every lookup is scoped by that user: another person's meeting or
client is "not found", worded exactly as an id that never existed, so an id
neither proves nor disproves that someone else has it.

The JSON is written by :mod:`voxcliente.pipeline.account_views`. Resending and
erasing are the pipeline's (``resend``, ``erasure``), imported by the routes
that use them so the read routes do not load them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from voxcliente.adapters import repository as repo
from voxcliente.adapters import s3
from voxcliente.adapters.db import Connection, transaction
from voxcliente.domain.errors import InputRejected, NotFound
from voxcliente.domain.identity import caller_from_event
from voxcliente.domain.models import MEETING_STATUSES, Meeting, MeetingStatus, User
from voxcliente.domain.upload_request import text_field
from voxcliente.pipeline import account_views as views
from voxcliente.settings import Settings, get_settings

DEFAULT_PAGE = 20
MAX_PAGE = 100
CLIENT_NAME_MAX = 200  # the clients.name CHECK
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NO_MEETING = "No meeting of yours has this id."
_NO_CLIENT = "No client of yours has this id."


class BadRequest(InputRejected):
    """400, naming each bad field or query parameter."""

    code = "bad_request"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("Invalid request: " + "; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def _user(tx: Connection, event: Mapping[str, Any]) -> User:
    return repo.user_for_caller(tx, caller_from_event(event))


def _id(value: str, missing: str) -> UUID:
    """A path id; one that is not a UUID is as unknown as any other."""
    try:
        return UUID(value)
    except ValueError:
        raise NotFound(missing) from None


def _utc_month_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


# --- GET /me ----------------------------------------------------------------------
def me(event: Mapping[str, Any], *, settings: Settings | None = None) -> dict[str, Any]:
    """The account, what its meetings add up to, and this month's audio against the quota."""
    cfg = settings or get_settings()
    with transaction() as tx:
        user = _user(tx, event)
        totals = repo.user_totals(tx, user.id, _utc_month_start(datetime.now(UTC)))
    return views.account(user, totals, quota_minutes=cfg.monthly_audio_minutes_quota)


# --- GET /meetings ----------------------------------------------------------------
class HistoryQuery:
    """``GET /meetings``' query parameters, read by :func:`parse_history_query`."""

    __slots__ = ("after", "before", "client_id", "limit", "since", "status")

    def __init__(self) -> None:
        self.limit = DEFAULT_PAGE
        self.client_id: UUID | None = None
        self.status: MeetingStatus | None = None
        self.since: datetime | None = None
        self.before: datetime | None = None
        self.after: tuple[datetime, UUID] | None = None


def _limit(value: str) -> int:
    if not (value.isdigit() and 1 <= int(value) <= MAX_PAGE):
        raise ValueError(f"must be a whole number from 1 to {MAX_PAGE}")
    return int(value)


def _client_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ValueError("must be a client id (a UUID) from GET /clients") from None


def _status(value: str) -> MeetingStatus:
    for status in MEETING_STATUSES:
        if value == status:
            return status
    raise ValueError(f"must be one of {', '.join(MEETING_STATUSES)}")


def _day(value: str) -> date:
    if _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("must be a date as YYYY-MM-DD")


def _cursor(value: str) -> tuple[datetime, UUID]:
    try:
        return views.read_cursor(value)
    except views.BadCursor:
        raise ValueError(
            "is not a cursor this API gave out: pass next_cursor from the previous "
            "page unchanged, or leave it out to start from the newest meeting"
        ) from None


# How each parameter is read (a ValueError's text says what it must be).
_PARAMS: dict[str, Callable[[str], Any]] = {
    "limit": _limit,
    "client_id": _client_id,
    "status": _status,
    "from": _day,
    "to": _day,
    "cursor": _cursor,
}


def parse_history_query(params: Mapping[str, str]) -> HistoryQuery:
    """The filters, page size and cursor, or :class:`BadRequest` naming every bad one.

    ``from`` and ``to`` are days in UTC, both included, compared with when the
    meeting was received. Other parameters are ignored.
    """
    read: dict[str, Any] = {}
    bad: dict[str, str] = {}
    for name, reader in _PARAMS.items():
        if (value := params.get(name)) is not None:
            try:
                read[name] = reader(value)
            except ValueError as exc:
                bad[name] = str(exc)
    first, last = read.get("from"), read.get("to")
    if first is not None and last is not None and last < first:
        bad["to"] = "must not be before 'from'"
    if bad:
        raise BadRequest(bad)
    query = HistoryQuery()
    query.limit = read.get("limit", DEFAULT_PAGE)
    query.client_id = read.get("client_id")
    query.status = read.get("status")
    query.after = read.get("cursor")
    if first is not None:
        query.since = datetime.combine(first, time(), UTC)
    if last is not None and last < date.max:
        query.before = datetime.combine(last + timedelta(days=1), time(), UTC)
    return query


def list_meetings(event: Mapping[str, Any], params: Mapping[str, str]) -> dict[str, Any]:
    """One page of the caller's meetings, newest first, and the cursor of the next."""
    query = parse_history_query(params)
    with transaction() as tx:
        user = _user(tx, event)
        # One more than the page: whether there is a next page, without counting.
        rows = repo.list_user_meetings(
            tx,
            user.id,
            limit=query.limit + 1,
            client_id=query.client_id,
            status=query.status,
            received_from=query.since,
            received_before=query.before,
            after=query.after,
        )
    page = rows[: query.limit]
    more = len(rows) > query.limit
    return {
        "meetings": [views.listed(row) for row in page],
        "next_cursor": views.write_cursor(page[-1].received_at, page[-1].id) if more else None,
    }


# --- GET /meetings/{id} -----------------------------------------------------------
def _link(bucket: str, key: str, version_id: str, ttl_s: int, now: datetime) -> dict[str, Any]:
    # An unversioned bucket's identity is "etag:<ETag>", not a version to ask for.
    version = "" if version_id.startswith("etag:") else version_id
    ref = s3.ObjectRef(bucket=bucket, key=key, version_id=version, size=None, etag=None)
    return {
        "url": s3.presigned_get(ref, expires_s=ttl_s),
        "expires_at": views.when(now + timedelta(seconds=ttl_s)),
    }


def downloads(meeting: Meeting, cfg: Settings, now: datetime) -> dict[str, Any]:
    """Short-lived links to the stored .docx and transcript and, while it is kept, the
    audio; null for what was never stored, has been purged, or has expired.

    The documents sit in the audio bucket under their own prefixes (the worker stored
    them with their file name as ``Content-Disposition``, so the link downloads them
    as a file).
    """
    ttl = cfg.download_url_ttl_s
    bucket = cfg.audio_bucket or meeting.s3_bucket
    if meeting.erased_at is not None:
        return {"docx": None, "transcript": None, "audio": None}
    docx = _link(bucket, meeting.docx_s3_key, "", ttl, now) if meeting.docx_s3_key else None
    transcript = (
        _link(bucket, meeting.transcript_s3_key, "", ttl, now)
        if meeting.transcript_s3_key and meeting.transcript_purged_at is None
        else None
    )
    audio_kept_until = meeting.received_at + timedelta(days=cfg.audio_retention_days)
    audio = (
        _link(meeting.s3_bucket, meeting.s3_key, meeting.s3_version_id, ttl, now)
        if audio_kept_until > now
        else None
    )
    return {"docx": docx, "transcript": transcript, "audio": audio}


def meeting_detail(
    event: Mapping[str, Any], meeting_id: str, *, settings: Settings | None = None
) -> dict[str, Any]:
    """One of the caller's meetings: its acta, timeline, costs and download links."""
    cfg = settings or get_settings()
    mid = _id(meeting_id, _NO_MEETING)
    with transaction() as tx:
        user = _user(tx, event)
        meeting = repo.get_user_meeting(tx, user.id, mid)
        if meeting is None:
            raise NotFound(_NO_MEETING)
        client = repo.get_user_client(tx, user.id, meeting.client_id) if meeting.client_id else None
        acta = repo.get_acta(tx, mid)
        events = repo.list_events(tx, mid)
        lines = repo.list_usage(tx, mid)
    return views.detail(
        meeting,
        client_name=client.name if client else None,
        acta=acta,
        events=events,
        lines=lines,
        downloads=downloads(meeting, cfg, datetime.now(UTC)),
    )


# --- POST /meetings/{id}/resend ---------------------------------------------------
def resend(event: Mapping[str, Any], meeting_id: str) -> dict[str, Any]:
    """Email the acta again, to the caller's verified address (never another)."""
    mid = _id(meeting_id, _NO_MEETING)
    caller = caller_from_event(event)
    with transaction() as tx:
        user = repo.user_for_caller(tx, caller)
        meeting = repo.get_user_meeting(tx, user.id, mid)
    if meeting is None:
        raise NotFound(_NO_MEETING)
    from voxcliente.pipeline.resend import request_resend

    delivery_id = request_resend(meeting, recipient=caller.verified_email)
    return {"delivery_id": str(delivery_id), "status": "queued"}


# --- DELETE /meetings/{id}, DELETE /me --------------------------------------------
def erase_meeting(event: Mapping[str, Any], meeting_id: str) -> dict[str, Any]:
    """Erase one of the caller's meetings (again: a no-op answering the same)."""
    mid = _id(meeting_id, _NO_MEETING)
    with transaction() as tx:
        user = _user(tx, event)
        meeting = repo.get_user_meeting(tx, user.id, mid, include_erased=True)
    if meeting is None:
        raise NotFound(_NO_MEETING)
    from voxcliente.pipeline import erasure

    outcome = erasure.erase_meeting(meeting.id, requested_by="user", actor_user_id=user.id)
    return {"erased": outcome.erased, "pending": list(outcome.pending)}


def erase_me(event: Mapping[str, Any]) -> dict[str, Any]:
    """Erase the caller's account and every meeting in it."""
    from voxcliente.pipeline import erasure

    with transaction() as tx:
        user = _user(tx, event)
    outcome = erasure.erase_user(user.id, requested_by="user", actor_user_id=user.id)
    return {
        "erased": outcome.erased,
        "meetings": outcome.meetings,
        "pending": list(outcome.pending),
    }


# --- GET /clients, PATCH /clients/{id} --------------------------------------------
def list_clients(event: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's clients by name, each with its meetings, actas, audio and cost."""
    with transaction() as tx:
        user = _user(tx, event)
        rows = repo.list_user_clients(tx, user.id)
    return {"clients": [views.client(row) for row in rows]}


def client_name(body: Any) -> str:
    """The new name from ``{"name": ...}``, trimmed, or :class:`BadRequest`: read as
    the upload's client name is (no control characters, at most 200 characters)."""
    if not isinstance(body, dict):
        raise BadRequest({"body": 'must be a JSON object like {"name": "Acme"}'})
    if body.get("name") is None:
        raise BadRequest({"name": "is required, as a string"})
    try:
        name = text_field(body["name"], max_length=CLIENT_NAME_MAX).strip()
    except ValueError as exc:
        raise BadRequest({"name": str(exc)}) from None
    if not name:
        raise BadRequest({"name": "must not be empty"})
    return name


def rename_client(event: Mapping[str, Any], client_id: str, body: Any) -> dict[str, Any]:
    """Rename one of the caller's clients; the answer is the client as listed."""
    cid = _id(client_id, _NO_CLIENT)
    name = client_name(body)
    with transaction() as tx:
        user = _user(tx, event)
        if repo.rename_client(tx, user.id, cid, name) is None:
            raise NotFound(_NO_CLIENT)
        summary = repo.client_summary(tx, user.id, cid)
    if summary is None:  # renamed in this transaction: it is there
        raise NotFound(_NO_CLIENT)
    return views.client(summary)
