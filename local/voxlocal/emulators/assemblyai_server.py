"""A local stand-in for AssemblyAI's pre-recorded transcript API (a TEST DOUBLE).

It speaks the HTTP API the ``assemblyai`` SDK calls, so the production code runs
unchanged with ``aai.settings.base_url = emulator.base_url``:

* ``POST /v2/transcript`` with ``{"audio_url": ..., <config>}`` answers the
  transcript JSON with ``status: "queued"``, echoing the configuration (but
  never ``webhook_auth_header_value``, which the real API does not return).
* ``GET /v2/transcript/{id}`` answers ``processing`` until the audio has been
  fetched (and ``complete_after_polls`` GETs happened), then ``completed``/``error``.
* ``POST /v2/upload`` keeps raw bytes and answers an ``upload_url`` this server
  serves, as the SDK's ``transcribe(<local file>)`` expects.
* ``DELETE /v2/transcript/{id}`` blanks a final transcript (:mod:`.assemblyai_deletion`).
* The ``authorization`` header carries the bare API key (no ``Bearer``); a wrong
  or missing key answers ``401 {"error": AUTH_ERROR}``.

What it does not do: recognise speech. The audio it downloads is matched by
SHA-256 to audio registered with :meth:`AssemblyAIEmulator.register_audio`,
whose transcript JSON (the sample's ``<audio>.transcript.json`` sidecar) becomes
the result. Anything else ends as AssemblyAI's error for a file without audio.

Submissions are checked against AssemblyAI's request schema
(:mod:`voxlocal.emulators.assemblyai_schema`): an unknown parameter, a wrong
type, a value outside an enum (``speech_models``, ``language_code``,
``redact_pii_policies``, ...) or options that exclude each other answer
``400 {"error": "..."}`` as the service does. ``speech_model_used`` is the first
requested model that supports the language, as the service reports it; no model
outside ``speech_models`` is used, so a ``language_code`` none of them supports
is a 400 and a detected one ends the transcript in ``error``.

Jobs (:mod:`.assemblyai_jobs`) hold the transcript JSON. Webhooks
(:mod:`.assemblyai_webhook`): none are sent by default; :meth:`webhook_request`
describes AssemblyAI's POST for the test to deliver, :meth:`deliver_webhook`
posts it once; with ``deliver_webhooks=True`` the emulator delivers it with
AssemblyAI's retry rules (``webhook_before_response``: before answering the POST).

Wording of the error texts, as seen from the real service in public reports:
``Transcript creation error, audio_url should start with http``, NOT_FOUND_ERROR
(the others are in :mod:`.assemblyai_jobs`)."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from voxlocal.emulators import assemblyai_schema as schema
from voxlocal.emulators._http import LoopbackServer, RecordedRequest, Response
from voxlocal.emulators.assemblyai_deletion import TranscriptDeletion
from voxlocal.emulators.assemblyai_jobs import (
    DOWNLOAD_ERROR,
    NOT_AUDIO_ERROR,
    Job,
    download,
    final_json,
    initial_json,
    unregistered_error,
)
from voxlocal.emulators.assemblyai_webhook import (
    WEBHOOK_DEADLINE_S,
    WEBHOOK_MAX_ATTEMPTS,
    WEBHOOK_RETRY_DELAY_S,
    WebhookAttempt,
    WebhookSender,
    rewrite_origin,
)

__all__ = [
    "AUTH_ERROR",
    "DOWNLOAD_ERROR",
    "FINAL_STATUSES",
    "NOT_AUDIO_ERROR",
    "NOT_FOUND_ERROR",
    "SUBMIT_OUTCOMES",
    "WEBHOOK_DEADLINE_S",
    "WEBHOOK_MAX_ATTEMPTS",
    "WEBHOOK_RETRY_DELAY_S",
    "AssemblyAIEmulator",
    "WebhookAttempt",
    "rewrite_origin",
]

AUTH_ERROR = "Authentication error, API token missing/invalid"
NOT_FOUND_ERROR = "Transcript lookup error, transcript id not found"

SUBMIT_OUTCOMES = ("server_error", "unauthorized", "bad_request")
FINAL_STATUSES = ("completed", "error")

_TRANSCRIPT_PATH = re.compile(r"^/v2/transcript/([^/?]+)$")
_UPLOAD_PATH = re.compile(r"^/upload/([0-9a-f-]+)$")


class AssemblyAIEmulator(TranscriptDeletion, WebhookSender, LoopbackServer):
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
        self._delete_script: list[str] = []
        self.deletions: list[str] = []
        self._jobs: dict[str, Job] = {}

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

    def transcript_ids(self) -> list[str]:
        """The ids of the transcripts accepted so far (a refused submission has none),
        oldest first: what AssemblyAI would bill."""
        with self._lock:
            return list(self._jobs)

    def transcript(self, transcript_id: str) -> dict[str, Any]:
        """The JSON a GET would answer now (without counting as a poll)."""
        with self._lock:
            job = self._jobs.get(transcript_id)
            if job is None:
                raise KeyError(transcript_id)
            return job.view(self.complete_after_polls)

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
        if match and request.method == "DELETE":
            return self._delete(match.group(1), NOT_FOUND_ERROR)
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
        state = initial_json(transcript_id, body)
        job = Job(id=transcript_id, submission=dict(body), state=state)
        with self._lock:
            self._jobs[transcript_id] = job
            answer = job.view(self.complete_after_polls)
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
            # The first ``complete_after_polls`` GETs see "processing".
            answer = job.view(self.complete_after_polls)
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

    def _process(self, job: Job, *, first_attempt_inline: bool = False) -> None:
        self._transcribe(job)
        self._deliver_when_final(job, first_attempt_inline=first_attempt_inline)

    def _transcribe(self, job: Job) -> None:
        with self._lock:
            if not job.final:
                job.state["status"] = "processing"
        data = download(str(job.submission["audio_url"]), self.download_timeout)
        if isinstance(data, str):
            self._finish(job, error=data)
            return
        with self._lock:
            registered = self._audio.get(hashlib.sha256(data).hexdigest())
        if registered is None:
            self._finish(job, error=unregistered_error(data))
        else:
            self._finish(job, result=registered)

    def _finish(
        self, job: Job, *, result: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        with self._lock:
            job.state = final_json(job, self.default_speech_models, result=result, error=error)
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
