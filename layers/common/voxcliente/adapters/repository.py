"""Every SQL statement of the system, parameterised, one function each.

Functions take the connection (usually from :func:`voxcliente.adapters.db.transaction`)
as their first argument and return domain models. Column names that vary are
taken from allow-lists and quoted with :mod:`psycopg.sql`; values are always
bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from voxcliente.adapters.db import Connection
from voxcliente.domain.models import (
    ACTIVE_STATUSES,
    ActaRecord,
    Client,
    DeliveryStatus,
    EmailDelivery,
    EmailKind,
    Meeting,
    MeetingEvent,
    MeetingStatus,
    Provider,
    Transcript,
    Upload,
    UsageRecord,
    UsageUnit,
    User,
    Utterance,
)

_STAGE_COLUMN: dict[MeetingStatus, str] = {
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
_MICRO = Decimal("0.000001")


# --- users and clients ---------------------------------------------------------
def get_or_create_user(conn: Connection, email: str) -> User:
    row = conn.execute(
        """
        INSERT INTO users (email) VALUES (%s)
        ON CONFLICT ((lower(email))) DO UPDATE SET email = users.email
        RETURNING *
        """,
        (email.strip(),),
    ).fetchone()
    return User.model_validate(row)


def get_user_by_email(conn: Connection, email: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE lower(email) = lower(%s)", (email,)).fetchone()
    return User.model_validate(row) if row else None


def get_user(conn: Connection, user_id: UUID) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE id = %s", (user_id,)).fetchone()
    return User.model_validate(row) if row else None


def get_or_create_client(
    conn: Connection, user_id: UUID, name: str, industry: str | None = None
) -> Client:
    row = conn.execute(
        """
        INSERT INTO clients (user_id, name, industry) VALUES (%s, %s, %s)
        ON CONFLICT (user_id, (lower(name))) DO UPDATE SET name = clients.name
        RETURNING *
        """,
        (user_id, name.strip(), industry),
    ).fetchone()
    return Client.model_validate(row)


def get_client(conn: Connection, client_id: UUID) -> Client | None:
    row = conn.execute("SELECT * FROM clients WHERE id = %s", (client_id,)).fetchone()
    return Client.model_validate(row) if row else None


def suppress_email(conn: Connection, email: str, reason: str) -> None:
    """Stop sending to an address (hard bounce, complaint)."""
    conn.execute(
        """
        INSERT INTO users (email, email_suppressed_at, email_suppressed_reason)
        VALUES (%s, now(), %s)
        ON CONFLICT ((lower(email))) DO UPDATE
        SET email_suppressed_at = coalesce(users.email_suppressed_at, now()),
            email_suppressed_reason = EXCLUDED.email_suppressed_reason
        """,
        (email.strip(), reason),
    )


def is_suppressed(conn: Connection, email: str) -> bool:
    row = conn.execute(
        "SELECT email_suppressed_at IS NOT NULL AS suppressed FROM users "
        "WHERE lower(email) = lower(%s)",
        (email,),
    ).fetchone()
    return bool(row and row["suppressed"])


# --- uploads ---------------------------------------------------------------------
def create_upload(
    conn: Connection,
    *,
    upload_id: UUID,
    email: str,
    s3_key: str,
    original_filename: str,
    content_type: str,
    size_bytes: int,
    expires_at: datetime,
    client_name: str | None = None,
    meeting_date: date | None = None,
    language: str | None = None,
) -> Upload:
    row = conn.execute(
        """
        INSERT INTO uploads (id, email, s3_key, original_filename, content_type, size_bytes,
                             client_name, meeting_date, language, expires_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        RETURNING *
        """,
        (
            upload_id,
            email,
            s3_key,
            original_filename,
            content_type,
            size_bytes,
            client_name,
            meeting_date,
            language,
            expires_at,
        ),
    ).fetchone()
    return Upload.model_validate(row)


def get_upload(conn: Connection, upload_id: UUID) -> Upload | None:
    row = conn.execute("SELECT * FROM uploads WHERE id = %s", (upload_id,)).fetchone()
    return Upload.model_validate(row) if row else None


def get_upload_by_key(conn: Connection, s3_key: str) -> Upload | None:
    row = conn.execute("SELECT * FROM uploads WHERE s3_key = %s", (s3_key,)).fetchone()
    return Upload.model_validate(row) if row else None


# --- meetings --------------------------------------------------------------------
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
    row = conn.execute(
        """
        INSERT INTO meetings (s3_bucket, s3_key, s3_version_id, s3_etag, size_bytes,
                              content_type, original_filename, user_id, client_id, upload_id,
                              recipient_email, meeting_date, language)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (s3_bucket, s3_key, s3_version_id) DO NOTHING
        RETURNING *
        """,
        (
            s3_bucket,
            s3_key,
            s3_version_id,
            s3_etag,
            size_bytes,
            content_type,
            original_filename,
            user_id,
            client_id,
            upload_id,
            recipient_email,
            meeting_date,
            language,
        ),
    ).fetchone()
    if row is not None:
        meeting = Meeting.model_validate(row)
        add_event(conn, meeting.id, None, "received", "object_received", {"key": s3_key})
        return meeting, True
    existing = conn.execute(
        "SELECT * FROM meetings WHERE s3_bucket = %s AND s3_key = %s AND s3_version_id = %s",
        (s3_bucket, s3_key, s3_version_id),
    ).fetchone()
    return Meeting.model_validate(existing), False


def get_meeting(conn: Connection, meeting_id: UUID) -> Meeting | None:
    row = conn.execute("SELECT * FROM meetings WHERE id = %s", (meeting_id,)).fetchone()
    return Meeting.model_validate(row) if row else None


def get_meeting_by_transcript_id(conn: Connection, transcript_id: str) -> Meeting | None:
    row = conn.execute(
        "SELECT * FROM meetings WHERE assemblyai_transcript_id = %s", (transcript_id,)
    ).fetchone()
    return Meeting.model_validate(row) if row else None


def get_latest_meeting_for_upload(conn: Connection, upload_id: UUID) -> Meeting | None:
    row = conn.execute(
        "SELECT * FROM meetings WHERE upload_id = %s ORDER BY created_at DESC LIMIT 1",
        (upload_id,),
    ).fetchone()
    return Meeting.model_validate(row) if row else None


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


def find_received_unsubmitted(
    conn: Connection, *, unclaimed_after_s: int, claimed_after_s: int, limit: int = 100
) -> list[Meeting]:
    """``received`` meetings nobody is submitting: never claimed (or the claim was
    released) for ``unclaimed_after_s``, or claimed ``claimed_after_s`` ago and never
    recorded (the run died, perhaps after AssemblyAI accepted: its webhook had that
    long to adopt the transcript)."""
    rows = conn.execute(
        """
        SELECT * FROM meetings
        WHERE status = 'received'
          AND ((submit_claimed_at IS NULL
                AND created_at < now() - make_interval(secs => %s))
               OR submit_claimed_at < now() - make_interval(secs => %s))
        ORDER BY created_at
        LIMIT %s
        """,
        (unclaimed_after_s, claimed_after_s, limit),
    ).fetchall()
    return [Meeting.model_validate(r) for r in rows]


def release_submission(conn: Connection, meeting_id: UUID) -> None:
    """Give the claim back (the submission failed in a way worth retrying)."""
    conn.execute(
        "UPDATE meetings SET submit_claimed_at = NULL WHERE id = %s AND status = 'received'",
        (meeting_id,),
    )


def transition(
    conn: Connection,
    meeting_id: UUID,
    *,
    expected: Sequence[MeetingStatus],
    to: MeetingStatus,
    event: str,
    details: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
    stale_after_s: int | None = None,
) -> Meeting | None:
    """Move a meeting to ``to`` if it is in one of ``expected``; None otherwise.

    One conditional UPDATE: of two concurrent callers exactly one wins. The
    winner's transition is appended to ``meeting_events``. With ``stale_after_s``
    (one expected status only), only if that stage started longer ago than that.
    """
    extra = fields or {}
    unknown = set(extra) - _SETTABLE
    if unknown:
        raise ValueError(f"transition cannot set {sorted(unknown)}")
    assignments = [
        sql.SQL("status = %(to)s"),
        sql.SQL("{} = now()").format(sql.Identifier(_STAGE_COLUMN[to])),
    ]
    params: dict[str, Any] = {"to": to, "id": meeting_id, "expected": list(expected)}
    for column, value in extra.items():
        assignments.append(
            sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
        )
        params[column] = value
    stale: sql.Composable = sql.SQL("")
    if stale_after_s is not None:
        if len(expected) != 1:
            raise ValueError("stale_after_s needs exactly one expected status")
        stale = sql.SQL(" AND m.{} < now() - make_interval(secs => %(stale)s)").format(
            sql.Identifier(_STAGE_COLUMN[expected[0]])
        )
        params["stale"] = stale_after_s
    query = sql.SQL(
        """
        WITH before AS (SELECT status FROM meetings WHERE id = %(id)s FOR UPDATE)
        UPDATE meetings m SET {assignments}
        FROM before
        WHERE m.id = %(id)s AND m.status = ANY(%(expected)s){stale}
        RETURNING m.*, before.status AS previous_status
        """
    ).format(assignments=sql.SQL(", ").join(assignments), stale=stale)
    row = conn.execute(query, params).fetchone()
    if row is None:
        return None
    previous = row.pop("previous_status")
    add_event(conn, meeting_id, previous, to, event, details or {})
    return Meeting.model_validate(row)


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
        expected=expected,
        to="failed",
        event=code,
        details={"message": message, **(details or {})},
        fields={"error_code": code, "error_message": message},
        stale_after_s=stale_after_s,
    )


def claim_generation(conn: Connection, meeting_id: UUID, stale_after_s: int) -> Meeting | None:
    """``transcribed → generating``, or take over a ``generating`` claim older than the timeout.

    Every claim counts one attempt (``meetings.attempts``): the worker's bound.
    """
    meeting = transition(
        conn, meeting_id, expected=("transcribed",), to="generating", event="generation_started"
    )
    if meeting is None:
        taken = conn.execute(
            """
            UPDATE meetings SET generating_at = now()
            WHERE id = %s AND status = 'generating'
              AND generating_at < now() - make_interval(secs => %s)
            RETURNING id
            """,
            (meeting_id, stale_after_s),
        ).fetchone()
        if taken is None:
            return None
    row = conn.execute(
        "UPDATE meetings SET attempts = attempts + 1 WHERE id = %s RETURNING *", (meeting_id,)
    ).fetchone()
    claimed = Meeting.model_validate(row)
    if meeting is None:
        add_event(
            conn,
            meeting_id,
            "generating",
            "generating",
            "generation_taken_over",
            {"attempt": claimed.attempts},
        )
    return claimed


def find_meetings_waiting(
    conn: Connection, status: MeetingStatus, older_than_s: int, limit: int = 100
) -> list[Meeting]:
    """Meetings in ``status`` since longer than ``older_than_s`` (the reconciler's sweep)."""
    column = sql.Identifier(_STAGE_COLUMN[status])
    query = sql.SQL(
        "SELECT * FROM meetings WHERE status = %s AND {col} < now() - make_interval(secs => %s) "
        "ORDER BY {col} LIMIT %s"
    ).format(col=column)
    rows = conn.execute(query, (status, older_than_s, limit)).fetchall()
    return [Meeting.model_validate(r) for r in rows]


# --- timeline --------------------------------------------------------------------
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
        "VALUES (%s, %s, %s, %s, %s)",
        (meeting_id, from_status, to_status, event, Jsonb(details or {})),
    )


def list_events(conn: Connection, meeting_id: UUID) -> list[MeetingEvent]:
    rows = conn.execute(
        "SELECT * FROM meeting_events WHERE meeting_id = %s ORDER BY id", (meeting_id,)
    ).fetchall()
    return [MeetingEvent.model_validate(r) for r in rows]


# --- transcripts and actas ---------------------------------------------------------
def save_transcript(
    conn: Connection,
    meeting_id: UUID,
    *,
    text: str,
    utterances: Iterable[Utterance],
    language: str | None,
    confidence: float | None,
    audio_duration_s: float | None,
) -> Transcript:
    items = [u.model_dump() for u in utterances]
    row = conn.execute(
        """
        INSERT INTO transcripts (meeting_id, text, utterances, language, confidence,
                                 word_count, audio_duration_s)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (meeting_id) DO UPDATE
        SET text = EXCLUDED.text, utterances = EXCLUDED.utterances,
            language = EXCLUDED.language, confidence = EXCLUDED.confidence,
            word_count = EXCLUDED.word_count, audio_duration_s = EXCLUDED.audio_duration_s
        RETURNING *
        """,
        (
            meeting_id,
            text,
            Jsonb(items),
            language,
            confidence,
            len(text.split()),
            audio_duration_s,
        ),
    ).fetchone()
    conn.execute(
        "UPDATE meetings SET audio_duration_s = %s, language = coalesce(language, %s) "
        "WHERE id = %s",
        (audio_duration_s, language, meeting_id),
    )
    return Transcript.model_validate(row)


def get_transcript(conn: Connection, meeting_id: UUID) -> Transcript | None:
    row = conn.execute("SELECT * FROM transcripts WHERE meeting_id = %s", (meeting_id,)).fetchone()
    return Transcript.model_validate(row) if row else None


def save_acta(
    conn: Connection,
    meeting_id: UUID,
    *,
    content: dict[str, Any],
    language: str,
    model: str,
    input_tokens: int,
    output_tokens: int,
    parts: int,
    generation_ms: int,
) -> ActaRecord:
    row = conn.execute(
        """
        INSERT INTO actas (meeting_id, content, language, model, input_tokens, output_tokens,
                           parts, generation_ms)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (meeting_id) DO UPDATE
        SET content = EXCLUDED.content, language = EXCLUDED.language, model = EXCLUDED.model,
            input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,
            parts = EXCLUDED.parts, generation_ms = EXCLUDED.generation_ms
        RETURNING *
        """,
        (
            meeting_id,
            Jsonb(content),
            language,
            model,
            input_tokens,
            output_tokens,
            parts,
            generation_ms,
        ),
    ).fetchone()
    return ActaRecord.model_validate(row)


def get_acta(conn: Connection, meeting_id: UUID) -> ActaRecord | None:
    row = conn.execute("SELECT * FROM actas WHERE meeting_id = %s", (meeting_id,)).fetchone()
    return ActaRecord.model_validate(row) if row else None


# --- email deliveries ----------------------------------------------------------------
def claim_delivery(
    conn: Connection,
    *,
    meeting_id: UUID,
    user_id: UUID | None,
    recipient: str,
    kind: EmailKind,
) -> EmailDelivery | None:
    """Claim the one email of this kind for this meeting: ``pending -> sending``.

    Returns the claimed row (``status='sending'``, ``claimed_at=now()``, one more
    attempt) or None when someone else holds it or it already reached another
    state (see :func:`get_delivery`). One conditional upsert: of any number of
    concurrent callers exactly one wins.
    """
    row = conn.execute(
        """
        INSERT INTO email_deliveries (meeting_id, user_id, recipient, kind, status,
                                      claimed_at, attempts)
        VALUES (%s, %s, %s, %s, 'sending', now(), 1)
        ON CONFLICT (meeting_id, kind) WHERE meeting_id IS NOT NULL
        DO UPDATE SET status = 'sending', claimed_at = now(),
                      attempts = email_deliveries.attempts + 1
        WHERE email_deliveries.status = 'pending'
        RETURNING *
        """,
        (meeting_id, user_id, recipient, kind),
    ).fetchone()
    return EmailDelivery.model_validate(row) if row else None


def get_delivery(conn: Connection, meeting_id: UUID, kind: EmailKind) -> EmailDelivery | None:
    row = conn.execute(
        "SELECT * FROM email_deliveries WHERE meeting_id = %s AND kind = %s", (meeting_id, kind)
    ).fetchone()
    return EmailDelivery.model_validate(row) if row else None


def list_deliveries(conn: Connection, meeting_id: UUID) -> list[EmailDelivery]:
    """Every email of a meeting, oldest first (the demo's report reads them)."""
    rows = conn.execute(
        "SELECT * FROM email_deliveries WHERE meeting_id = %s ORDER BY created_at",
        (meeting_id,),
    ).fetchall()
    return [EmailDelivery.model_validate(r) for r in rows]


def take_over_stale_delivery(
    conn: Connection, delivery_id: UUID, stale_after_s: int
) -> EmailDelivery | None:
    """Lock a ``sending`` row claimed longer ago than ``stale_after_s`` for its decision.

    Returns it (the caller decides in the same transaction) or None when it is
    not stale, or someone else moved it meanwhile (``SKIP LOCKED``: one decider).
    """
    row = conn.execute(
        """
        SELECT * FROM email_deliveries
        WHERE id = %s AND status = 'sending'
          AND claimed_at < now() - make_interval(secs => %s)
        FOR UPDATE SKIP LOCKED
        """,
        (delivery_id, stale_after_s),
    ).fetchone()
    return EmailDelivery.model_validate(row) if row else None


def mark_delivery_sent(
    conn: Connection, delivery_id: UUID, ses_message_id: str | None, status: DeliveryStatus = "sent"
) -> EmailDelivery:
    """SES accepted the message: record its id. An SES event already recorded keeps its status."""
    row = conn.execute(
        """
        UPDATE email_deliveries
        SET ses_message_id = coalesce(ses_message_id, %s),
            status = CASE WHEN status IN ('pending', 'sending', 'failed') THEN %s
                          ELSE status END,
            sent_at = coalesce(sent_at, now())
        WHERE id = %s RETURNING *
        """,
        (ses_message_id, status, delivery_id),
    ).fetchone()
    return EmailDelivery.model_validate(row)


def release_delivery(conn: Connection, delivery_id: UUID, reason: str) -> None:
    """``sending -> pending``: SES answered that it did not accept the message."""
    conn.execute(
        """
        UPDATE email_deliveries
        SET status = 'pending', claimed_at = NULL,
            details = details || jsonb_build_object('last_error', %s::text)
        WHERE id = %s AND status = 'sending'
        """,
        (reason, delivery_id),
    )


def end_delivery_unsent(
    conn: Connection,
    delivery_id: UUID,
    status: DeliveryStatus,
    reason: str,
    note: str,
) -> EmailDelivery | None:
    """``pending | sending -> failed | suppressed``: this email will not be sent."""
    row = conn.execute(
        """
        UPDATE email_deliveries
        SET status = %s,
            details = details || jsonb_build_object('reason', %s::text, 'note', %s::text)
        WHERE id = %s AND status IN ('pending', 'sending')
        RETURNING *
        """,
        (status, reason, note, delivery_id),
    ).fetchone()
    return EmailDelivery.model_validate(row) if row else None


def record_unsent_delivery(
    conn: Connection,
    *,
    meeting_id: UUID,
    user_id: UUID | None,
    recipient: str,
    kind: EmailKind,
    status: DeliveryStatus,
    reason: str,
) -> None:
    """Record that this email is not sent (a suppressed address), unless a row exists."""
    conn.execute(
        """
        INSERT INTO email_deliveries (meeting_id, user_id, recipient, kind, status, details)
        VALUES (%s, %s, %s, %s, %s, jsonb_build_object('reason', %s::text))
        ON CONFLICT (meeting_id, kind) WHERE meeting_id IS NOT NULL DO NOTHING
        """,
        (meeting_id, user_id, recipient, kind, status, reason),
    )


def record_send_event(
    conn: Connection, meeting_id: UUID, kind: EmailKind, ses_message_id: str
) -> EmailDelivery | None:
    """SES's Send event for our tagged message: SES accepted it; record its id.

    Only a row that did not know it yet changes (``pending``/``sending``, or
    ``failed`` because its outcome was unknown); None otherwise.
    """
    row = conn.execute(
        """
        UPDATE email_deliveries
        SET ses_message_id = %s, status = 'sent', sent_at = coalesce(sent_at, now()),
            details = details || '{"send_event": true}'::jsonb
        WHERE meeting_id = %s AND kind = %s AND ses_message_id IS NULL
          AND (status IN ('pending', 'sending')
               OR (status = 'failed' AND details ->> 'reason' = 'outcome_unknown'))
        RETURNING *
        """,
        (ses_message_id, meeting_id, kind),
    ).fetchone()
    return EmailDelivery.model_validate(row) if row else None


def record_delivery_event(
    conn: Connection,
    ses_message_id: str,
    *,
    status: DeliveryStatus,
    details: dict[str, Any],
    bounce_type: str | None = None,
    bounce_subtype: str | None = None,
    complaint_type: str | None = None,
    meeting_id: UUID | None = None,
    kind: EmailKind | None = None,
) -> EmailDelivery | None:
    """Apply an SES event to the row of its message (or of its tags, if the id was lost).

    SNS does not keep order: a Delivery handled after a Bounce, Complaint or
    Reject records ``delivered_at`` but never hides the worse news.
    """
    row = conn.execute(
        """
        UPDATE email_deliveries
        SET status = CASE
                WHEN %(status)s = 'delivered'
                     AND status IN ('bounced', 'complained', 'rejected') THEN status
                ELSE %(status)s END,
            ses_message_id = coalesce(ses_message_id, %(mid)s),
            bounce_type = coalesce(%(bt)s, bounce_type),
            bounce_subtype = coalesce(%(bst)s, bounce_subtype),
            complaint_type = coalesce(%(ct)s, complaint_type),
            details = details || %(details)s,
            delivered_at = CASE WHEN %(status)s = 'delivered' THEN now() ELSE delivered_at END
        WHERE ses_message_id = %(mid)s
           OR (ses_message_id IS NULL AND meeting_id = %(meeting)s AND kind = %(kind)s)
        RETURNING *
        """,
        {
            "status": status,
            "mid": ses_message_id,
            "bt": bounce_type,
            "bst": bounce_subtype,
            "ct": complaint_type,
            "details": Jsonb(details),
            "meeting": meeting_id,
            "kind": kind,
        },
    ).fetchone()
    return EmailDelivery.model_validate(row) if row else None


# --- usage and costs -----------------------------------------------------------------
def add_usage(
    conn: Connection,
    *,
    meeting_id: UUID,
    user_id: UUID | None,
    provider: Provider,
    item: str,
    quantity: Decimal,
    unit: UsageUnit,
    unit_price_usd: Decimal,
) -> UsageRecord:
    """Record one usage line (idempotent per meeting, provider, item and unit)."""
    cost = (quantity * unit_price_usd).quantize(_MICRO, rounding=ROUND_HALF_UP)
    row = conn.execute(
        """
        INSERT INTO usage_records (meeting_id, user_id, provider, item, quantity, unit,
                                   unit_price_usd, cost_usd)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (meeting_id, provider, item, unit) DO UPDATE
        SET quantity = EXCLUDED.quantity, unit_price_usd = EXCLUDED.unit_price_usd,
            cost_usd = EXCLUDED.cost_usd
        RETURNING *
        """,
        (meeting_id, user_id, provider, item, quantity, unit, unit_price_usd, cost),
    ).fetchone()
    return UsageRecord.model_validate(row)


def list_usage(conn: Connection, meeting_id: UUID) -> list[UsageRecord]:
    rows = conn.execute(
        "SELECT * FROM usage_records WHERE meeting_id = %s ORDER BY created_at, provider, item",
        (meeting_id,),
    ).fetchall()
    return [UsageRecord.model_validate(r) for r in rows]


def refresh_costs(conn: Connection, meeting_id: UUID) -> Meeting:
    """Recompute the meeting's cost columns and its user's totals from the usage lines."""
    row = conn.execute(
        """
        WITH u AS (
            SELECT coalesce(sum(cost_usd) FILTER (WHERE provider = 'assemblyai'), 0) AS asr,
                   coalesce(sum(cost_usd) FILTER (WHERE provider = 'openai'), 0) AS llm,
                   coalesce(sum(cost_usd) FILTER (WHERE provider = 'ses'), 0) AS mail
            FROM usage_records WHERE meeting_id = %(id)s
        )
        UPDATE meetings m
        SET transcription_cost_usd = u.asr, llm_cost_usd = u.llm, email_cost_usd = u.mail,
            total_cost_usd = u.asr + u.llm + u.mail
        FROM u WHERE m.id = %(id)s
        RETURNING m.*
        """,
        {"id": meeting_id},
    ).fetchone()
    meeting = Meeting.model_validate(row)
    if meeting.user_id is not None:
        conn.execute(
            """
            UPDATE users SET
              total_cost_usd = (SELECT coalesce(sum(cost_usd), 0) FROM usage_records
                                WHERE user_id = %(uid)s),
              total_actas = (SELECT count(*) FROM meetings
                             WHERE user_id = %(uid)s AND status = 'emailed')
            WHERE id = %(uid)s
            """,
            {"uid": meeting.user_id},
        )
    return meeting


def user_cost_summary(conn: Connection, user_id: UUID) -> dict[str, Any] | None:
    return conn.execute("SELECT * FROM user_cost_summary WHERE user_id = %s", (user_id,)).fetchone()


def client_cost_summary(conn: Connection, client_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM client_cost_summary WHERE client_id = %s", (client_id,)
    ).fetchone()


def as_decimal(value: float | int | str) -> Decimal:
    return Decimal(str(value))


def find_failed_without_notice(
    conn: Connection, silent_codes: Sequence[str], limit: int = 100
) -> list[Meeting]:
    """Failed meetings in the last week with a recipient whose notice has no outcome yet.

    ``silent_codes``: the codes that never notify (``error_codes.SILENT_CODES``).
    A notice ``pending`` (SES said not now) or ``sending`` (perhaps abandoned) is
    looked at again; any other status is its end (sent and what followed,
    suppressed, failed).
    """
    rows = conn.execute(
        """
        SELECT m.* FROM meetings m
        WHERE m.status = 'failed'
          AND m.failed_at > now() - interval '7 days'
          AND m.recipient_email IS NOT NULL
          AND m.error_code <> ALL(%s)
          AND NOT EXISTS (SELECT 1 FROM email_deliveries d
                          WHERE d.meeting_id = m.id AND d.kind = 'failure'
                            AND d.status NOT IN ('pending', 'sending'))
          AND m.failed_at < now() - interval '10 minutes'
        ORDER BY m.failed_at
        LIMIT %s
        """,
        (list(silent_codes), limit),
    ).fetchall()
    return [Meeting.model_validate(r) for r in rows]
