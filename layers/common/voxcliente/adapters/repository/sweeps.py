"""The reconciler's sweeps: meetings left waiting at some stage, or failed without a notice.

All SQL of the project lives in this package, one module per aggregate.
Each query reads meetings whose last step is older than a bound the caller
chooses (settings), oldest first, at most ``limit`` per run.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

from voxcliente.adapters.db import Connection
from voxcliente.adapters.repository._rows import fetch_all
from voxcliente.adapters.repository._transition import STAGE_COLUMN
from voxcliente.domain.models import Meeting, MeetingStatus


def find_received_unsubmitted(
    conn: Connection, *, unclaimed_after_s: int, claimed_after_s: int, limit: int = 100
) -> list[Meeting]:
    """``received`` meetings nobody is submitting: never claimed (or the claim was
    released) for ``unclaimed_after_s``, or claimed ``claimed_after_s`` ago and never
    recorded (the run died, perhaps after AssemblyAI accepted: its webhook had that
    long to adopt the transcript)."""
    return fetch_all(
        conn,
        Meeting,
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
    )


def find_meetings_waiting(
    conn: Connection, status: MeetingStatus, older_than_s: int, limit: int = 100
) -> list[Meeting]:
    """Meetings in ``status`` since longer than ``older_than_s`` (the reconciler's sweep)."""
    column = sql.Identifier(STAGE_COLUMN[status])
    query = sql.SQL(
        "SELECT * FROM meetings WHERE status = %s AND {col} < now() - make_interval(secs => %s) "
        "ORDER BY {col} LIMIT %s"
    ).format(col=column)
    return fetch_all(conn, Meeting, query, (status, older_than_s, limit))


def find_failed_without_notice(
    conn: Connection,
    silent_codes: Sequence[str],
    *,
    settle_s: float = 600,
    lookback_s: float = 7 * 86400,
    limit: int = 100,
) -> list[Meeting]:
    """Failed meetings with a recipient whose failure notice has no outcome yet.

    ``silent_codes``: the codes that never notify (``error_codes.SILENT_CODES``).
    Only failures older than ``settle_s`` (the failing run had that long to send
    the notice itself) and younger than ``lookback_s`` (older ones are no longer
    chased) are looked at. A notice ``pending`` (SES said not now) or ``sending``
    (perhaps abandoned) is looked at again; any other status is its end (sent
    and what followed, suppressed, failed).
    """
    return fetch_all(
        conn,
        Meeting,
        """
        SELECT m.* FROM meetings m
        WHERE m.status = 'failed'
          AND m.failed_at > now() - make_interval(secs => %(lookback_s)s)
          AND m.failed_at < now() - make_interval(secs => %(settle_s)s)
          AND m.recipient_email IS NOT NULL
          AND m.error_code <> ALL(%(silent_codes)s)
          AND NOT EXISTS (SELECT 1 FROM email_deliveries d
                          WHERE d.meeting_id = m.id AND d.kind = 'failure'
                            AND d.status NOT IN ('pending', 'sending'))
        ORDER BY m.failed_at
        LIMIT %(limit)s
        """,
        {
            "silent_codes": list(silent_codes),
            "settle_s": settle_s,
            "lookback_s": lookback_s,
            "limit": limit,
        },
    )
