"""What the real Chat Completions API refuses (for the emulator).

The OpenAI emulator runs every ``POST /v1/chat/completions`` through
:func:`check_request` before it answers, so a request the real API would reject
is rejected here too, with the real status, body shape (``{"error": {message,
type, param, code}}``) and wording as far as it is published or reported
(:mod:`voxlocal.emulators.openai_errors`):

* the arguments: a top-level key that is not a Chat Completions parameter is a
  400 "Unrecognized request argument supplied";
* the model: a name the API has, else 404 ``model_not_found``. Dated snapshots
  are accepted only as the API lists them (``gpt-4o-mini-2024-07-18``, not any
  ``gpt-4o-mini-<date>``);
* the output allowance: ``max_completion_tokens`` / ``max_tokens`` above the
  model's output limit, below 1, or ``max_tokens`` on a reasoning model;
* ``response_format``: its type, ``json_schema.name``, the word "json" that
  ``json_object`` mode needs, and strict mode's schema rules
  (:mod:`voxlocal.emulators.openai_schema`);
* the context window: prompt (about 4 characters per token, as the emulator's
  usage counts it) over the model's input limit, or prompt plus requested
  output over its context window: 400 ``context_length_exceeded``.

Sources. The parameters and the model names are those of OpenAI's OpenAPI
specification of ``POST /v1/chat/completions`` (``CreateChatCompletionRequest``
and its ``ChatModel`` enum), which the ``openai`` Python SDK is generated from
(``openai/types/chat/completion_create_params.py``,
``openai/types/shared/chat_model.py``); a unit test holds these lists to the
installed SDK's. The limits are the models pages' context windows and maximum
output tokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from voxlocal.emulators.openai_errors import (
    ApiError,
    ModelSpec,
    context_length_exceeded,
    invalid,
    model_not_found,
    prompt_tokens,
    unrecognized_arguments,
)
from voxlocal.emulators.openai_schema import MAX_NESTING, strict_schema_problem

__all__ = [
    "CHAT_COMPLETIONS_PARAMETERS",
    "MAX_NESTING",
    "MODELS",
    "SNAPSHOTS",
    "ApiError",
    "ModelSpec",
    "check_request",
    "context_length_exceeded",
    "model_not_found",
    "prompt_tokens",
    "resolve_model",
    "strict_schema_problem",
]

# The request body's top-level keys (CreateChatCompletionRequest).
CHAT_COMPLETIONS_PARAMETERS = frozenset(
    {
        "audio",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "messages",
        "metadata",
        "modalities",
        "model",
        "moderation",
        "n",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
        "verbosity",
        "web_search_options",
    }
)

_GPT_41 = ModelSpec(context_window=1_047_576, max_output=32_768)
_GPT_4O = ModelSpec(context_window=128_000, max_output=16_384)
_GPT_4O_MAY_2024 = ModelSpec(context_window=128_000, max_output=4_096)
_GPT_5 = ModelSpec(context_window=400_000, max_output=128_000, max_input=272_000, reasoning=True)
_CHAT_LATEST = ModelSpec(context_window=128_000, max_output=16_384)
_O_SERIES = ModelSpec(context_window=200_000, max_output=100_000, reasoning=True)

# The models this double answers for, by alias.
MODELS: dict[str, ModelSpec] = {
    "gpt-4.1": _GPT_41,
    "gpt-4.1-mini": _GPT_41,
    "gpt-4.1-nano": _GPT_41,
    "gpt-4o": _GPT_4O,
    "gpt-4o-mini": _GPT_4O,
    "gpt-5": _GPT_5,
    "gpt-5-mini": _GPT_5,
    "gpt-5-nano": _GPT_5,
    "gpt-5-chat-latest": _CHAT_LATEST,
    "gpt-5.1": _GPT_5,
    "gpt-5.1-chat-latest": _CHAT_LATEST,
    "o3": _O_SERIES,
    "o4-mini": _O_SERIES,
}

# Their dated snapshots the API lists: snapshot -> (alias, limits if not the alias's).
SNAPSHOTS: dict[str, tuple[str, ModelSpec | None]] = {
    "gpt-4.1-2025-04-14": ("gpt-4.1", None),
    "gpt-4.1-mini-2025-04-14": ("gpt-4.1-mini", None),
    "gpt-4.1-nano-2025-04-14": ("gpt-4.1-nano", None),
    "gpt-4o-2024-05-13": ("gpt-4o", _GPT_4O_MAY_2024),
    "gpt-4o-2024-08-06": ("gpt-4o", None),
    "gpt-4o-2024-11-20": ("gpt-4o", None),
    "gpt-4o-mini-2024-07-18": ("gpt-4o-mini", None),
    "gpt-5-2025-08-07": ("gpt-5", None),
    "gpt-5-mini-2025-08-07": ("gpt-5-mini", None),
    "gpt-5-nano-2025-08-07": ("gpt-5-nano", None),
    "gpt-5.1-2025-11-13": ("gpt-5.1", None),
    "o3-2025-04-16": ("o3", None),
    "o4-mini-2025-04-16": ("o4-mini", None),
}


def resolve_model(name: str, models: Mapping[str, ModelSpec] = MODELS) -> ModelSpec | None:
    """The limits of a model name, or of a listed dated snapshot of one; None if unknown."""
    if name in models:
        return models[name]
    if name in SNAPSHOTS:
        alias, own = SNAPSHOTS[name]
        if alias in models:
            return own or models[alias]
    return None


def check_request(
    body: Mapping[str, Any], models: Mapping[str, ModelSpec] = MODELS
) -> ApiError | None:
    """The error the real API answers to this chat.completions body, or None if it takes it."""
    unknown = [key for key in body if key not in CHAT_COMPLETIONS_PARAMETERS]
    if unknown:
        return unrecognized_arguments(unknown)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return invalid("you must provide a model parameter", None, None)
    spec = resolve_model(model, models)
    if spec is None:
        return model_not_found(model)
    error = _check_max_tokens(body, spec)
    if error is None:
        error = check_response_format(body)
    if error is not None:
        return error
    tokens = prompt_tokens(body)
    completion = _completion_allowance(body)
    if tokens > spec.input_limit or tokens + (completion or 0) > spec.context_window:
        return context_length_exceeded(spec, tokens, completion)
    return None


def _completion_allowance(body: Mapping[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _check_max_tokens(body: Mapping[str, Any], spec: ModelSpec) -> ApiError | None:
    if spec.reasoning and body.get("max_tokens") is not None:
        return invalid(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            return invalid(
                f"Invalid type for '{name}': expected an integer, but got "
                f"{type(value).__name__} instead.",
                name,
                "invalid_type",
            )
        if value < 1:
            return invalid(
                f"Invalid '{name}': integer below minimum value. Expected a value >= 1, "
                f"but got {value} instead.",
                name,
                "integer_below_min_value",
            )
        if value > spec.max_output:
            # The real API words (and names the param) as max_tokens for either parameter.
            return invalid(
                f"max_tokens is too large: {value}. This model supports at most "
                f"{spec.max_output} completion tokens, whereas you provided {value}.",
                "max_tokens",
                "invalid_value",
            )
    return None


# --- response_format ----------------------------------------------------------------

_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")


def check_response_format(body: Mapping[str, Any]) -> ApiError | None:
    response_format = body.get("response_format")
    if response_format is None:
        return None
    if not isinstance(response_format, dict):
        return invalid(
            f"Invalid type for 'response_format': expected an object, but got "
            f"{type(response_format).__name__} instead.",
            "response_format",
            "invalid_type",
        )
    kind = response_format.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        if "json" not in json.dumps(body.get("messages"), ensure_ascii=False).lower():
            return invalid(
                "'messages' must contain the word 'json' in some form, to use "
                "'response_format' of type 'json_object'.",
                "messages",
                None,
            )
        return None
    if kind != "json_schema":
        return invalid(
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and "
            "'json_schema'.",
            "response_format.type",
            "invalid_value",
        )
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict):
        return invalid(
            "Missing required parameter: 'response_format.json_schema'.",
            "response_format.json_schema",
            "missing_required_parameter",
        )
    name = spec.get("name")
    if not isinstance(name, str):
        return invalid(
            "Missing required parameter: 'response_format.json_schema.name'.",
            "response_format.json_schema.name",
            "missing_required_parameter",
        )
    if len(name) > 64:
        return invalid(
            "Invalid 'response_format.json_schema.name': string too long. Expected a string "
            f"with maximum length 64, but got a string with length {len(name)} instead.",
            "response_format.json_schema.name",
            "string_above_max_length",
        )
    if not _NAME.match(name):
        return invalid(
            "Invalid 'response_format.json_schema.name': string does not match pattern. "
            "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            "response_format.json_schema.name",
            "invalid_value",
        )
    schema = spec.get("schema")
    if spec.get("strict") is True:
        problem = strict_schema_problem(schema if isinstance(schema, dict) else {})
        if problem is not None:
            return invalid(
                f"Invalid schema for response_format '{name}': {problem}",
                "response_format",
                "invalid_json_schema",
            )
    return None
