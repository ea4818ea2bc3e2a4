"""A local stand-in for OpenAI's Chat Completions API (a TEST DOUBLE).

It answers ``POST /v1/chat/completions`` the way the ``openai`` SDK expects, so
production code runs unchanged with ``OpenAI(base_url=emulator.base_url,
api_key=emulator.api_key)``. It is not a language model and does not pretend
to be one (:mod:`voxlocal.emulators.openai_answers`): a Structured Outputs
request for a shipped sample's transcript is answered with that sample's
hand-written golden acta, anything else with the minimal instance of the
requested schema; without a schema the content is one line saying it is a
demonstration.

Response shape (``chat.completion``): ``id``, ``object``, ``created``, ``model``
(always ``"emulator"``: the request's model is checked, the answer says who
wrote it, so costs and documents can tell), ``choices[0]`` with ``message
{role, content, refusal, annotations}``, ``finish_reason`` and ``logprobs``,
``usage {prompt_tokens, completion_tokens, total_tokens, ...details}``,
``system_fingerprint``. Token counts are roughly characters / 4.

Requests are checked as the real API checks them
(:mod:`voxlocal.emulators.openai_rules`): an unknown argument, an unknown model
or snapshot, an output allowance above the model's limit, a ``response_format``
strict mode refuses and a prompt longer than the context window are refused
with the real status, body shape and wording. A rejected request is recorded
but consumes no scripted outcome.

Scripted outcomes (:meth:`OpenAIEmulator.script`, listed in
:mod:`voxlocal.emulators.openai_outcomes`), consumed one per accepted request:
refusal, length cut-off, content filter, 429 rate limit and quota, 500, 503,
404 model, 400 context length, and a delay. The SDK retries 429 and 5xx by
itself (``max_retries``, default 2): each retry consumes the next outcome.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voxlocal.emulators._http import LoopbackServer, RecordedRequest, Response
from voxlocal.emulators.openai_answers import SAMPLES, content, user_text
from voxlocal.emulators.openai_errors import ApiError, ModelSpec, invalid, prompt_tokens
from voxlocal.emulators.openai_outcomes import (
    OUTCOMES,
    REFUSAL_TEXT,
    Outcome,
    check_outcomes,
    scripted_error,
)
from voxlocal.emulators.openai_rules import MODELS, check_request

__all__ = ["MODEL_NAME", "OUTCOMES", "OpenAIEmulator", "user_text"]

MODEL_NAME = "emulator"  # the "model" of every answer


class OpenAIEmulator(LoopbackServer):
    """``with OpenAIEmulator() as emu: OpenAI(base_url=emu.base_url, api_key=emu.api_key)``."""

    def __init__(
        self,
        api_key: str = "test-openai-key",
        models: Mapping[str, ModelSpec] | None = None,
        samples: Path = SAMPLES,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.models: dict[str, ModelSpec] = dict(MODELS if models is None else models)
        self.samples = samples  # where the golden actas and their transcripts are
        self.requests: list[dict[str, Any]] = []  # JSON bodies of chat.completions calls
        self.request_headers: list[dict[str, str]] = []  # their headers (lower-case names)
        self.all_requests: list[RecordedRequest] = []  # everything, any path
        self.rejections: list[dict[str, Any]] = []  # the error bodies of rejected requests
        self._script: list[Outcome] = []
        self._answers: list[Any] = []
        self._counter = 0

    @property
    def base_url(self) -> str:
        """What ``OpenAI(base_url=...)`` takes."""
        return f"{self.origin}/v1"

    def script(self, *outcomes: Outcome) -> None:
        """Answer the next accepted requests with these outcomes, in order, then normally."""
        check_outcomes(outcomes)
        with self._lock:
            self._script.extend(outcomes)

    def answer_next(self, value: Any) -> None:
        """Answer the next successful request with this JSON value (a test's own acta,
        for example one carrying hostile text the renderer must escape)."""
        with self._lock:
            self._answers.append(value)

    # --- HTTP ---------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> Response:
        with self._lock:
            self.all_requests.append(request)
            self._counter += 1
            request_id = f"req_{self._counter:032x}"
        headers = {"x-request-id": request_id, "openai-version": "2020-10-01"}
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error_response(
                ApiError(
                    401,
                    "Incorrect API key provided. You can find your API key in your "
                    "OpenAI account settings.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
                headers,
            )
        path = request.path.split("?", 1)[0]
        if request.method != "POST" or path != "/v1/chat/completions":
            return _error_response(
                ApiError(404, f"Invalid URL ({request.method} {path})", "invalid_request_error"),
                headers,
            )
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error_response(
                invalid("'messages' is a required property", "messages", None), headers
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
        failure = scripted_error(outcome, str(body["model"]), body, request_id, self.models)
        if failure is not None:
            return _error_response(failure, headers)
        answered = outcome if isinstance(outcome, str) else None
        with self._lock:
            given = self._answers.pop(0) if self._answers else None
        completion = self.completion(body, answered, given)
        return Response.json_body(200, completion, headers)

    # --- the answer -------------------------------------------------------------------

    def completion(
        self, body: dict[str, Any], outcome: str | None = None, given: Any = None
    ) -> dict[str, Any]:
        """The ``chat.completion`` answered for ``body`` (deterministic but for ``created``)."""
        if given is None:
            text = content(body, _json_schema(body.get("response_format")), self.samples)
        else:
            text = json.dumps(given, ensure_ascii=False)
        finish_reason = "stop"
        refusal: str | None = None
        answer: str | None = text
        if outcome == "refusal":
            answer, refusal = None, REFUSAL_TEXT
        elif outcome == "length":
            answer = text[: max(1, len(text) // 2)]
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
        message: dict[str, Any] = {
            "role": "assistant",
            "content": answer,
            "refusal": refusal,
            "annotations": [],
        }
        return {
            "id": f"chatcmpl-{digest[:29]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL_NAME,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
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


def _json_schema(response_format: Any) -> dict[str, Any] | None:
    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        return schema if isinstance(schema, dict) else {"type": "object"}
    if response_format.get("type") == "json_object":
        return {"type": "object", "properties": {"summary": {"type": "string"}}}
    return None
