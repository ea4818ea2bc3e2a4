"""Usage and costs: one line per provider and item a meeting used, and the totals kept from them.

All SQL of the project lives in this package, one module per aggregate.
The usage lines are the source of truth; a meeting's cost columns and its
user's totals are recomputed from them (:func:`refresh_costs`), never added to.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from voxcliente.adapters.db import Connection
from voxcliente.adapters.repository._rows import fetch_all, fetch_required, upsert
from voxcliente.domain.models import Meeting, Provider, UsageRecord, UsageUnit

# Costs are kept to the micro-dollar, the scale of the cost columns (numeric(_, 6)).
_MICRO = Decimal("0.000001")


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
    return upsert(
        conn,
        UsageRecord,
        "usage_records",
        {
            "meeting_id": meeting_id,
            "user_id": user_id,
            "provider": provider,
            "item": item,
            "quantity": quantity,
            "unit": unit,
            "unit_price_usd": unit_price_usd,
            "cost_usd": (quantity * unit_price_usd).quantize(_MICRO, rounding=ROUND_HALF_UP),
        },
        key=("meeting_id", "provider", "item", "unit"),
        update=("quantity", "unit_price_usd", "cost_usd"),
    )


def list_usage(conn: Connection, meeting_id: UUID) -> list[UsageRecord]:
    query = "SELECT * FROM usage_records WHERE meeting_id = %s ORDER BY created_at, provider, item"
    return fetch_all(conn, UsageRecord, query, (meeting_id,))


def refresh_costs(conn: Connection, meeting_id: UUID) -> Meeting:
    """Recompute the meeting's cost columns and its user's totals from the usage lines."""
    meeting = fetch_required(
        conn,
        Meeting,
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
    )
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
    """The ``user_cost_summary`` view's row for a user (what reports read)."""
    return conn.execute("SELECT * FROM user_cost_summary WHERE user_id = %s", (user_id,)).fetchone()
