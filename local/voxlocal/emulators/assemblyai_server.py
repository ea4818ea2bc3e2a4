"""A local stand-in for AssemblyAI's pre-recorded transcript API (a TEST DOUBLE).

It speaks the HTTP API the ``assemblyai`` SDK calls, so the production code runs
unchanged with ``aai.settings.base_url = emulator.base_url``:

* ``POST /v2/transcript`` with ``{"audio_url": ..., <config>}`` answers the
  transcript JSON with ``status: "queued"``, echoing the configuration (but
  never ``webhook_auth_header_value``, which the real API does not return).
* ``GET /v2/transcript/{id}`` answers ``processing`` until the audio has been
  fetched (and ``complete_after_polls`` GETs happened), then ``completed`` or
  ``error``.
* ``POST /v2/upload`` keeps raw bytes and answers an ``upload_url`` this server
  serves, as the SDK's ``transcribe(<local file>)`` expects.
* The ``authorization`` header carries the bare API key (no ``Bearer``); a
  wrong or missing key answers ``401 {"error": "Authentication error, API token
  missing/invalid"}``.

What it does not do: recognise speech. The audio it downloads is matched by
SHA-256 to audio registered with :meth:`AssemblyAIEmulator.register_audio`,
whose transcript JSON (the sample's ``<audio>.transcript.json`` sidecar) becomes
the result. Anything else ends as the error AssemblyAI gives for a file without
audio.

Submissions are checked against AssemblyAI's request schema
(:mod:`voxlocal.emulators.assemblyai_schema`): an unknown parameter, a wrong
type, a value outside an enum (``speech_models``, ``language_code``,
``redact_pii_policies``, ...) or options that exclude each other answer
``400 {"error": "..."}`` as the service does. ``speech_model_used`` is the first
requested model that supports the language, as the service reports it; no model
outside ``speech_models`` is used, so a ``language_code`` none of them supports
is a 400 and a detected one ends the transcript in ``error``.

Webhooks: by default none are sent; :meth:`webhook_request` describes the POST
AssemblyAI would make ({"transcript_id", "status"} plus the custom auth header)
so the test delivers it where and when it wants, and :meth:`deliver_webhook`
posts it once (one recorded attempt, with the same rules as below). With
``deliver_webhooks=True`` the emulator delivers it itself when the job is final,
with AssemblyAI's rules ("Webhooks for pre-recorded audio": a 2xx within 10 s is
success, the 10 s counting the whole answer; otherwise it retries, up to 10
attempts in all; a 4xx ends the delivery; the POST is not redirected, so a 3xx
is a failed attempt), records every attempt (:meth:`webhook_attempts`)
and, with ``webhook_before_response=True``, delivers before answering the
``POST /v2/transcript`` (the webhook then reaches a receiver before the caller
holds the transcript id). ``webhook_url_rewrite`` (for example
:func:`rewrite_origin`) sends a public ``webhook_url`` to a loopback receiver.

Wording of the error texts, as seen from the real service in public reports:
``Transcoding failed. File does not appear to contain audio. File type is ...``,
``Download error, unable to download <url>. Please make sure the file exists and
is accessible from the internet.``, ``Transcript creation error, audio_url
should start with http`` and ``Transcript lookup error, transcript id not found``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from voxlocal.emulators import assemblyai_schema as schema
from voxlocal.emulators._http import LoopbackServer, RecordedRequest, Response

AUTH_ERROR = "Authentication error, API token missing/invalid"
NOT_FOUND_ERROR = "Transcript lookup error, transcript id not found"
NOT_AUDIO_ERROR = "Transcoding failed. File does not appear to contain audio. File type is {kind}."
DOWNLOAD_ERROR = (
    "Download error, unable to download {url}. "
    "Please make sure the file exists and is accessible from the internet."
)

SUBMIT_OUTCOMES = ("server_error", "unauthorized", "bad_request")
FINAL_STATUSES = ("completed", "error")

# Webhook delivery ("Webhooks for pre-recorded audio"): a 2xx within 10 s, up to
# 10 attempts in all, no retry after a 4xx. The pause between attempts is not
# published; 10 s stands in for it.
WEBHOOK_DEADLINE_S = 10.0
WEBHOOK_MAX_ATTEMPTS = 10
WEBHOOK_RETRY_DELAY_S = 10.0

# The webhook POST is not redirected: no HTTPRedirectHandler, so a 3xx comes back
# as an HTTPError with its status (a non-2xx answer, retried like a 5xx).
_WEBHOOK_OPENER = urllib.request.OpenerDirector()
for _handler in (
    urllib.request.ProxyHandler(),
    urllib.request.HTTPHandler(),
    urllib.request.HTTPSHandler(),
    urllib.request.HTTPDefaultErrorHandler(),
    urllib.request.HTTPErrorProcessor(),
):
    _WEBHOOK_OPENER.add_handler(_handler)

# Fields of a registered transcript that describe the recognition result (the
# rest of the JSON comes from the submission and the emulator's own state).
_RESULT_FIELDS = (
    "text",
    "words",
    "utterances",
    "confidence",
    "audio_duration",
    "language_code",
    "language_confidence",
    "punctuate",
    "format_text",
    "chapters",
    "entities",
    "summary",
)
_TRANSCRIPT_PATH = re.compile(r"^/v2/transcript/([^/?]+)$")
_UPLOAD_PATH = re.compile(r"^/upload/([0-9a-f-]+)$")


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST the emulator made to a ``webhook_url``."""

    transcript_id: str
    number: int  # 1 for the first attempt
    url: str  # where it went (after ``webhook_url_rewrite``)
    status_code: int | None  # None: timeout or connection error
    error: str | None  # why there is no status code
    started_at: float  # time.monotonic()
    elapsed_s: float

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class _Job:
    id: str
    submission: dict[str, Any]
    state: dict[str, Any]  # the JSON as it is once the audio has been handled
    final: bool = False
    polls: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    delivered: threading.Event = field(default_factory=threading.Event)


def rewrite_origin(origin: str) -> Callable[[str], str]:
    """A ``webhook_url_rewrite`` that keeps path and query and replaces scheme and host."""
    target = urlsplit(origin)

    def rewrite(url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))

    return rewrite


class AssemblyAIEmulator(LoopbackServer):
    """``with AssemblyAIEmulator() as emu:`` then point the SDK at ``emu.base_url``."""

    def __init__(
        self,
        api_key: str = "test-assemblyai-key",
        *,
        complete_after_polls: int = 0,
        default_speech_models: tuple[str, ...] = schema.DEFAULT_SPEECH_MODELS,
        deliver_webhooks: bool = False,
        webhook_before_response: bool = False,
        webhook_url_rewrite: Callable[[str], str] | None = None,
        webhook_deadline_s: float = WEBHOOK_DEADLINE_S,
        webhook_max_attempts: int = WEBHOOK_MAX_ATTEMPTS,
        webhook_retry_delay_s: float = WEBHOOK_RETRY_DELAY_S,
    ) -> None:
        """``deliver_webhooks``: POST the webhook when a job is final (off: the test
        delivers it through :meth:`webhook_request` or :meth:`deliver_webhook`).
        ``webhook_before_response``: do the job and the first delivery attempt before
        answering ``POST /v2/transcript``. The deadline, attempts and pause are
        AssemblyAI's unless a test shortens them.
        """
        super().__init__()
        if webhook_before_response and not deliver_webhooks:
            raise ValueError("webhook_before_response needs deliver_webhooks=True")
        if webhook_max_attempts < 1:
            raise ValueError("webhook_max_attempts must be at least 1")
        self.api_key = api_key
        self.complete_after_polls = complete_after_polls
        self.default_speech_models = default_speech_models
        self.deliver_webhooks = deliver_webhooks
        self.webhook_before_response = webhook_before_response
        self.webhook_url_rewrite = webhook_url_rewrite
        self.webhook_deadline_s = webhook_deadline_s
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_retry_delay_s = webhook_retry_delay_s
        self.requests: list[RecordedRequest] = []
        self.submissions: list[dict[str, Any]] = []
        self.download_timeout = 10.0
        self._attempts: list[WebhookAttempt] = []
        self._closing = threading.Event()
        self._audio: dict[str, dict[str, Any]] = {}  # sha256 -> transcript JSON
        self._uploads: dict[str, bytes] = {}
        self._script: list[str] = []
        self._jobs: dict[str, _Job] = {}

    @property
    def base_url(self) -> str:
        """What ``aai.settings.base_url`` takes."""
        return self.origin

    # --- test set-up ------------------------------------------------------------

    def register_audio(
        self, audio: bytes | Path, transcript: dict[str, Any] | Path | None = None
    ) -> None:
        """Make these audio bytes transcribe to ``transcript`` (AssemblyAI's transcript JSON).

        With a path and no transcript, the sidecar ``<audio path>.transcript.json``
        is used; with bytes, a transcript is required.
        """
        if isinstance(audio, Path):
            data = audio.read_bytes()
            if transcript is None:
                sidecar = audio.with_name(audio.name + ".transcript.json")
                if not sidecar.exists():
                    raise FileNotFoundError(f"no transcript given and no sidecar {sidecar.name}")
                transcript = sidecar
        else:
            data = bytes(audio)
        if transcript is None:
            raise ValueError("register_audio(bytes) needs the transcript JSON")
        if isinstance(transcript, Path):
            transcript = json.loads(transcript.read_text(encoding="utf-8"))
        if not isinstance(transcript, dict):
            raise TypeError("the transcript must be a JSON object")
        with self._lock:
            self._audio[hashlib.sha256(data).hexdigest()] = dict(transcript)

    def script_submit(self, *outcomes: str) -> None:
        """Answer the next ``POST /v2/transcript`` calls with these failures, in order."""
        for outcome in outcomes:
            if outcome not in SUBMIT_OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}; expected one of {SUBMIT_OUTCOMES}")
        with self._lock:
            self._script.extend(outcomes)

    # --- inspection ---------------------------------------------------------------

    def transcript(self, transcript_id: str) -> dict[str, Any]:
        """The JSON a GET would answer now (without counting as a poll)."""
        with self._lock:
            job = self._jobs.get(transcript_id)
            if job is None:
                raise KeyError(transcript_id)
            return self._view(job)

    def wait(self, transcript_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the audio was fetched and handled; return the final JSON.

        The final JSON is returned even when ``complete_after_polls`` still hides
        it from GET.
        """
        with self._lock:
            job = self._jobs.get(transcript_id)
        if job is None:
            raise KeyError(transcript_id)
        if not job.done.wait(timeout):
            raise TimeoutError(f"transcript {transcript_id} not final after {timeout} s")
        with self._lock:
            final: dict[str, Any] = json.loads(json.dumps(job.state))  # a deep copy
        return final

    def webhook_request(self, transcript_id: str) -> tuple[str, dict[str, str], dict[str, Any]]:
        """The POST AssemblyAI would send when the transcript is final: (url, headers, body).

        Waits for the final state first. Raises ``LookupError`` when the
        submission had no ``webhook_url``.
        """
        final = self.wait(transcript_id)
        with self._lock:
            submission = self._jobs[transcript_id].submission
        url = submission.get("webhook_url")
        if not url:
            raise LookupError(f"transcript {transcript_id} was submitted without webhook_url")
        headers = {"content-type": "application/json"}
        name = submission.get("webhook_auth_header_name")
        value = submission.get("webhook_auth_header_value")
        if name and value is not None:
            headers[str(name)] = str(value)
        return str(url), headers, {"transcript_id": transcript_id, "status": final["status"]}

    def webhook_attempts(self, transcript_id: str | None = None) -> list[WebhookAttempt]:
        """The delivery attempts made so far (of one transcript, or all), oldest first."""
        with self._lock:
            return [a for a in self._attempts if transcript_id in (None, a.transcript_id)]

    def wait_webhook_delivery(
        self, transcript_id: str, timeout: float = 10.0
    ) -> list[WebhookAttempt]:
        """Wait until the emulator stopped delivering (success, a 4xx, or attempts used up)."""
        with self._lock:
            job = self._jobs.get(transcript_id)
        if job is None:
            raise KeyError(transcript_id)
        if not self.deliver_webhooks or not job.submission.get("webhook_url"):
            raise LookupError(
                f"transcript {transcript_id} gets no webhook: the emulator was built "
                "without deliver_webhooks=True or the submission had no webhook_url"
            )
        if not job.delivered.wait(timeout):
            raise TimeoutError(
                f"webhook delivery of {transcript_id} still running after {timeout} s "
                f"({len(self.webhook_attempts(transcript_id))} attempt(s) so far)"
            )
        return self.webhook_attempts(transcript_id)

    def deliver_webhook(self, transcript_id: str, timeout: float | None = None) -> int | None:
        """POST :meth:`webhook_request` to its URL once, as one recorded attempt.

        Returns the status code, or None when there was no answer in time
        (``timeout``, default ``webhook_deadline_s``) or no connection; the
        attempt is in :meth:`webhook_attempts` either way.
        """
        self.wait(transcript_id)
        with self._lock:
            job = self._jobs[transcript_id]
            number = 1 + sum(1 for a in self._attempts if a.transcript_id == transcript_id)
        return self._post_webhook(job, number, timeout).status_code

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        self._closing.clear()
        super().start()

    def stop(self) -> None:
        self._closing.set()  # pending webhook retries give up
        super().stop()

    # --- HTTP ---------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> Response:
        with self._lock:
            self.requests.append(request)
        path = urlsplit(request.path).path

        upload = _UPLOAD_PATH.match(path)
        if request.method == "GET" and upload:  # the upload "CDN": no key needed
            return self._serve_upload(upload.group(1))

        if request.headers.get("authorization") != self.api_key:
            return Response.json_body(401, {"error": AUTH_ERROR})

        if path == "/v2/transcript" and request.method == "POST":
            return self._submit(request)
        if path == "/v2/upload" and request.method == "POST":
            return self._upload(request)
        match = _TRANSCRIPT_PATH.match(path)
        if match and request.method == "GET":
            return self._get(match.group(1))
        return Response.json_body(404, {"error": "Not found"})

    def _submit(self, request: RecordedRequest) -> Response:
        with self._lock:
            outcome = self._script.pop(0) if self._script else None
            if isinstance(request.json, dict):
                self.submissions.append(dict(request.json))
        refusal = _scripted(outcome) or _invalid(request.json, self.default_speech_models)
        if refusal is not None or not isinstance(request.json, dict):
            return refusal or Response.json_body(400, {"error": "Transcript creation error"})
        body: dict[str, Any] = dict(request.json)
        transcript_id = str(uuid.uuid4())
        state = _initial_json(transcript_id, body)
        job = _Job(id=transcript_id, submission=dict(body), state=state)
        with self._lock:
            self._jobs[transcript_id] = job
            answer = self._view(job)
        if self.webhook_before_response:
            # The race: the job ends and the webhook goes out before the caller
            # has the id (retries, if any, continue in the background).
            self._process(job, first_attempt_inline=True)
        else:
            threading.Thread(
                target=self._process, args=(job,), name=f"assemblyai-{transcript_id}", daemon=True
            ).start()
        return Response.json_body(200, answer)

    def _get(self, transcript_id: str) -> Response:
        with self._lock:
            job = self._jobs.get(transcript_id)
            if job is None:
                # The real service has been seen answering 400 with this text as well.
                return Response.json_body(404, {"error": NOT_FOUND_ERROR})
            answer = self._view(job)  # the first ``complete_after_polls`` GETs see "processing"
            job.polls += 1
            return Response.json_body(200, answer)

    def _upload(self, request: RecordedRequest) -> Response:
        upload_id = str(uuid.uuid4())
        with self._lock:
            self._uploads[upload_id] = request.body
        return Response.json_body(200, {"upload_url": f"{self.origin}/upload/{upload_id}"})

    def _serve_upload(self, upload_id: str) -> Response:
        with self._lock:
            data = self._uploads.get(upload_id)
        if data is None:
            return Response(404, b"not found", {"content-type": "text/plain"})
        return Response(200, data, {"content-type": "application/octet-stream"})

    # --- the "transcription" ------------------------------------------------------

    def _view(self, job: _Job) -> dict[str, Any]:
        """The JSON as a GET sees it now (caller holds the lock)."""
        state: dict[str, Any] = json.loads(json.dumps(job.state))
        if job.final and job.polls < self.complete_after_polls:
            state = _initial_json(job.id, job.submission)
            state["status"] = "processing"
        return state

    def _process(self, job: _Job, *, first_attempt_inline: bool = False) -> None:
        self._transcribe(job)
        if not self.deliver_webhooks or not job.submission.get("webhook_url"):
            job.delivered.set()
            return
        if not first_attempt_inline:
            self._deliver(job, first=1)
        elif not self._attempt_ends_delivery(job, 1):
            threading.Thread(
                target=self._deliver, args=(job, 2), name=f"webhook-{job.id}", daemon=True
            ).start()
        else:
            job.delivered.set()

    def _transcribe(self, job: _Job) -> None:
        url = str(job.submission["audio_url"])
        with self._lock:
            if not job.final:
                job.state["status"] = "processing"
        try:
            request = urllib.request.Request(url, method="GET")
            with urllib.request.urlopen(request, timeout=self.download_timeout) as response:
                data = response.read()
        except (urllib.error.URLError, OSError, ValueError):
            self._finish(job, error=DOWNLOAD_ERROR.format(url=url))
            return
        with self._lock:
            registered = self._audio.get(hashlib.sha256(data).hexdigest())
        if registered is None:
            self._finish(job, error=NOT_AUDIO_ERROR.format(kind=_describe(data)))
        else:
            self._finish(job, result=registered)

    # --- webhook delivery ---------------------------------------------------------------

    def _deliver(self, job: _Job, first: int) -> None:
        """Attempts ``first`` .. ``webhook_max_attempts``, until one ends the delivery."""
        try:
            for number in range(first, self.webhook_max_attempts + 1):
                if number > 1 and self._closing.wait(self.webhook_retry_delay_s):
                    return  # the emulator stopped
                if self._attempt_ends_delivery(job, number):
                    return
        finally:
            job.delivered.set()

    def _attempt_ends_delivery(self, job: _Job, number: int) -> bool:
        """One POST; True when no retry follows (a 2xx or a 4xx)."""
        status = self._post_webhook(job, number).status_code
        return status is not None and (200 <= status < 300 or 400 <= status < 500)

    def _post_webhook(
        self, job: _Job, number: int, deadline_s: float | None = None
    ) -> WebhookAttempt:
        """POST the webhook once and record the attempt (automatic and manual delivery).

        The deadline is for the whole exchange: an answer that completes after it
        counts as none, however the bytes trickled in (a socket timeout alone is
        per read). Redirects are not followed: a 3xx is an answer that is not a 2xx.
        """
        deadline = self.webhook_deadline_s if deadline_s is None else deadline_s
        url, headers, body = self.webhook_request(job.id)
        if self.webhook_url_rewrite is not None:
            url = self.webhook_url_rewrite(url)
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        status: int | None = None
        error: str | None = None
        started = time.monotonic()
        try:
            with _WEBHOOK_OPENER.open(request, timeout=deadline) as response:
                response.read()
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if not isinstance(reason, TimeoutError):
                error = f"connection failed: {reason}"
        elapsed = time.monotonic() - started
        if error is None and (status is None or elapsed > deadline):
            status, error = None, f"no answer within {deadline} s"
        attempt = WebhookAttempt(job.id, number, url, status, error, started, elapsed)
        with self._lock:
            self._attempts.append(attempt)
            job.state["webhook_status_code"] = status
        return attempt

    def _finish(
        self, job: _Job, *, result: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        used: str | None = None
        if result is not None:
            models = schema.requested_models(job.submission, self.default_speech_models)
            language = job.submission.get("language_code") or result.get("language_code")
            used = schema.speech_model_used(models, language)
            if used is None:
                # No listed model supports the detected language, and none outside
                # speech_models is used (assemblyai-stt-3-7 migration guide).
                error = schema.unsupported_language_error(models, str(language))
                result = None
        with self._lock:
            state = job.state
            if result is not None:
                for key in _RESULT_FIELDS:
                    if key in result and not (key == "language_code" and job.submission.get(key)):
                        state[key] = result[key]
                if job.submission.get("language_detection") and "language_code" in result:
                    state["language_code"] = result["language_code"]
                state["speech_model_used"] = used
                if not job.submission.get("speaker_labels") and state.get("utterances"):
                    # Without speaker_labels AssemblyAI returns no utterances and no speakers.
                    state["utterances"] = None
                    for word in state.get("words") or []:
                        word["speaker"] = None
                state["status"] = "completed"
            else:
                state["status"] = "error"
                state["error"] = error
            job.final = True
        job.done.set()


def _scripted(outcome: str | None) -> Response | None:
    if outcome == "server_error":
        return Response.json_body(500, {"error": "Internal server error"})
    if outcome == "unauthorized":
        return Response.json_body(401, {"error": AUTH_ERROR})
    if outcome == "bad_request":
        return Response.json_body(400, {"error": "Transcript creation error, bad request"})
    return None


def _invalid(body: Any, default_models: tuple[str, ...]) -> Response | None:
    """The 400 AssemblyAI answers for a submission it cannot accept, or None."""
    try:
        schema.check_transcript_params(body, default_models)
    except schema.InvalidParams as exc:
        return Response.json_body(400, {"error": str(exc)})
    return None


def _initial_json(transcript_id: str, submission: dict[str, Any]) -> dict[str, Any]:
    """The transcript JSON right after submission: config echoed, results empty."""
    state: dict[str, Any] = {
        "id": transcript_id,
        "status": "queued",
        "audio_url": submission.get("audio_url"),
        "language_code": None,
        "language_detection": False,
        "speaker_labels": False,
        "speech_model": None,
        "punctuate": True,
        "format_text": True,
        "webhook_url": None,
        "webhook_auth": False,
        "webhook_auth_header_name": None,
        "webhook_status_code": None,
        "text": None,
        "words": None,
        "utterances": None,
        "confidence": None,
        "audio_duration": None,
        "error": None,
    }
    for key, value in submission.items():
        if key != "webhook_auth_header_value":
            state[key] = value
    state["id"] = transcript_id
    state["status"] = "queued"
    state["webhook_auth"] = bool(submission.get("webhook_auth_header_name"))
    return state


def _describe(data: bytes) -> str:
    """A rough ``file``-style description, in the shape AssemblyAI quotes it."""
    if not data:
        return "application/x-empty (empty)"
    if data.startswith(b"%PDF"):
        return "application/pdf (PDF document)"
    if data.startswith(b"PK\x03\x04"):
        return "application/zip (Zip archive data)"
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream (data)"
    return "text/plain (ASCII text)"
