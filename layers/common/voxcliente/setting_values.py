"""How an environment variable's text becomes a setting's value, or a ValueError
saying what the variable should hold (:func:`voxcliente.settings.load_settings`
names the variable and quotes the text)."""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args, get_origin

from voxcliente.domain.prices import Prices


def read_value(kind: Any, text: str, limits: Mapping[str, float]) -> Any:
    """``text`` read as a field of type ``kind``, within ``limits`` (ge, gt, le)."""
    value = _parser(kind)(text)
    if limits:
        _check_range(value, limits)
    return value


# The spellings pydantic accepted for a boolean, kept so no environment changes meaning.
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _parse_bool(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError("must be true or false")


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("must be a whole number") from None


def _parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("must be a number") from None


def _parse_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _parse_prices(text: str) -> Prices:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"must be JSON: {exc}") from None
    return Prices.model_validate(data)


_PARSERS: dict[object, Callable[[str], Any]] = {
    str: str,
    int: _parse_int,
    float: _parse_float,
    bool: _parse_bool,
    tuple[str, ...]: _parse_list,
    Prices: _parse_prices,
}


def _parser(kind: Any) -> Callable[[str], Any]:
    """How to read a field of type ``kind`` (``X | None`` is read as ``X``)."""
    if isinstance(kind, types.UnionType):
        kind = next(arg for arg in get_args(kind) if arg is not type(None))
    if get_origin(kind) is Literal:
        accepted: tuple[str, ...] = get_args(kind)

        def one_of(text: str) -> str:
            if text not in accepted:
                raise ValueError(f"must be one of {', '.join(accepted)}")
            return text

        return one_of
    return _PARSERS[kind]


def _check_range(value: float, limits: Mapping[str, float]) -> None:
    if "ge" in limits and value < limits["ge"]:
        raise ValueError(f"must be at least {limits['ge']}")
    if "gt" in limits and value <= limits["gt"]:
        raise ValueError(f"must be greater than {limits['gt']}")
    if "le" in limits and value > limits["le"]:
        raise ValueError(f"must be at most {limits['le']}")


def check_speech_models(value: tuple[str, ...]) -> None:
    from voxcliente.domain.languages import ASSEMBLYAI_SPEECH_MODELS

    unknown = [model for model in value if model not in ASSEMBLYAI_SPEECH_MODELS]
    if unknown or not value:
        raise ValueError(
            f"unknown speech model(s) {', '.join(unknown) or '(none given)'}: AssemblyAI "
            f"accepts {', '.join(ASSEMBLYAI_SPEECH_MODELS)} (comma-separated, in priority "
            "order); every submission with another name is refused"
        )
    if len(set(value)) != len(value):
        raise ValueError("a speech model is named twice")
