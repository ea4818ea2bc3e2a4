"""Trial mode's one-time codes: an address confirmed before a presigned POST is handed out.

All SQL of the project lives in this package, one module per aggregate.
Only a hash of each code is kept (see :mod:`voxcliente.pipeline.trial`). The
daily limits count a rolling day's rows by address (``lower(email)``) and by
source IP, each under its own transaction-scoped advisory lock so that two
requests at the same moment cannot both take the last place.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from voxcliente.adapters.db import Connection
from voxcliente.adapters.repository._rows import fetch_optional, fetch_required
from voxcliente.domain.models import UpdatableRecord


class EmailConfirmation(UpdatableRecord):
    email: str
    code_hash: str
    source_ip: str | None = None
    attempts: int = 0
    expires_at: datetime
    confirmed_at: datetime | None = None
    used_at: datetime | None = None


def lock_trial_limits(conn: Connection, email: str, source_ip: str | None) -> None:
    """Serialise the limit checks of one address and one source IP until the transaction
    ends. Always the address first, then the IP: no two requests wait on each other
    in opposite orders."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('trial-address:' || lower(%s), 0))",
        (email,),
    )
    if source_ip:
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('trial-ip:' || %s, 0))", (source_ip,)
        )


def confirmations_by_address_since(conn: Connection, email: str, since: datetime) -> list[datetime]:
    """When each confirmation of this address was created since ``since``, oldest first
    (``email_confirmations_email_day_idx``)."""
    rows = conn.execute(
        "SELECT created_at FROM email_confirmations "
        "WHERE lower(email) = lower(%s) AND created_at >= %s ORDER BY created_at",
        (email, since),
    ).fetchall()
    return [row["created_at"] for row in rows]


def confirmations_by_ip_since(conn: Connection, source_ip: str, since: datetime) -> list[datetime]:
    """When each confirmation asked from this IP was created since ``since``, oldest first
    (``email_confirmations_ip_day_idx``)."""
    rows = conn.execute(
        "SELECT created_at FROM email_confirmations "
        "WHERE source_ip = %s::inet AND created_at >= %s ORDER BY created_at",
        (source_ip, since),
    ).fetchall()
    return [row["created_at"] for row in rows]


def create_confirmation(
    conn: Connection,
    *,
    confirmation_id: UUID,
    email: str,
    code_hash: str,
    source_ip: str | None,
    expires_at: datetime,
) -> EmailConfirmation:
    return fetch_required(
        conn,
        EmailConfirmation,
        """
        INSERT INTO email_confirmations (id, email, code_hash, source_ip, expires_at)
        VALUES (%(id)s, %(email)s, %(code_hash)s, %(source_ip)s::inet, %(expires_at)s)
        RETURNING id, created_at, updated_at, email, code_hash, host(source_ip) AS source_ip,
                  attempts, expires_at, confirmed_at, used_at
        """,
        {
            "id": confirmation_id,
            "email": email,
            "code_hash": code_hash,
            "source_ip": source_ip,
            "expires_at": expires_at,
        },
    )


def delete_confirmation(conn: Connection, confirmation_id: UUID) -> None:
    """Forget a confirmation whose code never left (SES did not take the email): it
    must not count against the person's daily limit."""
    conn.execute("DELETE FROM email_confirmations WHERE id = %s", (confirmation_id,))


def get_confirmation(conn: Connection, confirmation_id: UUID) -> EmailConfirmation | None:
    return fetch_optional(
        conn,
        EmailConfirmation,
        "SELECT id, created_at, updated_at, email, code_hash, host(source_ip) AS source_ip, "
        "attempts, expires_at, confirmed_at, used_at FROM email_confirmations WHERE id = %s",
        (confirmation_id,),
    )


def claim_code_attempt(
    conn: Connection, confirmation_id: UUID, max_attempts: int
) -> EmailConfirmation | None:
    """Count one attempt at the code before it is compared, or None when the
    confirmation cannot take one (unknown, used, expired, attempts spent).

    Counting first means parallel guesses cannot each be compared against the
    same count: at most ``max_attempts`` comparisons are ever made.
    """
    return fetch_optional(
        conn,
        EmailConfirmation,
        """
        UPDATE email_confirmations SET attempts = attempts + 1
        WHERE id = %(id)s AND used_at IS NULL AND expires_at > now()
          AND attempts < %(max)s
        RETURNING id, created_at, updated_at, email, code_hash, host(source_ip) AS source_ip,
                  attempts, expires_at, confirmed_at, used_at
        """,
        {"id": confirmation_id, "max": max_attempts},
    )


def use_confirmation(conn: Connection, confirmation_id: UUID) -> EmailConfirmation | None:
    """Mark the confirmation confirmed and used, once: None when it was used already."""
    return fetch_optional(
        conn,
        EmailConfirmation,
        """
        UPDATE email_confirmations
        SET used_at = now(), confirmed_at = coalesce(confirmed_at, now())
        WHERE id = %s AND used_at IS NULL
        RETURNING id, created_at, updated_at, email, code_hash, host(source_ip) AS source_ip,
                  attempts, expires_at, confirmed_at, used_at
        """,
        (confirmation_id,),
    )


def record_confirmation_email(conn: Connection, recipient: str) -> UUID:
    """The ``email_deliveries`` row of a code about to be sent (``pending``; no meeting)."""
    row = conn.execute(
        "INSERT INTO email_deliveries (recipient, kind) VALUES (%s, 'confirmation') RETURNING id",
        (recipient,),
    ).fetchone()
    assert row is not None  # noqa: S101 - an INSERT ... RETURNING returns its row
    return UUID(str(row["id"]))


def end_confirmation_email(
    conn: Connection, delivery_id: UUID, *, message_id: str | None, reason: str | None = None
) -> None:
    """SES's answer for a code's email: ``sent`` with its message id, or ``failed`` and why."""
    if message_id is not None:
        conn.execute(
            "UPDATE email_deliveries SET status = 'sent', ses_message_id = %s, sent_at = now(), "
            "attempts = attempts + 1 WHERE id = %s",
            (message_id, delivery_id),
        )
    else:
        conn.execute(
            "UPDATE email_deliveries SET status = 'failed', attempts = attempts + 1, "
            "details = details || jsonb_build_object('reason', %s::text) WHERE id = %s",
            (reason or "unsent", delivery_id),
        )
