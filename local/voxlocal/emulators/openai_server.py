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

Scripted outcomes (:meth:`OpenAIEmulator.script`), consumed one per request:

* ``"refusal"``: 200, ``content: null``, ``refusal: "I'm sorry, ..."``,
  ``finish_reason: "stop"`` (the SDK's ``parse`` leaves ``parsed`` as None).
* ``"length"``: 200, the JSON cut in half, ``finish_reason: "length"`` (the
  SDK's ``parse`` raises ``LengthFinishReasonError``).
* ``"rate_limit"``: 429, ``{"error": {"type": "tokens", "code":
  "rate_limit_exceeded", ...}}`` plus the ``x-ratelimit-*`` headers.
* ``"insufficient_quota"``: 429, ``{"error": {"type": "insufficient_quota",
  "code": "insufficient_quota", ...}}``.
* ``"server_error"``: 500, ``{"error": {"type": "server_error", ...}}``.
* ``("delay", seconds)``: wait, then answer normally (client timeouts).

The SDK retries 429 and 5xx by itself (``max_retries``, default 2): each retry
consumes the next outcome. Error bodies follow what the real API returns, as
seen in public reports of ``openai.RateLimitError``.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

from voxlocal.emulators._http import LoopbackServer, RecordedRequest, Response
from voxlocal.emulators.schema_instance import TranscriptFacts, generate_instance

OUTCOMES = ("refusal", "length", "rate_limit", "insufficient_quota", "server_error", "delay")
REFUSAL_TEXT = "I'm sorry, but I can't assist with that request."


def _error(message: str, type_: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class OpenAIEmulator(LoopbackServer):
    """``with OpenAIEmulator() as emu: OpenAI(base_url=emu.base_url, api_key=emu.api_key)``."""

    def __init__(self, api_key: str = "test-openai-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []  # JSON bodies of chat.completions calls
        self.request_headers: list[dict[str, str]] = []  # their headers (lower-case names)
        self.all_requests: list[RecordedRequest] = []  # everything, any path
        self._script: list[str | tuple[str, float]] = []
        self._counter = 0

    @property
    def base_url(self) -> str:
        """What ``OpenAI(base_url=...)`` takes."""
        return f"{self.origin}/v1"

    def script(self, *outcomes: str | tuple[str, float]) -> None:
        """Answer the next requests with these outcomes, in order, then normally."""
        for outcome in outcomes:
            name = outcome[0] if isinstance(outcome, tuple) else outcome
            if name not in OUTCOMES or (name == "delay") != isinstance(outcome, tuple):
                raise ValueError(
                    f"unknown outcome {outcome!r}; expected one of {OUTCOMES[:-1]} "
                    "or ('delay', seconds)"
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
        with self._lock:
            self.requests.append(body)
            self.request_headers.append(dict(request.headers))
            outcome = self._script.pop(0) if self._script else None
        if isinstance(outcome, tuple):
            time.sleep(float(outcome[1]))
            outcome = None
        return self._answer(body, outcome, headers)

    def _answer(
        self, body: dict[str, Any], outcome: str | None, headers: dict[str, str]
    ) -> Response:
        model = str(body.get("model") or "gpt-4o-mini")
        if outcome == "rate_limit":
            return Response.json_body(
                429,
                _error(
                    f"Rate limit reached for {model} in organization org-emulator on tokens per "
                    "min (TPM): Limit 30000, Used 30000, Requested 1000. "
                    "Please try again in 2s.",
                    "tokens",
                    "rate_limit_exceeded",
                ),
                {
                    **headers,
                    "x-ratelimit-limit-requests": "500",
                    "x-ratelimit-remaining-requests": "499",
                    "x-ratelimit-reset-requests": "120ms",
                    "x-ratelimit-limit-tokens": "30000",
                    "x-ratelimit-remaining-tokens": "0",
                    "x-ratelimit-reset-tokens": "2s",
                },
            )
        if outcome == "insufficient_quota":
            return Response.json_body(
                429,
                _error(
                    "You exceeded your current quota, please check your plan and billing details.",
                    "insufficient_quota",
                    "insufficient_quota",
                ),
                headers,
            )
        if outcome == "server_error":
            return Response.json_body(
                500,
                _error(
                    "The server had an error while processing your request. Sorry about that!",
                    "server_error",
                    None,
                ),
                headers,
            )
        return Response.json_body(200, self.completion(body, outcome), headers)

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
        if outcome == "refusal":
            content, refusal = "", REFUSAL_TEXT
        elif outcome == "length":
            content = content[: max(1, len(content) // 2)]
            finish_reason = "length"
        prompt_text = json.dumps(body.get("messages"), ensure_ascii=False)
        prompt_tokens = max(1, len(prompt_text) // 4)
        completion_tokens = max(1, len(content or refusal or "") // 4)
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
            "model": str(body.get("model") or "gpt-4o-mini"),
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None if refusal else content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
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
