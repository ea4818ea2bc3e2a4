"""Meetings: one row per S3 object version, its state machine and its timeline.

All SQL of the project lives in this package, one module per aggregate.
Every change of status goes through :func:`transition`, one conditional
UPDATE (of two concurrent callers exactly one wins) that appends the change to
``meeting_events`` in the same statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from voxcliente.adapters.db import Connection
from voxcliente.adapters.repository._rows import fetch_all, fetch_optional, fetch_required
from voxcliente.adapters.repository._transition import moved_row
from voxcliente.domain import moves
from voxcliente.domain.models import ACTIVE_STATUSES, Meeting, MeetingEvent, MeetingStatus
from voxcliente.domain.moves import Move


def insert_meeting_once(
    conn: Connection,
    *,
    s3_bucket: str,
    s3_key: str,
    s3_version_id: str,
    original_filename: str,
    s3_etag: str | None = None,
    size_bytes: int | None = None,
    content_type: str | None = None,
    user_id: UUID | None = None,
    client_id: UUID | None = None,
    upload_id: UUID | None = None,
    recipient_email: str | None = None,
    meeting_date: date | None = None,
    language: str | None = None,
) -> tuple[Meeting, bool]:
    """The meeting of one object version, and whether this call created it."""
    values = {
        "s3_bucket": s3_bucket,
        "s3_key": s3_key,
        "s3_version_id": s3_version_id,
        "s3_etag": s3_etag,
        "size_bytes": size_bytes,
        "content_type": content_type,
        "original_filename": original_filename,
        "user_id": user_id,
        "client_id": client_id,
        "upload_id": upload_id,
        "recipient_email": recipient_email,
        "meeting_date": meeting_date,
        "language": language,
    }
    # The new row and its first timeline row in one statement.
    meeting = fetch_optional(
        conn,
        Meeting,
        """
        WITH created AS (
            INSERT INTO meetings (s3_bucket, s3_key, s3_version_id, s3_etag, size_bytes,
                                  content_type, original_filename, user_id, client_id,
                                  upload_id, recipient_email, meeting_date, language)
            VALUES (%(s3_bucket)s, %(s3_key)s, %(s3_version_id)s, %(s3_etag)s, %(size_bytes)s,
                    %(content_type)s, %(original_filename)s, %(user_id)s, %(client_id)s,
                    %(upload_id)s, %(recipient_email)s, %(meeting_date)s, %(language)s)
            ON CONFLICT (s3_bucket, s3_key, s3_version_id) DO NOTHING
            RETURNING *
        ),
        logged AS (
            INSERT INTO meeting_events (meeting_id, from_status, to_status, event, details)
            SELECT id, NULL, 'received', 'object_received', jsonb_build_object('key', s3_key)
            FROM created
        )
        SELECT * FROM created
        """,
        values,
    )
    if meeting is not None:
        return meeting, True
    existing = fetch_required(
        conn,
        Meeting,
        "SELECT * FROM meetings WHERE s3_bucket = %s AND s3_key = %s AND s3_version_id = %s",
        (s3_bucket, s3_key, s3_version_id),
    )
    return existing, False


def get_meeting(conn: Connection, meeting_id: UUID) -> Meeting | None:
    return fetch_optional(conn, Meeting, "SELECT * FROM meetings WHERE id = %s", (meeting_id,))


def get_meeting_by_transcript_id(conn: Connection, transcript_id: str) -> Meeting | None:
    query = "SELECT * FROM meetings WHERE assemblyai_transcript_id = %s"
    return fetch_optional(conn, Meeting, query, (transcript_id,))


def get_latest_meeting_for_upload(conn: Connection, upload_id: UUID) -> Meeting | None:
    query = "SELECT * FROM meetings WHERE upload_id = %s ORDER BY created_at DESC LIMIT 1"
    return fetch_optional(conn, Meeting, query, (upload_id,))


def claim_submission(conn: Connection, meeting_id: UUID, stale_after_s: int) -> bool:
    """Take the right to submit a received meeting; False if someone else holds it."""
    row = conn.execute(
        """
        UPDATE meetings SET submit_claimed_at = now(), submit_attempts = submit_attempts + 1
        WHERE id = %s AND status = 'received'
          AND (submit_claimed_at IS NULL
               OR submit_claimed_at < now() - make_interval(secs => %s))
        RETURNING id
        """,
        (meeting_id, stale_after_s),
    ).fetchone()
    return row is not None


def release_submission(conn: Connection, meeting_id: UUID) -> None:
    """Give the claim back (the submission failed in a way worth retrying)."""
    conn.execute(
        "UPDATE meetings SET submit_claimed_at = NULL WHERE id = %s AND status = 'received'",
        (meeting_id,),
    )


def transition(
    conn: Connection,
    meeting_id: UUID | None,
    move: Move,
    *,
    details: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
    stale_after_s: int | None = None,
    transcript_id: str | None = None,
) -> Meeting | None:
    """Make ``move`` (:mod:`voxcliente.domain.moves`) if the meeting is in one of
    its expected states; None otherwise. ``transcript_id`` instead of ``meeting_id``
    (None): the meeting of that AssemblyAI transcript, found in the same statement.

    One conditional UPDATE: of two concurrent callers exactly one wins. The
    winner's move is appended to ``meeting_events``. With ``stale_after_s``
    (one expected status only), only if that stage started longer ago than that.
    """
    by_tid = transcript_id is not None
    key = transcript_id if by_tid else meeting_id
    row = moved_row(conn, key, move, details, fields or {}, stale_after_s, by_tid, whole=True)
    return None if row is None else Meeting.model_validate(row)  # previous_status left out


def moved_by_transcript(
    conn: Connection, transcript_id: str, move: Move, *, details: dict[str, Any] | None = None
) -> UUID | None:
    """:func:`transition` of the meeting of an AssemblyAI transcript, answering only its
    id: the webhook's usual case, without a whole row of the meeting to send and read."""
    row = moved_row(conn, transcript_id, move, details, {}, None, True, whole=False)
    moved: UUID | None = None if row is None else row["id"]  # psycopg reads uuid as UUID
    return moved


def fail_meeting(
    conn: Connection,
    meeting_id: UUID,
    *,
    code: str,
    message: str,
    expected: Sequence[MeetingStatus] = ACTIVE_STATUSES,
    details: dict[str, Any] | None = None,
    stale_after_s: int | None = None,
) -> Meeting | None:
    """Mark a meeting failed with a code and a sentence a person understands.

    Prefer :func:`voxcliente.pipeline.lifecycle.fail`, which also queues the notice.
    """
    return transition(
        conn,
        meeting_id,
        moves.failed(code, expected),
        details={"message": message, **(details or {})},
        fields={"error_code": code, "error_message": message},
        stale_after_s=stale_after_s,
    )


def claim_generation(conn: Connection, meeting_id: UUID, stale_after_s: int) -> Meeting | None:
    """``transcribed -> generating``, or take over a ``generating`` claim older than the timeout.

    Every claim counts one attempt (``meetings.attempts``): the worker's bound. One
    statement: the claim, its attempt and its timeline row (``generation_started``,
    or ``generation_taken_over`` with the attempt) commit together; of two concurrent
    callers exactly one wins.
    """
    row = conn.execute(
        """
        WITH before AS (SELECT status FROM meetings WHERE id = %(id)s FOR UPDATE),
        claimed AS (
            UPDATE meetings m
            SET status = 'generating', generating_at = now(), attempts = m.attempts + 1
            FROM before
            WHERE m.id = %(id)s
              AND (m.status = ANY(%(expected)s)
                   OR (m.status = 'generating'
                       AND m.generating_at < now() - make_interval(secs => %(stale)s)))
            RETURNING m.*, before.status AS previous_status
        ),
        logged AS (
            INSERT INTO meeting_events (meeting_id, from_status, to_status, event, details)
            SELECT id, previous_status, 'generating',
                   CASE WHEN previous_status = 'generating' THEN 'generation_taken_over'
                        ELSE %(event)s END,
                   CASE WHEN previous_status = 'generating'
                        THEN jsonb_build_object('attempt', attempts)
                        ELSE '{}'::jsonb END
            FROM claimed
        )
        SELECT * FROM claimed
        """,
        {
            "id": meeting_id,
            "expected": list(moves.GENERATION_STARTED.expected),
            "event": moves.GENERATION_STARTED.event,
            "stale": stale_after_s,
        },
    ).fetchone()
    if row is None:
        return None
    row.pop("previous_status")
    return Meeting.model_validate(row)


# --- timeline ----------------------------------------------------------------------
def add_event(
    conn: Connection,
    meeting_id: UUID,
    from_status: MeetingStatus | None,
    to_status: MeetingStatus,
    event: str,
    details: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        "INSERT INTO meeting_events (meeting_id, from_status, to_status, event, details) "
        "VALUES (%(meeting_id)s, %(from_status)s, %(to_status)s, %(event)s, %(details)s)",
        {
            "meeting_id": meeting_id,
            "from_status": from_status,
            "to_status": to_status,
            "event": event,
            "details": Jsonb(details or {}),
        },
    )


def list_events(conn: Connection, meeting_id: UUID) -> list[MeetingEvent]:
    query = "SELECT * FROM meeting_events WHERE meeting_id = %s ORDER BY id"
    return fetch_all(conn, MeetingEvent, query, (meeting_id,))
