"""Resends: an emailed acta sent again on request, one ``email_deliveries`` row
(kind ``resend``) per request, at most a few per meeting a day.

All SQL of the project lives in this package, one module per aggregate. The rows
are sent like every other email (:mod:`.deliveries`: claimed by id, ``pending ->
sending -> sent``); here they are added, counted against the limit, or dropped.
The count reads ``email_deliveries_meeting_id_idx``.
"""

from __future__ import annotations

from uuid import UUID

from voxcliente.adapters.db import Connection


class ResendRefused(LookupError):
    """Why :func:`add_resend` added no row: the meeting is not ``emailed`` (or is
    erased, or gone), or ``limit`` resends were asked for within the window
    (``retry_after_s``: until the oldest of them leaves it)."""

    def __init__(self, reason: str, retry_after_s: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


def add_resend(
    conn: Connection,
    *,
    meeting_id: UUID,
    user_id: UUID | None,
    recipient: str,
    limit: int,
    window_s: int,
) -> UUID:
    """A ``pending`` resend row for an emailed meeting, unless ``limit`` rows were added
    within the last ``window_s`` seconds (:class:`ResendRefused` says which).

    Run in a transaction: the meeting row is locked first, so concurrent requests
    count one after another (each count is a new statement, which sees the rows the
    request before it committed) and the limit holds.
    """
    meeting = conn.execute(
        "SELECT status, erased_at FROM meetings WHERE id = %s FOR UPDATE", (meeting_id,)
    ).fetchone()
    if meeting is None or meeting["status"] != "emailed" or meeting["erased_at"] is not None:
        raise ResendRefused("not_ready")
    row = conn.execute(
        """
        WITH recent AS (
            SELECT count(*) AS n, min(created_at) AS oldest FROM email_deliveries
            WHERE meeting_id = %(meeting_id)s AND kind = 'resend'
              AND created_at > now() - make_interval(secs => %(window_s)s)
        ),
        added AS (
            INSERT INTO email_deliveries (meeting_id, user_id, recipient, kind, status)
            SELECT %(meeting_id)s, %(user_id)s, %(recipient)s, 'resend', 'pending'
            FROM recent WHERE recent.n < %(limit)s
            RETURNING id
        )
        SELECT (SELECT id FROM added) AS id,
               ceil(extract(epoch FROM recent.oldest + make_interval(secs => %(window_s)s)
                                       - now()))::int AS retry_after_s
        FROM recent
        """,
        {
            "meeting_id": meeting_id,
            "user_id": user_id,
            "recipient": recipient,
            "limit": limit,
            "window_s": window_s,
        },
    ).fetchone()
    if row is None or row["id"] is None:
        raise ResendRefused("limit", int(row["retry_after_s"] or 1) if row else 1)
    added: UUID = row["id"]
    return added


def forget_pending_delivery(conn: Connection, delivery_id: UUID) -> None:
    """Delete a ``pending`` row nothing will ever send (its work message was never
    queued), so that it does not count against the person's resends."""
    conn.execute(
        "DELETE FROM email_deliveries WHERE id = %s AND status = 'pending'", (delivery_id,)
    )
