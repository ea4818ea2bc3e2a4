"""The statement of a meeting's move (:func:`voxcliente.adapters.repository.transition`).

One conditional UPDATE that appends the move to ``meeting_events`` in the same
statement (and, for a move to ``emailed``, counts the user's acta). Its text
depends only on the move's shape, so it is composed once per shape and execution
environment: composing it (quoted names, clauses) cost the webhook more CPU per
request than psycopg's sending it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from voxcliente.adapters.db import Connection
from voxcliente.domain.models import MeetingStatus
from voxcliente.domain.moves import Move

# The timestamp column each status sets when a meeting enters it.
STAGE_COLUMN: dict[MeetingStatus, str] = {
    "received": "received_at",
    "submitted": "submitted_at",
    "transcribed": "transcribed_at",
    "generating": "generating_at",
    "emailed": "emailed_at",
    "failed": "failed_at",
}
# Columns a transition may set besides status and its stage timestamp.
_SETTABLE = frozenset(
    {
        "assemblyai_transcript_id",
        "audio_duration_s",
        "language",
        "error_code",
        "error_message",
        "submit_claimed_at",
    }
)


def moved_row(
    conn: Connection,
    key: UUID | str | None,
    move: Move,
    details: dict[str, Any] | None,
    extra: dict[str, Any],
    stale_after_s: int | None,
    by_tid: bool,
    *,
    whole: bool,
) -> dict[str, Any] | None:
    """The moved row (``whole``: every column; else its id), or None when the meeting
    was not in an expected state. ``key``: its id, or its transcript id (``by_tid``)."""
    event, expected, to = move
    unknown = set(extra) - _SETTABLE
    if unknown:
        raise ValueError(f"transition cannot set {sorted(unknown)}")
    if stale_after_s is not None and len(expected) != 1:
        raise ValueError("stale_after_s needs exactly one expected status")
    params: dict[str, Any] = {
        **extra,
        "id": key,
        "expected": list(expected),  # used only when several (one is in the text)
        "event": event,
        "details": Jsonb(details or {}),
        "stale": stale_after_s,
    }
    only = expected[0] if len(expected) == 1 else None
    shape = (to, only, tuple(extra), stale_after_s is not None, by_tid, whole)
    return conn.execute(_statement(*shape), params).fetchone()


@lru_cache(maxsize=64)
def _statement(
    to: MeetingStatus,
    only: MeetingStatus | None,
    sets: tuple[str, ...],
    stale: bool,
    by_tid: bool,
    whole: bool,
) -> bytes:
    """A :func:`transition`'s statement, composed once per shape and execution environment
    (composing it cost the webhook more CPU than psycopg's sending it). ``only``: the one
    status expected (None: several); ``stale``: whether that stage must be old; ``whole``:
    the moved row returned whole, or its id only."""
    part, name = sql.SQL, sql.Identifier
    # The statuses are in the text (fewer parameters for psycopg to adapt and the server
    # to type); the values that vary (the key, the details) are parameters.
    changes = [part("status = {}").format(sql.Literal(to))]
    changes += [part("{} = now()").format(name(STAGE_COLUMN[to]))]
    changes += [part("{} = {}").format(name(c), sql.Placeholder(c)) for c in sets]
    old = part(" AND m.{} < now() - make_interval(secs => %(stale)s)" if stale else "{}")
    older = old.format(name(STAGE_COLUMN[only]) if stale and only else part(""))
    # The user's count of actas follows the meeting's move to emailed (kept, not re-counted).
    counted = part(
        """,
        counted AS (
            UPDATE users u SET total_actas = u.total_actas + 1 FROM moved WHERE u.id = moved.user_id
        )"""
        if to == "emailed"
        else ""
    )
    key = name("assemblyai_transcript_id" if by_tid else "id")
    source: sql.Composable = part("WITH")
    if only is not None:  # The status it left is the one it was expected in: no lock read first.
        target = part("m.{} = %(id)s AND m.status = {}").format(key, sql.Literal(only))
        previous = part("{}::text").format(sql.Literal(only))
    else:
        source = part(
            "WITH before AS (SELECT id, status FROM meetings WHERE {} = %(id)s FOR UPDATE),"
        )
        source, previous = source.format(key), part("before.status").format()
        target = part("m.id = before.id AND m.status = ANY(%(expected)s)").format()
    # One statement: the change and its timeline row commit together (or neither).
    query = part(
        """
        {source} moved AS (
            UPDATE meetings m SET {sets}{joined}
            WHERE {target}{older}
            RETURNING {returned}, {previous} AS previous_status
        ),
        logged AS (
            INSERT INTO meeting_events (meeting_id, from_status, to_status, event, details)
            SELECT id, previous_status, status, %(event)s, %(details)s FROM moved
        ){counted}
        SELECT * FROM moved
        """
    )
    return query.format(
        source=source,
        sets=sql.SQL(", ").join(changes),
        joined=part("" if only else " FROM before"),
        target=target,
        older=older,
        previous=previous,
        counted=counted,
        returned=part("m.*" if whole else "m.id, m.status, m.user_id"),
    ).as_bytes()
