"""The scripted outcomes of the OpenAI emulator, and the error answers they stand for.

:meth:`OpenAIEmulator.script` takes these, consumed one per accepted request:

* ``"refusal"``: 200, ``content: null``, ``refusal: "I'm sorry, ..."``,
  ``finish_reason: "stop"`` (the SDK's ``parse`` leaves ``parsed`` as None).
* ``"length"``: 200, the JSON cut in half, ``finish_reason: "length"`` (the
  SDK's ``parse`` raises ``LengthFinishReasonError``).
* ``"content_filter"``: 200, ``content: null``, ``finish_reason:
  "content_filter"`` (``parse`` raises ``ContentFilterFinishReasonError``).
* ``"rate_limit"`` or ``("rate_limit", seconds)``: 429, ``{"error": {"type":
  "tokens", "code": "rate_limit_exceeded", ...}}`` with ``retry-after`` (2 s
  unless given) and the ``x-ratelimit-*`` headers.
* ``"insufficient_quota"``: 429, ``{"error": {"type": "insufficient_quota",
  "code": "insufficient_quota", ...}}``, no ``retry-after`` (waiting never helps).
* ``"server_error"``: 500, ``{"error": {"type": "server_error", ...}}``.
* ``"overloaded"``: 503, "The engine is currently overloaded, please try again later".
* ``"model_not_found"``: 404 as for an unknown model, whatever the model.
* ``"context_length"``: 400 ``context_length_exceeded`` as for a prompt over
  the model's input limit.
* ``("delay", seconds)``: wait, then answer normally (client timeouts).

Error bodies and headers follow the error-codes guide
(platform.openai.com/docs/guides/error-codes) and what public reports of
``openai.RateLimitError`` / ``InternalServerError`` show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voxlocal.emulators.openai_errors import (
    ApiError,
    ModelSpec,
    context_length_exceeded,
    model_not_found,
    prompt_tokens,
)
from voxlocal.emulators.openai_rules import MODELS, resolve_model

OUTCOMES = (
    "refusal",
    "length",
    "content_filter",
    "rate_limit",
    "insufficient_quota",
    "server_error",
    "overloaded",
    "model_not_found",
    "context_length",
    "delay",
)
_TIMED = ("delay", "rate_limit")  # the outcomes that take seconds: ("delay", 3.0)
REFUSAL_TEXT = "I'm sorry, but I can't assist with that request."
DEFAULT_RETRY_AFTER_S = 2.0

Outcome = str | tuple[str, float]


def check_outcomes(outcomes: tuple[Outcome, ...]) -> None:
    """Raise ValueError, naming the choices, for an outcome the emulator cannot play."""
    for outcome in outcomes:
        name = outcome[0] if isinstance(outcome, tuple) else outcome
        timed = isinstance(outcome, tuple)
        if (
            name not in OUTCOMES
            or (name == "delay" and not timed)
            or (timed and (name not in _TIMED or len(outcome) != 2))
        ):
            raise ValueError(
                f"unknown outcome {outcome!r}; expected one of {OUTCOMES[:-1]}, "
                "('rate_limit', retry_after_seconds) or ('delay', seconds)"
            )


def _seconds(value: float) -> str:
    return f"{value:g}"


def scripted_error(
    outcome: Outcome | None,
    model: str,
    body: dict[str, Any],
    request_id: str,
    models: Mapping[str, ModelSpec],
) -> ApiError | None:
    """The error answer a scripted outcome stands for, or None for a 200 outcome."""
    name = outcome[0] if isinstance(outcome, tuple) else outcome
    if name == "rate_limit":
        wait = float(outcome[1]) if isinstance(outcome, tuple) else DEFAULT_RETRY_AFTER_S
        return ApiError(
            429,
            f"Rate limit reached for {model} in organization org-emulator on tokens per "
            "min (TPM): Limit 30000, Used 30000, Requested 1000. "
            f"Please try again in {_seconds(wait)}s. "
            "Visit https://platform.openai.com/account/rate-limits to learn more.",
            "tokens",
            "rate_limit_exceeded",
            headers={
                "retry-after": _seconds(wait),
                "x-ratelimit-limit-requests": "500",
                "x-ratelimit-remaining-requests": "499",
                "x-ratelimit-reset-requests": "120ms",
                "x-ratelimit-limit-tokens": "30000",
                "x-ratelimit-remaining-tokens": "0",
                "x-ratelimit-reset-tokens": f"{_seconds(wait)}s",
            },
        )
    if name == "insufficient_quota":
        return ApiError(
            429,
            "You exceeded your current quota, please check your plan and billing details. "
            "For more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota",
            "insufficient_quota",
        )
    if name == "server_error":
        return ApiError(
            500,
            "The server had an error while processing your request. Sorry about that! "
            "You can retry your request, or contact us through our help center at "
            "help.openai.com if the error persists. (Please include the request ID "
            f"{request_id} in your message.)",
            "server_error",
        )
    if name == "overloaded":
        return ApiError(
            503, "The engine is currently overloaded, please try again later", "server_error"
        )
    if name == "model_not_found":
        return model_not_found(model)
    if name == "context_length":
        spec = resolve_model(model, models) or MODELS["gpt-4o-mini"]
        return context_length_exceeded(spec, max(prompt_tokens(body), spec.input_limit + 1), None)
    return None
