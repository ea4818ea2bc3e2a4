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
audio. Webhooks are not sent: :meth:`webhook_request` describes the POST
AssemblyAI would make ({"transcript_id", "status"} plus the custom auth header)
so the test delivers it where and when it wants; :meth:`deliver_webhook` posts
it for the demo.

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
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
    "speech_model_used",
    "punctuate",
    "format_text",
    "chapters",
    "entities",
    "summary",
)
_TRANSCRIPT_PATH = re.compile(r"^/v2/transcript/([^/?]+)$")
_UPLOAD_PATH = re.compile(r"^/upload/([0-9a-f-]+)$")


@dataclass
class _Job:
    id: str
    submission: dict[str, Any]
    state: dict[str, Any]  # the JSON as it is once the audio has been handled
    final: bool = False
    polls: int = 0
    done: threading.Event = field(default_factory=threading.Event)


class AssemblyAIEmulator(LoopbackServer):
    """``with AssemblyAIEmulator() as emu:`` then point the SDK at ``emu.base_url``."""

    def __init__(
        self, api_key: str = "test-assemblyai-key", *, complete_after_polls: int = 0
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.complete_after_polls = complete_after_polls
        self.requests: list[RecordedRequest] = []
        self.submissions: list[dict[str, Any]] = []
        self.download_timeout = 10.0
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

    def deliver_webhook(self, transcript_id: str, timeout: float = 10.0) -> int:
        """POST :meth:`webhook_request` to its URL; return the status code (recorded too)."""
        url, headers, body = self.webhook_request(transcript_id)
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        with self._lock:
            self._jobs[transcript_id].state["webhook_status_code"] = status
        return status

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
        refusal = _scripted(outcome) or _invalid(request.json)
        if refusal is not None or not isinstance(request.json, dict):
            return refusal or Response.json_body(400, {"error": "Transcript creation error"})
        body: dict[str, Any] = dict(request.json)
        transcript_id = str(uuid.uuid4())
        state = _initial_json(transcript_id, body)
        job = _Job(id=transcript_id, submission=dict(body), state=state)
        with self._lock:
            self._jobs[transcript_id] = job
            answer = self._view(job)
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

    def _process(self, job: _Job) -> None:
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

    def _finish(
        self, job: _Job, *, result: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        with self._lock:
            state = job.state
            if result is not None:
                for key in _RESULT_FIELDS:
                    if key in result and not (key == "language_code" and job.submission.get(key)):
                        state[key] = result[key]
                if job.submission.get("language_detection") and "language_code" in result:
                    state["language_code"] = result["language_code"]
                models = job.submission.get("speech_models") or []
                state["speech_model_used"] = (
                    result.get("speech_model_used")
                    or (models[0] if isinstance(models, list) and models else None)
                    or job.submission.get("speech_model")
                    or result.get("speech_model")
                )
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


def _invalid(body: Any) -> Response | None:
    """The 400 AssemblyAI answers for a submission it cannot accept, or None."""
    if not isinstance(body, dict):
        message = "Transcript creation error, invalid JSON body"
    elif not isinstance(body.get("audio_url"), str) or not body["audio_url"]:
        message = "Transcript creation error, audio_url is required"
    elif not body["audio_url"].startswith(("http://", "https://")):
        message = "Transcript creation error, audio_url should start with http"
    else:
        return None
    return Response.json_body(400, {"error": message})


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
