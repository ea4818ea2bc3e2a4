"""A signed-in person's history: their meetings, clients and totals, never anyone else's.

All SQL of the project lives in this package, one module per aggregate.
Every statement here is scoped by the caller's ``user_id``: a meeting or client
of another person is simply not found (the API answers 404, as for an id that
never existed), and no list or total counts their rows.

Lists are newest first by ``(received_at, id)`` and paginated by keyset (the
last row's pair, never an OFFSET): a page costs the same at the thousandth
meeting as at the first, and rows received meanwhile neither repeat nor shift
a page. ``meetings_user_history_idx`` (user_id, received_at DESC, id DESC) serves
the plain list and the totals, ``meetings_client_history_idx`` the list of one
client; filters are composed in only when given, their values always bound.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import errors, sql

from voxcliente.adapters.db import Connection
from voxcliente.adapters.repository._rows import fetch_all, fetch_optional, fetch_required
from voxcliente.domain.errors import Conflict
from voxcliente.domain.models import Client, Meeting, MeetingStatus, Row


class HistoryMeeting(Row):
    """One line of ``GET /meetings``: the meeting with its client's name and acta title."""

    id: UUID
    status: MeetingStatus
    original_filename: str
    title: str | None = None
    client_id: UUID | None = None
    client_name: str | None = None
    meeting_date: date | None = None
    received_at: datetime
    emailed_at: datetime | None = None
    audio_duration_s: Decimal | None = None
    total_cost_usd: Decimal
    erased_at: datetime | None = None


class UserTotals(Row):
    """What ``GET /me`` sums over the caller's meetings."""

    meetings: int
    actas: int
    audio_seconds: Decimal
    cost_usd: Decimal
    month_audio_seconds: Decimal


class ClientSummary(Row):
    """One line of ``GET /clients``: the client and what its meetings add up to."""

    id: UUID
    name: str
    meetings: int
    actas: int
    audio_seconds: Decimal
    cost_usd: Decimal
    last_meeting_at: datetime | None = None


_LIST_COLUMNS = sql.SQL(
    """
    SELECT m.id, m.status, m.original_filename, a.content ->> 'title' AS title,
           m.client_id, c.name AS client_name, m.meeting_date, m.received_at, m.emailed_at,
           m.audio_duration_s, m.total_cost_usd, m.erased_at
    FROM meetings m
    LEFT JOIN clients c ON c.id = m.client_id
    LEFT JOIN actas a ON a.meeting_id = m.id
    """
)


def list_user_meetings(
    conn: Connection,
    user_id: UUID,
    *,
    limit: int,
    client_id: UUID | None = None,
    status: MeetingStatus | None = None,
    received_from: datetime | None = None,
    received_before: datetime | None = None,
    after: tuple[datetime, UUID] | None = None,
) -> list[HistoryMeeting]:
    """The user's meetings still held (not erased), newest first, at most ``limit``.

    ``after``: the ``(received_at, id)`` of the previous page's last row; the page
    starts strictly after it in the order. ``received_from`` is inclusive,
    ``received_before`` exclusive.
    """
    where = [sql.SQL("m.user_id = %(user)s"), sql.SQL("m.erased_at IS NULL")]
    params: dict[str, Any] = {"user": user_id, "limit": limit}
    if client_id is not None:
        where.append(sql.SQL("m.client_id = %(client)s"))
        params["client"] = client_id
    if status is not None:
        where.append(sql.SQL("m.status = %(status)s"))
        params["status"] = status
    if received_from is not None:
        where.append(sql.SQL("m.received_at >= %(from)s"))
        params["from"] = received_from
    if received_before is not None:
        where.append(sql.SQL("m.received_at < %(before)s"))
        params["before"] = received_before
    if after is not None:
        # A row comparison, which the (received_at DESC, id DESC) index reads as one range.
        where.append(sql.SQL("(m.received_at, m.id) < (%(after_at)s, %(after_id)s)"))
        params["after_at"], params["after_id"] = after
    query = sql.SQL(
        "{columns} WHERE {where} ORDER BY m.received_at DESC, m.id DESC LIMIT %(limit)s"
    ).format(columns=_LIST_COLUMNS, where=sql.SQL(" AND ").join(where))
    return fetch_all(conn, HistoryMeeting, query, params)


def user_totals(conn: Connection, user_id: UUID, month_start: datetime) -> UserTotals:
    """The user's meetings and emailed actas still held, their audio and cost, and the
    audio received since ``month_start`` (the quota's month: erased meetings count,
    an erasure does not give minutes back)."""
    return fetch_required(
        conn,
        UserTotals,
        """
        SELECT count(*) FILTER (WHERE erased_at IS NULL) AS meetings,
               count(*) FILTER (WHERE erased_at IS NULL AND status = 'emailed') AS actas,
               coalesce(sum(audio_duration_s) FILTER (WHERE erased_at IS NULL), 0)
                   AS audio_seconds,
               coalesce(sum(total_cost_usd) FILTER (WHERE erased_at IS NULL), 0) AS cost_usd,
               coalesce(sum(audio_duration_s) FILTER (WHERE received_at >= %(month)s), 0)
                   AS month_audio_seconds
        FROM meetings WHERE user_id = %(user)s
        """,
        {"user": user_id, "month": month_start},
    )


def get_user_meeting(
    conn: Connection, user_id: UUID, meeting_id: UUID, *, include_erased: bool = False
) -> Meeting | None:
    """The meeting when it is the user's (and, unless asked, not erased); else None."""
    query = (
        "SELECT * FROM meetings WHERE id = %s AND user_id = %s"
        if include_erased
        else "SELECT * FROM meetings WHERE id = %s AND user_id = %s AND erased_at IS NULL"
    )
    return fetch_optional(conn, Meeting, query, (meeting_id, user_id))


def get_user_client(conn: Connection, user_id: UUID, client_id: UUID) -> Client | None:
    """The client when it is the user's; else None."""
    return fetch_optional(
        conn, Client, "SELECT * FROM clients WHERE id = %s AND user_id = %s", (client_id, user_id)
    )


_CLIENT_SUMMARY = """
    SELECT c.id, c.name,
           count(m.id) AS meetings,
           count(m.id) FILTER (WHERE m.status = 'emailed') AS actas,
           coalesce(sum(m.audio_duration_s), 0) AS audio_seconds,
           coalesce(sum(m.total_cost_usd), 0) AS cost_usd,
           max(m.received_at) AS last_meeting_at
    FROM clients c
    LEFT JOIN meetings m ON m.client_id = c.id AND m.user_id = c.user_id AND m.erased_at IS NULL
"""


def list_user_clients(conn: Connection, user_id: UUID) -> list[ClientSummary]:
    """The user's clients by name, each with its meetings still held added up
    (``clients_user_name_lower_key`` finds them, ``meetings_client_history_idx`` their meetings)."""
    query = _CLIENT_SUMMARY + " WHERE c.user_id = %s GROUP BY c.id ORDER BY lower(c.name), c.id"
    return fetch_all(conn, ClientSummary, query, (user_id,))


def client_summary(conn: Connection, user_id: UUID, client_id: UUID) -> ClientSummary | None:
    """One of the user's clients added up as :func:`list_user_clients` does; None if not theirs."""
    query = _CLIENT_SUMMARY + " WHERE c.id = %s AND c.user_id = %s GROUP BY c.id"
    return fetch_optional(conn, ClientSummary, query, (client_id, user_id))


def rename_client(conn: Connection, user_id: UUID, client_id: UUID, name: str) -> Client | None:
    """Rename one of the user's clients; None if it is not theirs.

    Names are unique per user whatever their case (``clients_user_name_lower_key``):
    a name another of their clients has is :class:`Conflict` ``name_taken``. The
    check runs before the UPDATE so that the usual case leaves the transaction
    usable; the unique index still decides a race.
    """
    taken = conn.execute(
        "SELECT name FROM clients WHERE user_id = %s AND lower(name) = lower(%s) AND id <> %s",
        (user_id, name, client_id),
    ).fetchone()
    if taken is not None:
        raise _name_taken(str(taken["name"]))
    try:
        return fetch_optional(
            conn,
            Client,
            "UPDATE clients SET name = %s WHERE id = %s AND user_id = %s RETURNING *",
            (name, client_id, user_id),
        )
    except errors.UniqueViolation as exc:
        raise _name_taken(name) from exc


def _name_taken(existing: str) -> Conflict:
    return Conflict(
        f"You already have a client named {existing!r}: choose another name, "
        "or keep using that client.",
        code="name_taken",
    )
