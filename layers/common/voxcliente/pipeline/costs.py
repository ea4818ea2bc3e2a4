"""What a meeting cost: one usage line per provider and item, priced from settings.

Each line is the meeting's and, through it, its user's (for the user's totals).
"""

from __future__ import annotations

from decimal import Decimal

from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import Connection
from voxcliente.domain.models import Meeting, UsageUnit
from voxcliente.domain.prices import openai_token_prices
from voxcliente.observability import logger
from voxcliente.settings import Settings

_HOUR = Decimal(3600)
_MILLION = Decimal(1_000_000)


def transcription_usage(
    settings: Settings, meeting: Meeting, *, audio_seconds: float, model: str
) -> repo.UsageLines:
    """The transcription's usage line, priced from settings (stored with the transcript)."""
    table = settings.price_table.assemblyai_per_hour
    per_hour = table.get(model)
    if per_hour is None:
        logger.warning("no AssemblyAI price for model; using the default", extra={"model": model})
        per_hour = table.get("default", Decimal(0))
    line: tuple[UsageUnit, Decimal, Decimal] = (
        "audio_second",
        Decimal(str(round(audio_seconds, 3))),
        per_hour / _HOUR,
    )
    return repo.UsageLines("assemblyai", model, [line], meeting.user_id)


def generation_usage(
    settings: Settings, meeting: Meeting, *, model: str, input_tokens: int, output_tokens: int
) -> repo.UsageLines:
    """The acta's usage lines (input and output tokens), priced from settings (stored
    with the acta)."""
    prices = openai_token_prices(settings.price_table, model)
    if prices is None:
        logger.warning("no OpenAI price for model; recorded at zero", extra={"model": model})
        prices = {"input": Decimal(0), "output": Decimal(0)}
    lines: list[tuple[UsageUnit, Decimal, Decimal]] = [
        ("input_token", Decimal(input_tokens), prices["input"] / _MILLION),
        ("output_token", Decimal(output_tokens), prices["output"] / _MILLION),
    ]
    return repo.UsageLines("openai", model, lines, meeting.user_id)


def record_email(
    conn: Connection,
    settings: Settings,
    meeting: Meeting,
    *,
    kind: str,
) -> None:
    line: tuple[UsageUnit, Decimal, Decimal] = (
        "message",
        Decimal(1),
        settings.price_table.ses_per_message,
    )
    record(conn, meeting, repo.UsageLines("ses", f"email:{kind}", [line], meeting.user_id))


def record(conn: Connection, meeting: Meeting, usage: repo.UsageLines) -> None:
    """The meeting's usage lines for one provider's item, recorded in one statement with
    the meeting's and its user's totals. (The transcript's and the acta's lines are
    stored by the statement that stores them: ``transcription_usage``,
    ``generation_usage``.)"""
    repo.add_usage(
        conn,
        meeting_id=meeting.id,
        user_id=usage.user_id,
        provider=usage.provider,
        item=usage.item,
        lines=usage.lines,
    )
