"""What a meeting cost: one usage line per provider and item, priced from settings.

Each line is the meeting's and, through it, its user's (for the user's totals).
"""

from __future__ import annotations

from decimal import Decimal

from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import Connection
from voxcliente.domain.models import Meeting
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
    repo.add_usage(
        conn,
        meeting_id=meeting.id,
        user_id=meeting.user_id,
        provider="assemblyai",
        item=model,
        quantity=Decimal(str(round(audio_seconds, 3))),
        unit="audio_second",
        unit_price_usd=per_hour / _HOUR,
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
    for unit, direction, tokens in (
        ("input_token", "input", input_tokens),
        ("output_token", "output", output_tokens),
    ):
        repo.add_usage(
            conn,
            meeting_id=meeting.id,
            user_id=meeting.user_id,
            provider="openai",
            item=model,
            quantity=Decimal(tokens),
            unit=unit,  # type: ignore[arg-type]
            unit_price_usd=prices[direction] / _MILLION,  # type: ignore[index]
        )


def record_email(
    conn: Connection,
    settings: Settings,
    meeting: Meeting,
    *,
    kind: str,
) -> None:
    repo.add_usage(
        conn,
        meeting_id=meeting.id,
        user_id=meeting.user_id,
        provider="ses",
        item=f"email:{kind}",
        quantity=Decimal(1),
        unit="message",
        unit_price_usd=settings.price_table.ses_per_message,
    )
