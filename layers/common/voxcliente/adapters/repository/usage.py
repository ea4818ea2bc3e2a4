"""Usage and costs: one line per provider and item a meeting used, and the totals kept from them.

All SQL of the project lives in this package, one module per aggregate.
The usage lines are the source of truth. A meeting's cost columns and its user's
total move with them in the statement that records them (:func:`add_usage`: by
what the lines changed, so that recording a line again changes nothing), instead
of being summed again over the user's whole history; :func:`refresh_costs`
recomputes a meeting's columns and its user's totals from the lines (repairs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from psycopg import sql

from voxcliente.adapters.db import Connection
from voxcliente.adapters.repository._rows import fetch_all, fetch_required
from voxcliente.domain.models import Meeting, Provider, UsageRecord, UsageUnit

# Costs are kept to the micro-dollar, the scale of the cost columns (numeric(_, 6)).
_MICRO = Decimal("0.000001")


# The meeting's cost column of each provider.
_COST_COLUMN: dict[Provider, str] = {
    "assemblyai": "transcription_cost_usd",
    "openai": "llm_cost_usd",
    "ses": "email_cost_usd",
}


@dataclass(frozen=True)
class UsageLines:
    """A provider's item's usage lines for one meeting: ``(unit, quantity, unit price)``
    each, and the user whose total they count towards."""

    provider: Provider
    item: str
    lines: Sequence[tuple[UsageUnit, Decimal, Decimal]]
    user_id: UUID | None


def usage_ctes(usage: UsageLines, meeting_id: UUID) -> tuple[sql.Composable, dict[str, Any]]:
    """The common table expressions that record ``usage`` (idempotent per meeting,
    provider, item and unit) and move the user's total by what the lines changed, and
    their parameters: ``usage_change`` is their one row, ``usd``, the change.

    The meeting's cost columns are the caller's to move (:func:`meeting_cost_changes`),
    in its one UPDATE of the meeting: a statement may change a row only once.
    """
    costs = [(q * p).quantize(_MICRO, rounding=ROUND_HALF_UP) for _, q, p in usage.lines]
    ctes = sql.SQL(
        """
        usage_before AS (
            SELECT coalesce(sum(cost_usd), 0) AS cost FROM usage_records
            WHERE meeting_id = %(usage_meeting)s AND provider = %(usage_provider)s
              AND item = %(usage_item)s AND unit = ANY(%(usage_units)s)
        ),
        usage_written AS (
            INSERT INTO usage_records (meeting_id, user_id, provider, item, quantity, unit,
                                       unit_price_usd, cost_usd)
            SELECT %(usage_meeting)s, %(usage_user)s, %(usage_provider)s, %(usage_item)s,
                   l.quantity, l.unit, l.price, l.cost
            FROM unnest(%(usage_units)s::text[], %(usage_quantities)s::numeric[],
                        %(usage_prices)s::numeric[], %(usage_costs)s::numeric[])
                 AS l(unit, quantity, price, cost)
            ON CONFLICT (meeting_id, provider, item, unit) DO UPDATE
            SET quantity = EXCLUDED.quantity, unit_price_usd = EXCLUDED.unit_price_usd,
                cost_usd = EXCLUDED.cost_usd
            RETURNING cost_usd
        ),
        usage_change AS (
            SELECT (SELECT coalesce(sum(cost_usd), 0) FROM usage_written) - usage_before.cost
                   AS usd
            FROM usage_before
        ),
        usage_user AS (
            UPDATE users u SET total_cost_usd = u.total_cost_usd + usage_change.usd
            FROM usage_change WHERE u.id = %(usage_user)s AND usage_change.usd <> 0
        )"""
    )
    params = {
        "usage_meeting": meeting_id,
        "usage_user": usage.user_id,
        "usage_provider": usage.provider,
        "usage_item": usage.item,
        "usage_units": [unit for unit, _, _ in usage.lines],
        "usage_quantities": [q for _, q, _ in usage.lines],
        "usage_prices": [p for _, _, p in usage.lines],
        "usage_costs": costs,
    }
    return ctes, params


def meeting_cost_changes(provider: Provider) -> sql.Composable:
    """The assignments that move a meeting's cost columns by ``usage_change.usd``, for an
    ``UPDATE meetings m ... FROM usage_change`` beside :func:`usage_ctes`."""
    return sql.SQL(
        "{column} = m.{column} + usage_change.usd, "
        "total_cost_usd = m.total_cost_usd + usage_change.usd"
    ).format(column=sql.Identifier(_COST_COLUMN[provider]))


def add_usage(
    conn: Connection,
    *,
    meeting_id: UUID,
    user_id: UUID | None,
    provider: Provider,
    item: str,
    lines: Sequence[tuple[UsageUnit, Decimal, Decimal]],
) -> None:
    """Record a provider's item's usage lines, ``(unit, quantity, unit price)`` each
    (idempotent per meeting, provider, item and unit), and move the meeting's cost
    columns and its user's total by what the lines changed. One statement."""
    ctes, params = usage_ctes(UsageLines(provider, item, lines, user_id), meeting_id)
    query = sql.SQL(
        """
        WITH {ctes}
        UPDATE meetings m SET {costs}
        FROM usage_change WHERE m.id = %(usage_meeting)s AND usage_change.usd <> 0
        """
    ).format(ctes=ctes, costs=meeting_cost_changes(provider))
    conn.execute(query, params)


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


def spend_since(conn: Connection, since: datetime) -> Decimal:
    """What every usage line recorded since ``since`` cost, in dollars (the daily spend
    guard's sum; ``usage_records_created_at_idx``)."""
    row = conn.execute(
        "SELECT coalesce(sum(cost_usd), 0) AS usd FROM usage_records WHERE created_at >= %s",
        (since,),
    ).fetchone()
    return Decimal(row["usd"]) if row else Decimal(0)


def audio_seconds_since(conn: Connection, user_id: UUID, since: datetime) -> Decimal:
    """The audio seconds of a user's meetings received since ``since`` (the monthly
    quota's sum; ``meetings_user_history_idx``). Erased meetings still count: erasing
    a recording does not give back what transcribing it used."""
    row = conn.execute(
        "SELECT coalesce(sum(audio_duration_s), 0) AS seconds FROM meetings "
        "WHERE user_id = %s AND received_at >= %s",
        (user_id, since),
    ).fetchone()
    return Decimal(row["seconds"]) if row else Decimal(0)
