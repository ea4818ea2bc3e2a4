"""Email deliveries: one row per meeting and kind of email (the acta, the failure
notice), and one per acta sent again on request (``resend``: several per meeting).

All SQL of the project lives in this package, one module per aggregate.
A row goes ``pending -> sending`` when a run claims it, then ``sent`` once SES
accepted the message, then follows SES's events (delivered, bounced,
complained, rejected); ``suppressed`` and ``failed`` end it unsent. The
conditional updates here are what keeps an email from being sent twice. The
acta and failure rows are claimed by (meeting, kind), the one-per-meeting
unique index; a resend row by its id.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from voxcliente.adapters.db import Connection
from voxcliente.adapters.repository._rows import fetch_all, fetch_optional, fetch_required
from voxcliente.domain.models import DeliveryStatus, EmailDelivery, EmailKind

_CLAIM = """
        INSERT INTO email_deliveries (meeting_id, user_id, recipient, kind, status,
                                      claimed_at, attempts)
        SELECT %(meeting_id)s, %(user_id)s, %(recipient)s, %(kind)s, 'sending', now(), 1
        WHERE NOT EXISTS (SELECT 1 FROM meetings
                          WHERE id = %(meeting_id)s AND erased_at IS NOT NULL)
        ON CONFLICT (meeting_id, kind) WHERE meeting_id IS NOT NULL AND kind IN ('acta', 'failure')
        DO UPDATE SET status = 'sending', claimed_at = now(),
                      attempts = email_deliveries.attempts + 1
        WHERE email_deliveries.status = 'pending'
        RETURNING *
        """

# The same claim, recording where the meeting's documents were stored: a data-modifying
# CTE runs whether or not the upsert claims, so the keys are there before any email.
_CLAIM_WITH_DOCUMENTS = (
    """
        WITH documents AS (
            UPDATE meetings SET docx_s3_key = %(docx_key)s,
                                transcript_s3_key = %(transcript_key)s
            WHERE id = %(meeting_id)s AND erased_at IS NULL
        )"""
    + _CLAIM
)


def claim_delivery(
    conn: Connection,
    *,
    meeting_id: UUID,
    user_id: UUID | None,
    recipient: str,
    kind: EmailKind,
    documents: tuple[str, str] | None = None,
) -> EmailDelivery | None:
    """Claim the one email of this kind for this meeting: ``pending -> sending``.

    Returns the claimed row (``status='sending'``, ``claimed_at=now()``, one more
    attempt) or None when someone else holds it or it already reached another
    state (see :func:`get_delivery`), or the meeting was erased (nothing is sent to
    an erased meeting's address). One conditional upsert: of any number of
    concurrent callers exactly one wins. ``documents``: the S3 keys of the
    meeting's stored .docx and transcript, recorded on the meeting by the same
    statement (whatever the claim's outcome), so no round trip is added.
    """
    params: dict[str, object] = {
        "meeting_id": meeting_id,
        "user_id": user_id,
        "recipient": recipient,
        "kind": kind,
    }
    query = _CLAIM
    if documents is not None:
        query = _CLAIM_WITH_DOCUMENTS
        params |= {"docx_key": documents[0], "transcript_key": documents[1]}
    return fetch_optional(conn, EmailDelivery, query, params)


def claim_delivery_row(conn: Connection, delivery_id: UUID) -> EmailDelivery | None:
    """Claim one delivery row by its id (a resend): ``pending -> sending``, or None when
    someone else holds it or it already reached another state."""
    return fetch_optional(
        conn,
        EmailDelivery,
        """
        UPDATE email_deliveries
        SET status = 'sending', claimed_at = now(), attempts = attempts + 1
        WHERE id = %s AND status = 'pending'
        RETURNING *
        """,
        (delivery_id,),
    )


def get_delivery_by_id(conn: Connection, delivery_id: UUID) -> EmailDelivery | None:
    query = "SELECT * FROM email_deliveries WHERE id = %s"
    return fetch_optional(conn, EmailDelivery, query, (delivery_id,))


def get_delivery(conn: Connection, meeting_id: UUID, kind: EmailKind) -> EmailDelivery | None:
    query = "SELECT * FROM email_deliveries WHERE meeting_id = %s AND kind = %s"
    return fetch_optional(conn, EmailDelivery, query, (meeting_id, kind))


def list_deliveries(conn: Connection, meeting_id: UUID) -> list[EmailDelivery]:
    """Every email of a meeting, oldest first (the demo's report reads them)."""
    query = "SELECT * FROM email_deliveries WHERE meeting_id = %s ORDER BY created_at"
    return fetch_all(conn, EmailDelivery, query, (meeting_id,))


def take_over_stale_delivery(
    conn: Connection, delivery_id: UUID, stale_after_s: int
) -> EmailDelivery | None:
    """Lock a ``sending`` row claimed longer ago than ``stale_after_s`` for its decision.

    Returns it (the caller decides in the same transaction) or None when it is
    not stale, or someone else moved it meanwhile (``SKIP LOCKED``: one decider).
    """
    return fetch_optional(
        conn,
        EmailDelivery,
        """
        SELECT * FROM email_deliveries
        WHERE id = %s AND status = 'sending'
          AND claimed_at < now() - make_interval(secs => %s)
        FOR UPDATE SKIP LOCKED
        """,
        (delivery_id, stale_after_s),
    )


def mark_delivery_sent(
    conn: Connection, delivery_id: UUID, ses_message_id: str | None, status: DeliveryStatus = "sent"
) -> EmailDelivery:
    """SES accepted the message: record its id. An SES event already recorded keeps its status."""
    return fetch_required(
        conn,
        EmailDelivery,
        """
        UPDATE email_deliveries
        SET ses_message_id = coalesce(ses_message_id, %s),
            status = CASE WHEN status IN ('pending', 'sending', 'failed') THEN %s
                          ELSE status END,
            sent_at = coalesce(sent_at, now())
        WHERE id = %s RETURNING *
        """,
        (ses_message_id, status, delivery_id),
    )


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
    return fetch_optional(
        conn,
        EmailDelivery,
        """
        UPDATE email_deliveries
        SET status = %s,
            details = details || jsonb_build_object('reason', %s::text, 'note', %s::text)
        WHERE id = %s AND status IN ('pending', 'sending')
        RETURNING *
        """,
        (status, reason, note, delivery_id),
    )


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
        VALUES (%(meeting_id)s, %(user_id)s, %(recipient)s, %(kind)s, %(status)s,
                jsonb_build_object('reason', %(reason)s::text))
        ON CONFLICT (meeting_id, kind) WHERE meeting_id IS NOT NULL AND kind IN ('acta', 'failure')
        DO NOTHING
        """,
        {
            "meeting_id": meeting_id,
            "user_id": user_id,
            "recipient": recipient,
            "kind": kind,
            "status": status,
            "reason": reason,
        },
    )


def record_send_event(
    conn: Connection, meeting_id: UUID, kind: EmailKind, ses_message_id: str
) -> EmailDelivery | None:
    """SES's Send event for our tagged message: SES accepted it; record its id.

    Only a row that did not know it yet changes (``pending``/``sending``, or
    ``failed`` because its outcome was unknown); None otherwise.
    """
    return fetch_optional(
        conn,
        EmailDelivery,
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
    )


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
    return fetch_optional(
        conn,
        EmailDelivery,
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
    )
