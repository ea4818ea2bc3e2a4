"""What each provider charges, in USD: the table the usage lines are priced from.

AssemblyAI bills per hour of audio by speech model, OpenAI per million tokens
by model, SES per message sent (USD 0.10 per 1,000). The table is replaced as a
whole with the ``PRICE_TABLE`` setting (JSON of the same shape).

The model ``emulator`` is the local OpenAI emulator's answer (``make demo``,
tests): nothing was paid for it, so it is priced at 0 in every table, a
replaced one included, and an emulated acta never shows a real-looking cost.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Literal

from voxcliente.domain.frozen import Frozen

# The model name the local OpenAI emulator answers with.
EMULATED_MODEL = "emulator"

# Published pay-as-you-go prices at the time of writing; "default" prices an
# AssemblyAI model missing from the table (and a warning is logged).
DEFAULT_PRICES: dict[str, Any] = {
    "assemblyai_per_hour": {"universal-2": "0.15", "universal-3-5-pro": "0.21", "default": "0.21"},
    "openai_per_million_tokens": {
        "gpt-4.1-mini": {"input": "0.40", "output": "1.60"},
        "gpt-4.1": {"input": "2.00", "output": "8.00"},
        "gpt-4o-mini": {"input": "0.15", "output": "0.60"},
        "gpt-4o": {"input": "2.50", "output": "10.00"},
        EMULATED_MODEL: {"input": "0", "output": "0"},
    },
    "ses_per_message": "0.0001",
}

TokenPrices = dict[Literal["input", "output"], Decimal]


class Prices(Frozen):
    """The table, read once: every price a Decimal."""

    assemblyai_per_hour: dict[str, Decimal]
    openai_per_million_tokens: dict[str, TokenPrices]
    ses_per_message: Decimal

    @classmethod
    def model_validate(cls, data: object) -> Prices:
        """The table from its JSON shape; a ValueError or TypeError says which entry is wrong."""
        if not isinstance(data, dict):
            raise TypeError("the price table must be a JSON object")
        missing = [name for name in _FIELDS if name not in data]
        if missing:
            raise ValueError(f"the price table lacks {', '.join(missing)}")
        hourly = data["assemblyai_per_hour"]
        tokens = data["openai_per_million_tokens"]
        if not isinstance(hourly, dict) or not isinstance(tokens, dict):
            raise TypeError(
                "assemblyai_per_hour and openai_per_million_tokens must be JSON objects"
            )
        openai: dict[str, TokenPrices] = {}
        for model, pair in tokens.items():
            if not isinstance(pair, dict) or set(pair) != {"input", "output"}:
                raise ValueError(
                    f"openai_per_million_tokens.{model} must be "
                    '{"input": <price>, "output": <price>}'
                )
            openai[str(model)] = {
                "input": _price(pair["input"], f"openai_per_million_tokens.{model}.input"),
                "output": _price(pair["output"], f"openai_per_million_tokens.{model}.output"),
            }
        free: TokenPrices = {"input": Decimal(0), "output": Decimal(0)}
        if openai.get(EMULATED_MODEL, free) != free:
            raise ValueError(f"the model {EMULATED_MODEL!r} (the local emulator) costs nothing")
        return cls(
            assemblyai_per_hour={
                str(model): _price(price, f"assemblyai_per_hour.{model}")
                for model, price in hourly.items()
            },
            openai_per_million_tokens={**openai, EMULATED_MODEL: free},
            ses_per_message=_price(data["ses_per_message"], "ses_per_message"),
        )


_FIELDS = ("assemblyai_per_hour", "openai_per_million_tokens", "ses_per_message")


def _price(value: object, where: str) -> Decimal:
    """A price given as a string or a number (a float through its repr, as JSON wrote it)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise TypeError(f"{where} must be a number, got {value!r}")
    try:
        price = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValueError(f"{where} must be a number, got {value!r}") from None
    if not price.is_finite():
        raise ValueError(f"{where} must be a finite number, got {value!r}")
    return price


# OpenAI answers with the dated snapshot that served the request
# ("gpt-4.1-mini-2025-04-14" for "gpt-4.1-mini"): the API reference's chat
# completion object says `model` is "the model used for the chat completion".
_SNAPSHOT_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def openai_token_prices(prices: Prices, model: str) -> TokenPrices | None:
    """The prices of ``model``: its own entry, else its family's (the name without
    the snapshot date), else ``default``; None when the table has none of them."""
    table = prices.openai_per_million_tokens
    family = _SNAPSHOT_SUFFIX.sub("", model)
    return table.get(model) or table.get(family) or table.get("default")


def default_prices() -> Prices:
    return Prices.model_validate(DEFAULT_PRICES)
