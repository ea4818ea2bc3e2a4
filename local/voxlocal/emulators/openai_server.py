"""A local stand-in for OpenAI's Chat Completions API (a TEST DOUBLE).

It answers ``POST /v1/chat/completions`` the way the ``openai`` SDK expects, so
production code runs unchanged with ``OpenAI(base_url=emulator.base_url,
api_key=emulator.api_key)``. For Structured Outputs requests
(``response_format: {"type": "json_schema", "json_schema": {"name", "schema",
"strict": true}}``, what ``client.chat.completions.parse(response_format=Model)``
sends) the answer's ``message.content`` is a JSON value valid for that schema,
derived deterministically from the text of the user messages (see
:mod:`voxlocal.emulators.schema_instance`). Without a schema the content is a
short plain-text summary of the same text.

Response shape (``chat.completion``): ``id``, ``object``, ``created``, ``model``
(the one asked for), ``choices[0]`` with ``message {role, content, refusal,
annotations}``, ``finish_reason`` and ``logprobs``, ``usage {prompt_tokens,
completion_tokens, total_tokens, ...details}``, ``system_fingerprint``.
Token counts are roughly characters / 4.

Requests are checked as the real API checks them (:mod:`voxlocal.emulators.openai_rules`):
an unknown model is a 404 ``model_not_found``; an output allowance above the
model's limit, a ``response_format`` strict mode refuses (root not an object,
an object without ``additionalProperties: false`` or not listing every property
in ``required``, an unsupported keyword such as ``minLength`` or ``default``, a
size limit) and a prompt longer than the context window are 400s, with the real
body shape ``{"error": {"message", "type", "param", "code"}}`` and wording. A
rejected request is recorded but consumes no scripted outcome.

Scripted outcomes (:meth:`OpenAIEmulator.script`), consumed one per accepted request:

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

The SDK retries 429 and 5xx by itself (``max_retries``, default 2): each retry
consumes the next outcome. Error bodies and headers follow the error-codes
guide (platform.openai.com/docs/guides/error-codes) and what public reports of
``openai.RateLimitError`` / ``InternalServerError`` show.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from voxlocal.emulators._http import LoopbackServer, RecordedRequest, Response
from voxlocal.emulators.openai_rules import (
    MODELS,
    ApiError,
    ModelSpec,
    check_request,
    context_length_exceeded,
    model_not_found,
    prompt_tokens,
    resolve_model,
)
from voxlocal.emulators.schema_instance import TranscriptFacts, generate_instance

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


def _error(message: str, type_: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class OpenAIEmulator(LoopbackServer):
    """``with OpenAIEmulator() as emu: OpenAI(base_url=emu.base_url, api_key=emu.api_key)``."""

    def __init__(
        self, api_key: str = "test-openai-key", models: Mapping[str, ModelSpec] | None = None
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.models: dict[str, ModelSpec] = dict(MODELS if models is None else models)
        self.requests: list[dict[str, Any]] = []  # JSON bodies of chat.completions calls
        self.request_headers: list[dict[str, str]] = []  # their headers (lower-case names)
        self.all_requests: list[RecordedRequest] = []  # everything, any path
        self.rejections: list[dict[str, Any]] = []  # the error bodies of rejected requests
        self._script: list[Outcome] = []
        self._counter = 0

    @property
    def base_url(self) -> str:
        """What ``OpenAI(base_url=...)`` takes."""
        return f"{self.origin}/v1"

    def script(self, *outcomes: Outcome) -> None:
        """Answer the next accepted requests with these outcomes, in order, then normally."""
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
        with self._lock:
            self._script.extend(outcomes)

    # --- HTTP ---------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> Response:
        with self._lock:
            self.all_requests.append(request)
            self._counter += 1
            request_id = f"req_{self._counter:032x}"
        headers = {"x-request-id": request_id, "openai-version": "2020-10-01"}
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return Response.json_body(
                401,
                _error(
                    "Incorrect API key provided. You can find your API key in your "
                    "OpenAI account settings.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
                headers,
            )
        path = request.path.split("?", 1)[0]
        if request.method != "POST" or path != "/v1/chat/completions":
            return Response.json_body(
                404,
                _error(f"Invalid URL ({request.method} {path})", "invalid_request_error", None),
                headers,
            )
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return Response.json_body(
                400,
                _error(
                    "'messages' is a required property", "invalid_request_error", None, "messages"
                ),
                headers,
            )
        rejected = check_request(body, self.models)
        with self._lock:
            self.requests.append(body)
            self.request_headers.append(dict(request.headers))
            if rejected is not None:
                self.rejections.append(rejected.body())
                outcome: Outcome | None = None
            else:
                outcome = self._script.pop(0) if self._script else None
        if rejected is not None:
            return _error_response(rejected, headers)
        if isinstance(outcome, tuple) and outcome[0] == "delay":
            time.sleep(float(outcome[1]))
            outcome = None
        return self._answer(body, outcome, headers, request_id)

    def _answer(
        self,
        body: dict[str, Any],
        outcome: Outcome | None,
        headers: dict[str, str],
        request_id: str,
    ) -> Response:
        model = str(body["model"])
        failure = _scripted_error(outcome, model, body, request_id, self.models)
        if failure is not None:
            return _error_response(failure, headers)
        answered = outcome if isinstance(outcome, str) else None
        return Response.json_body(200, self.completion(body, answered), headers)

    # --- the "model" ------------------------------------------------------------------

    def completion(self, body: dict[str, Any], outcome: str | None = None) -> dict[str, Any]:
        """The ``chat.completion`` answered for ``body`` (deterministic but for ``created``)."""
        text = user_text(body.get("messages") or [])
        schema = _json_schema(body.get("response_format"))
        if schema is not None:
            content = json.dumps(generate_instance(schema, text), ensure_ascii=False)
        else:
            content = _plain_answer(text)
        finish_reason = "stop"
        refusal: str | None = None
        answer: str | None = content
        if outcome == "refusal":
            answer, refusal = None, REFUSAL_TEXT
        elif outcome == "length":
            answer = content[: max(1, len(content) // 2)]
            finish_reason = "length"
        elif outcome == "content_filter":
            answer, finish_reason = None, "content_filter"
        prompt = prompt_tokens(body)
        completion_tokens = max(1, len(answer or refusal or "") // 4)
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        if finish_reason == "length" and isinstance(max_tokens, int):
            completion_tokens = max_tokens
        digest = hashlib.sha256(
            json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()
        return {
            "id": f"chatcmpl-{digest[:29]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model")),
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": answer,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_emulator",
        }


def _error_response(error: ApiError, headers: dict[str, str]) -> Response:
    return Response.json_body(error.status, error.body(), {**headers, **error.headers})


def _seconds(value: float) -> str:
    return f"{value:g}"


def _scripted_error(
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


def user_text(messages: list[Any]) -> str:
    """The text of the user messages (string content or ``{"type": "text"}`` parts)."""
    parts: list[str] = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(
                str(part.get("text", ""))
                for part in content
                if isinstance(part, dict) and part.get("type") == "text"
            )
    return "\n".join(parts)


def _json_schema(response_format: Any) -> dict[str, Any] | None:
    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        return schema if isinstance(schema, dict) else {"type": "object"}
    if response_format.get("type") == "json_object":
        return {"type": "object", "properties": {"summary": {"type": "string"}}}
    return None


def _plain_answer(text: str) -> str:
    facts = TranscriptFacts.from_text(text)
    words = re.sub(r"\s+", " ", " ".join(facts.sentences[:3])).strip()
    return words or "Sin contenido."
