"""The limits that bound what the service spends: the daily spend guard and the
per-user monthly audio-minutes quota.

The guard sums today's (UTC) usage lines, what the providers were actually
paid for so far, and refuses new meetings once they reach
``DAILY_SPEND_LIMIT_USD``: at the upload API (429 before any presigned POST is
handed out) and in Submit, before AssemblyAI is called (the meeting fails
``daily_spend_limit`` and the person is told to send the file again tomorrow).
Each refusal adds the metric ``DailySpendLimitReached``, which the alarm
watches. A meeting already transcribing is not stopped: its cost lands on
today's sum when it is recorded, so the guard can be passed by what is in
flight when it is reached, never by new work.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import Connection
from voxcliente.domain.errors import RateLimited
from voxcliente.domain.models import User
from voxcliente.observability import logger, metrics
from voxcliente.settings import Settings

DAILY_SPEND_METRIC = "DailySpendLimitReached"


def today_start(now: datetime | None = None) -> datetime:
    """Today's 00:00 UTC."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime | None = None) -> datetime:
    """The first of this month, 00:00 UTC."""
    return today_start(now).replace(day=1)


def seconds_until(moment: datetime, now: datetime | None = None) -> int:
    """Whole seconds from now until ``moment``, at least 1 (a Retry-After value)."""
    left = (moment - (now or datetime.now(UTC))).total_seconds()
    return max(1, int(left) + (0 if left.is_integer() else 1))


def next_month_start(now: datetime | None = None) -> datetime:
    start = month_start(now)
    return (start + timedelta(days=32)).replace(day=1)


def check_daily_spend(tx: Connection, settings: Settings) -> None:
    """Refuse new work once today's spend reached ``daily_spend_limit_usd`` (0 = no limit).

    Raises :class:`RateLimited` (``daily_spend_limit``, retry after the next UTC
    midnight) and adds the metric the alarm watches.
    """
    limit = settings.daily_spend_limit_usd
    if limit <= 0:
        return
    now = datetime.now(UTC)
    midnight = today_start(now)
    spent = repo.spend_since(tx, midnight)
    if spent < Decimal(str(limit)):
        return
    metrics.add_metric(name=DAILY_SPEND_METRIC, unit="Count", value=1)
    logger.warning(
        "daily spend limit reached; new meetings refused until 00:00 UTC",
        extra={"spent_usd": str(spent), "limit_usd": limit},
    )
    raise RateLimited(
        "The service reached its spending limit for today, so it cannot take new "
        "recordings right now. Send the file again after 00:00 UTC.",
        retry_after_s=seconds_until(midnight + timedelta(days=1), now),
        code="daily_spend_limit",
    )


def check_monthly_quota(tx: Connection, user: User, settings: Settings) -> None:
    """Refuse a signed-in user's upload once their meetings received this calendar month
    (UTC) add up to ``monthly_audio_minutes_quota`` minutes of audio (0 = no quota).

    The new file's length is not known before it is uploaded: a file started
    under the quota is taken whole.
    """
    quota = settings.monthly_audio_minutes_quota
    if quota <= 0:
        return
    now = datetime.now(UTC)
    used = repo.audio_seconds_since(tx, user.id, month_start(now))
    if used < quota * 60:
        return
    renews = next_month_start(now)
    raise RateLimited(
        f"You have used this month's {quota} minutes of audio ({used / 60:.0f} min). "
        f"The quota renews on {renews.date().isoformat()} (UTC).",
        retry_after_s=seconds_until(renews, now),
        code="monthly_quota",
    )
