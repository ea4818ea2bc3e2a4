"""The error answers of the Chat Completions API, in its words (for the emulator).

Every error is ``{"error": {"message", "type", "param", "code"}}`` with an HTTP
status. Model and token messages, as reported against the real API: "The model
`x` does not exist or you do not have access to it." (404 ``model_not_found``);
"max_tokens is too large: 64000. This model supports at most 16384 completion
tokens, whereas you provided 64000." (``invalid_value``); "This model's maximum
context length is 128000 tokens. However, your messages resulted in 130000
tokens. Please reduce the length of the messages."; "Input tokens exceed the
configured limit of 272000 tokens. Your messages resulted in 300007 tokens.
Please reduce the length of the messages." (``context_length_exceeded``, param
``messages``).
An argument the API does not know: 400 "Unrecognized request argument supplied:
x" (several: "Unrecognized request arguments supplied: a, b"), type
``invalid_request_error``, param and code null, as public reports of the real
API show (for example ``thinking``, ``top_k``, ``reasoning_effort`` sent to an
API that did not take it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    """A model's published limits, in tokens."""

    context_window: int
    max_output: int
    max_input: int | None = None  # below the context window for the gpt-5 family
    reasoning: bool = False  # reasoning models refuse ``max_tokens``

    @property
    def input_limit(self) -> int:
        return self.max_input if self.max_input is not None else self.context_window


@dataclass(frozen=True)
class ApiError:
    """One error answer: HTTP status, the ``error`` object, extra headers."""

    status: int
    message: str
    type: str
    code: str | None = None
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def invalid(message: str, param: str | None, code: str | None) -> ApiError:
    return ApiError(400, message, "invalid_request_error", code, param)


def model_not_found(model: str) -> ApiError:
    return ApiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    )


def context_length_exceeded(
    spec: ModelSpec, prompt_tokens: int, completion: int | None
) -> ApiError:
    """The real message for a prompt over the input limit, or prompt + output over the window."""
    if prompt_tokens > spec.input_limit:
        if spec.input_limit < spec.context_window:
            message = (
                f"Input tokens exceed the configured limit of {spec.input_limit} tokens. "
                f"Your messages resulted in {prompt_tokens} tokens. "
                "Please reduce the length of the messages."
            )
        else:
            message = (
                f"This model's maximum context length is {spec.context_window} tokens. "
                f"However, your messages resulted in {prompt_tokens} tokens. "
                "Please reduce the length of the messages."
            )
    else:
        requested = prompt_tokens + (completion or 0)
        message = (
            f"This model's maximum context length is {spec.context_window} tokens. "
            f"However, you requested {requested} tokens ({prompt_tokens} in the messages, "
            f"{completion} in the completion). Please reduce the length of the messages or "
            "completion."
        )
    return invalid(message, "messages", "context_length_exceeded")


def prompt_tokens(body: Mapping[str, Any]) -> int:
    """About 4 characters per token over the messages (the emulator's usage counts the same)."""
    text = json.dumps(body.get("messages"), ensure_ascii=False)
    return max(1, len(text) // 4)


def unrecognized_arguments(names: list[str]) -> ApiError:
    listed = ", ".join(sorted(names))
    plural = "s" if len(names) > 1 else ""
    return invalid(f"Unrecognized request argument{plural} supplied: {listed}", None, None)
