"""What a meeting cost: one usage line per provider and item, priced from settings.

Each line is the meeting's and, through it, its user's (for the user's totals).
"""

from __future__ import annotations

from decimal import Decimal

from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import Connection
from voxcliente.domain.models import Meeting, Provider, UsageUnit
from voxcliente.domain.prices import openai_token_prices
from voxcliente.observability import logger
from voxcliente.settings import Settings

_HOUR = Decimal(3600)
_MILLION = Decimal(1_000_000)


def record_transcription(
    conn: Connection,
    settings: Settings,
    meeting: Meeting,
    *,
    audio_seconds: float,
    model: str,
) -> None:
    table = settings.price_table.assemblyai_per_hour
    per_hour = table.get(model)
    if per_hour is None:
        logger.warning("no AssemblyAI price for model; using the default", extra={"model": model})
        per_hour = table.get("default", Decimal(0))
    _add_lines(
        conn,
        meeting,
        "assemblyai",
        model,
        [("audio_second", Decimal(str(round(audio_seconds, 3))), per_hour / _HOUR)],
    )


def record_generation(
    conn: Connection,
    settings: Settings,
    meeting: Meeting,
    *,
    model: str,
    input_tokens: int,
    output_tokens: int,
) -> None:
    prices = openai_token_prices(settings.price_table, model)
    if prices is None:
        logger.warning("no OpenAI price for model; recorded at zero", extra={"model": model})
        prices = {"input": Decimal(0), "output": Decimal(0)}
    _add_lines(
        conn,
        meeting,
        "openai",
        model,
        [
            ("input_token", Decimal(input_tokens), prices["input"] / _MILLION),
            ("output_token", Decimal(output_tokens), prices["output"] / _MILLION),
        ],
    )


def record_email(
    conn: Connection,
    settings: Settings,
    meeting: Meeting,
    *,
    kind: str,
) -> None:
    _add_lines(
        conn,
        meeting,
        "ses",
        f"email:{kind}",
        [("message", Decimal(1), settings.price_table.ses_per_message)],
    )


def _add_lines(
    conn: Connection,
    meeting: Meeting,
    provider: Provider,
    item: str,
    lines: list[tuple[UsageUnit, Decimal, Decimal]],
) -> None:
    """The meeting's usage lines for one provider's item: (unit, quantity, unit price) each,
    recorded in one statement with the meeting's and its user's totals."""
    repo.add_usage(
        conn,
        meeting_id=meeting.id,
        user_id=meeting.user_id,
        provider=provider,
        item=item,
        lines=lines,
    )
