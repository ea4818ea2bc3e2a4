"""Erasure and retention: the audit rows, and the statements that erase personal data.

All SQL of the project lives in this package, one module per aggregate.
An erased meeting keeps its row (status, timestamps, costs) and its usage lines,
so that every total still adds up; what identifies a person or repeats what was
said (address, file name, the object key that holds the address, transcript,
acta, email details, event details) is deleted or blanked. The erasure row is
the audit record: what, who asked, when, and what is left to erase outside
PostgreSQL (``pending``), emptied once done.

Every query here is served by an index of migration 0005 (named next to it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from voxcliente.adapters.db import Connection
from voxcliente.adapters.repository._rows import fetch_all, fetch_optional, fetch_required
from voxcliente.domain.models import Meeting, UpdatableRecord

Subject = Literal["meeting", "user", "transcript"]
RequestedBy = Literal["user", "operator", "retention"]


class Erasure(UpdatableRecord):
    subject: Subject
    subject_id: UUID
    requested_by: RequestedBy
    actor_user_id: UUID | None = None
    status: Literal["pending", "done"]
    # {"s3": [[bucket, key], ...], "assemblyai": [transcript id, ...], "meetings": [id, ...]}
    pending: dict[str, Any]
    attempts: int = 0
    last_error: str | None = None
    completed_at: datetime | None = None


# --- the audit rows ----------------------------------------------------------------------
def start_erasure(
    conn: Connection,
    *,
    subject: Subject,
    subject_id: UUID,
    requested_by: RequestedBy,
    actor_user_id: UUID | None,
) -> tuple[Erasure, bool]:
    """The erasure row of ``subject_id``, locked, and whether this call created it.

    The unique (subject, subject_id) index makes a second request find the first
    one's row (erasures_subject_key): a concurrent one waits for the first to commit.
    """
    created = fetch_optional(
        conn,
        Erasure,
        """
        INSERT INTO erasures (subject, subject_id, requested_by, actor_user_id)
        VALUES (%s, %s, %s, %s)
        ON CONFLICT (subject, subject_id) DO NOTHING
        RETURNING *
        """,
        (subject, subject_id, requested_by, actor_user_id),
    )
    if created is not None:
        return created, True
    return lock_erasure(conn, subject, subject_id), False


def lock_erasure(conn: Connection, subject: Subject, subject_id: UUID) -> Erasure:
    return fetch_required(
        conn,
        Erasure,
        "SELECT * FROM erasures WHERE subject = %s AND subject_id = %s FOR UPDATE",
        (subject, subject_id),
    )


def get_erasure(conn: Connection, subject: Subject, subject_id: UUID) -> Erasure | None:
    return fetch_optional(
        conn,
        Erasure,
        "SELECT * FROM erasures WHERE subject = %s AND subject_id = %s",
        (subject, subject_id),
    )


def save_pending(conn: Connection, erasure_id: UUID, pending: dict[str, Any]) -> Erasure:
    """What is left to erase outside PostgreSQL; nothing left: the row is done, and
    ``pending`` (which held object keys, themselves personal) is emptied."""
    left = {kind: items for kind, items in pending.items() if items}
    return fetch_required(
        conn,
        Erasure,
        """
        UPDATE erasures
        SET pending = %(pending)s::jsonb,
            status = CASE WHEN %(pending)s::jsonb = '{}' THEN 'done' ELSE 'pending' END,
            completed_at = CASE WHEN %(pending)s::jsonb = '{}' THEN now() END,
            last_error = CASE WHEN %(pending)s::jsonb = '{}' THEN NULL ELSE last_error END
        WHERE id = %(id)s
        RETURNING *
        """,
        {"id": erasure_id, "pending": _json(left)},
    )


def record_failure(conn: Connection, erasure_id: UUID, error: str) -> None:
    """One more attempt that left something pending, and why (class and status only)."""
    conn.execute(
        "UPDATE erasures SET attempts = attempts + 1, last_error = %s WHERE id = %s",
        (error[:200], erasure_id),
    )


def find_pending_erasures(conn: Connection, limit: int) -> list[Erasure]:
    """Erasures a failure left unfinished, least recently tried first
    (erasures_pending_sweep_idx)."""
    return fetch_all(
        conn,
        Erasure,
        "SELECT * FROM erasures WHERE status = 'pending' ORDER BY updated_at LIMIT %s",
        (limit,),
    )


def unfinished_meeting_erasures(conn: Connection, meeting_ids: list[UUID]) -> list[UUID]:
    """Which of these meetings' erasures are not done yet (erasures_subject_key)."""
    rows = conn.execute(
        "SELECT subject_id FROM erasures WHERE subject = 'meeting' "
        "AND subject_id = ANY(%s) AND status = 'pending'",
        (meeting_ids,),
    ).fetchall()
    return [row["subject_id"] for row in rows]


# --- erasing a meeting ---------------------------------------------------------------------
def lock_meeting(conn: Connection, meeting_id: UUID) -> Meeting | None:
    return fetch_optional(
        conn, Meeting, "SELECT * FROM meetings WHERE id = %s FOR UPDATE", (meeting_id,)
    )


def erase_meeting_rows(conn: Connection, meeting_id: UUID, *, stop_code: str) -> None:
    """Erase the meeting's personal data in PostgreSQL (the caller's transaction).

    Deleted: its transcript and acta rows and the upload row it came from. Blanked:
    the recipient and details of its emails, the details of its timeline, and on
    the meeting the address, the file name, the object key (an inbox key holds the
    address; ``erased/<id>`` keeps the unique key unique), the error text (its code
    stays) and the stored documents' keys. A meeting still in the pipeline is
    stopped as failed with ``stop_code``, so that no later step (the webhook, the
    worker) writes a transcript or sends an acta for it; its status is otherwise
    kept, with its timestamps, costs and usage lines.
    """
    conn.execute("DELETE FROM transcripts WHERE meeting_id = %s", (meeting_id,))
    conn.execute("DELETE FROM actas WHERE meeting_id = %s", (meeting_id,))
    conn.execute(
        "UPDATE email_deliveries SET recipient = NULL, details = '{}' WHERE meeting_id = %s",
        (meeting_id,),
    )
    conn.execute("UPDATE meeting_events SET details = '{}' WHERE meeting_id = %s", (meeting_id,))
    upload = conn.execute(
        """
        UPDATE meetings
        SET recipient_email = NULL,
            original_filename = '',
            s3_key = 'erased/' || id::text,
            error_message = NULL,
            docx_s3_key = NULL,
            transcript_s3_key = NULL,
            transcript_purged_at = coalesce(transcript_purged_at, now()),
            erased_at = now(),
            status = CASE WHEN status IN ('emailed', 'failed') THEN status ELSE 'failed' END,
            error_code = CASE WHEN status IN ('emailed', 'failed') THEN error_code
                              ELSE %(stop_code)s END,
            failed_at = CASE WHEN status IN ('emailed', 'failed') THEN failed_at ELSE now() END
        WHERE id = %(id)s
        RETURNING upload_id
        """,
        {"id": meeting_id, "stop_code": stop_code},
    ).fetchone()
    if upload is not None and upload["upload_id"] is not None:
        # meetings.upload_id is ON DELETE SET NULL.
        conn.execute("DELETE FROM uploads WHERE id = %s", (upload["upload_id"],))


def mark_provider_transcript_deleted(conn: Connection, transcript_ids: list[str]) -> None:
    """AssemblyAI no longer holds these transcripts (meetings' unique transcript id)."""
    conn.execute(
        "UPDATE meetings SET provider_transcript_deleted_at = now() "
        "WHERE assemblyai_transcript_id = ANY(%s) AND provider_transcript_deleted_at IS NULL",
        (transcript_ids,),
    )


# --- erasing a person ----------------------------------------------------------------------
def meeting_ids_of_user(conn: Connection, user_id: UUID) -> list[UUID]:
    """Every meeting of the user not yet erased (meetings_user_history_idx)."""
    rows = conn.execute(
        "SELECT id FROM meetings WHERE user_id = %s AND erased_at IS NULL "
        "ORDER BY received_at DESC, id DESC",
        (user_id,),
    ).fetchall()
    return [row["id"] for row in rows]


def lock_user_email(conn: Connection, user_id: UUID) -> str | None:
    row = conn.execute("SELECT email FROM users WHERE id = %s FOR UPDATE", (user_id,)).fetchone()
    return None if row is None else str(row["email"])


def forget_address_rows(conn: Connection, email: str) -> int:
    """What names an address outside any account and meeting: uploads whose file
    never came, trial confirmations, and the recipient of emails sent with no
    meeting (confirmation codes). How many rows changed."""
    params = {"email": email.strip()}
    changed = 0
    for statement in (
        "DELETE FROM uploads u WHERE lower(u.email) = lower(%(email)s) "
        "AND NOT EXISTS (SELECT 1 FROM meetings m WHERE m.upload_id = u.id)",
        "DELETE FROM email_confirmations WHERE lower(email) = lower(%(email)s)",
        "UPDATE email_deliveries SET recipient = NULL, details = '{}' "
        "WHERE meeting_id IS NULL AND lower(recipient) = lower(%(email)s)",
    ):
        changed += conn.execute(statement, params).rowcount
    return changed


def delete_user_rows(conn: Connection, user_id: UUID, email: str) -> None:
    """The person's own rows, once their meetings are erased: uploads and trial
    confirmations by id or address, the emails to the address with no meeting
    (confirmation codes) blanked, then the users row (its clients cascade; meetings,
    usage lines and emails keep no owner: ON DELETE SET NULL)."""
    params = {"user_id": user_id, "email": email}
    conn.execute(
        "DELETE FROM uploads WHERE user_id = %(user_id)s OR lower(email) = lower(%(email)s)",
        params,
    )
    conn.execute(
        "DELETE FROM email_confirmations WHERE lower(email) = lower(%(email)s)",
        params,
    )
    conn.execute(
        "UPDATE email_deliveries SET recipient = NULL, details = '{}' "
        "WHERE user_id = %(user_id)s OR lower(recipient) = lower(%(email)s)",
        params,
    )
    conn.execute("DELETE FROM users WHERE id = %(user_id)s", params)


def user_id_by_email(conn: Connection, email: str) -> UUID | None:
    row = conn.execute(
        "SELECT id FROM users WHERE lower(email) = lower(%s)", (email.strip(),)
    ).fetchone()
    return None if row is None else row["id"]


# --- retention -------------------------------------------------------------------------------
def meetings_past_retention(conn: Connection, before: datetime, limit: int) -> list[UUID]:
    """Meetings received before ``before`` and not erased (meetings_retention_idx)."""
    rows = conn.execute(
        "SELECT id FROM meetings WHERE erased_at IS NULL AND received_at < %s "
        "ORDER BY received_at LIMIT %s",
        (before, limit),
    ).fetchall()
    return [row["id"] for row in rows]


def transcripts_past_retention(conn: Connection, before: datetime, limit: int) -> list[Meeting]:
    """Meetings received before ``before`` whose transcript is still kept
    (meetings_transcript_retention_idx)."""
    return fetch_all(
        conn,
        Meeting,
        "SELECT * FROM meetings WHERE transcript_purged_at IS NULL AND erased_at IS NULL "
        "AND received_at < %s ORDER BY received_at LIMIT %s FOR UPDATE SKIP LOCKED",
        (before, limit),
    )


def purge_transcript_rows(conn: Connection, meeting_id: UUID) -> None:
    """The transcript row deleted and its stored document forgotten; the acta stays."""
    conn.execute("DELETE FROM transcripts WHERE meeting_id = %s", (meeting_id,))
    conn.execute(
        "UPDATE meetings SET transcript_purged_at = now(), transcript_s3_key = NULL WHERE id = %s",
        (meeting_id,),
    )


def delete_confirmations_before(conn: Connection, before: datetime, limit: int) -> int:
    """Trial confirmations created before ``before`` (email_confirmations_created_idx)."""
    cursor = conn.execute(
        "DELETE FROM email_confirmations WHERE id IN "
        "(SELECT id FROM email_confirmations WHERE created_at < %s ORDER BY created_at LIMIT %s)",
        (before, limit),
    )
    return cursor.rowcount


def forget_confirmation_emails_before(conn: Connection, before: datetime, limit: int) -> int:
    """Blank the recipient of confirmation-code emails sent before ``before``
    (email_deliveries_confirmation_purge_idx)."""
    cursor = conn.execute(
        "UPDATE email_deliveries SET recipient = NULL, details = '{}' WHERE id IN "
        "(SELECT id FROM email_deliveries WHERE kind = 'confirmation' "
        "AND recipient IS NOT NULL AND created_at < %s ORDER BY created_at LIMIT %s)",
        (before, limit),
    )
    return cursor.rowcount


def delete_abandoned_uploads_before(conn: Connection, before: datetime, limit: int) -> int:
    """Uploads whose presigned POST expired before ``before`` and whose file never
    became a meeting (uploads_expires_at_idx, meetings_upload_id_idx)."""
    cursor = conn.execute(
        "DELETE FROM uploads WHERE id IN (SELECT u.id FROM uploads u WHERE u.expires_at < %s "
        "AND NOT EXISTS (SELECT 1 FROM meetings m WHERE m.upload_id = u.id) "
        "ORDER BY u.expires_at LIMIT %s)",
        (before, limit),
    )
    return cursor.rowcount


# --- the provider's copy -------------------------------------------------------------------
def provider_transcripts_to_delete(
    conn: Connection, emailed_before: datetime, limit: int
) -> list[Meeting]:
    """Emailed meetings whose transcript AssemblyAI still holds, emailed before
    ``emailed_before`` (meetings_provider_delete_sweep_idx)."""
    return fetch_all(
        conn,
        Meeting,
        """
        SELECT * FROM meetings
        WHERE status = 'emailed' AND provider_transcript_deleted_at IS NULL
          AND assemblyai_transcript_id IS NOT NULL AND emailed_at < %s
          AND erased_at IS NULL
        ORDER BY emailed_at
        LIMIT %s
        """,
        (emailed_before, limit),
    )


def _json(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)
