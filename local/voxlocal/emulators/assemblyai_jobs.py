"""The AssemblyAI emulator's jobs: the transcript JSON from submission to its end.

What it does not do is recognise speech: the downloaded audio is matched by
SHA-256 to registered audio, whose transcript JSON becomes the result. The
functions here are pure (they build or return JSON); the emulator holds the
jobs and its lock.

Wording of the error texts, as seen from the real service in public reports:
``Transcoding failed. File does not appear to contain audio. File type is ...``,
``Download error, unable to download <url>. Please make sure the file exists and
is accessible from the internet.``
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from voxlocal.emulators import assemblyai_schema as schema

NOT_AUDIO_ERROR = "Transcoding failed. File does not appear to contain audio. File type is {kind}."
# Not AssemblyAI's: the emulator cannot recognise speech, so a real recording it
# was not given the transcript of ends with what to do instead of a false reason.
UNKNOWN_RECORDING_ERROR = (
    "This is the local AssemblyAI emulator: it cannot transcribe a recording it was not "
    "given the transcript of ({kind}). Set ASSEMBLYAI_API_KEY to use the real service, "
    "or give the transcript (make demo AUDIO=... TRANSCRIPT=notes.txt|transcript.json)."
)
DOWNLOAD_ERROR = (
    "Download error, unable to download {url}. "
    "Please make sure the file exists and is accessible from the internet."
)

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


@dataclass
class Job:
    """One accepted submission."""

    id: str
    submission: dict[str, Any]
    state: dict[str, Any]  # the JSON as it is once the audio has been handled
    final: bool = False
    polls: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    delivered: threading.Event = field(default_factory=threading.Event)

    def view(self, complete_after_polls: int) -> dict[str, Any]:
        """The JSON as a GET sees it now: "processing" for the first polls if asked."""
        state: dict[str, Any] = json.loads(json.dumps(self.state))  # a deep copy
        if self.final and self.polls < complete_after_polls:
            state = initial_json(self.id, self.submission)
            state["status"] = "processing"
        return state


def initial_json(transcript_id: str, submission: dict[str, Any]) -> dict[str, Any]:
    """The transcript JSON right after submission: config echoed, results empty
    (never ``webhook_auth_header_value``, which the real API does not return)."""
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


def download(url: str, timeout: float) -> bytes | str:
    """The audio at ``url``, or the error AssemblyAI reports when it cannot fetch it."""
    try:
        request = urllib.request.Request(url, method="GET")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data: bytes = response.read()
            return data
    except (urllib.error.URLError, OSError, ValueError):
        return DOWNLOAD_ERROR.format(url=url)


def final_json(
    job: Job,
    default_models: tuple[str, ...],
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The job's JSON once its audio has been handled: ``completed`` with the
    registered ``result``, or ``error``.

    ``speech_model_used`` is the first requested model that supports the
    language; no model outside ``speech_models`` is used, so a detected language
    none of them supports ends in ``error`` (assemblyai-stt-3-7 migration guide).
    """
    state: dict[str, Any] = json.loads(json.dumps(job.state))
    submission = job.submission
    if result is not None:
        result = dict(json.loads(json.dumps(result)))  # the registered transcript stays as is
        models = schema.requested_models(submission, default_models)
        language = submission.get("language_code") or result.get("language_code")
        used = schema.speech_model_used(models, language)
        if used is None:
            error = schema.unsupported_language_error(models, str(language))
            result = None
        else:
            for key in _RESULT_FIELDS:
                if key in result and not (key == "language_code" and submission.get(key)):
                    state[key] = result[key]
            if submission.get("language_detection") and "language_code" in result:
                state["language_code"] = result["language_code"]
            state["speech_model_used"] = used
            if not submission.get("speaker_labels") and state.get("utterances"):
                # Without speaker_labels AssemblyAI returns no utterances and no speakers.
                state["utterances"] = None
                for word in state.get("words") or []:
                    word["speaker"] = None
            state["status"] = "completed"
    if result is None:
        state["status"] = "error"
        state["error"] = error
    return state


def unregistered_error(data: bytes) -> str:
    """The error of a file whose transcript the emulator was not given: AssemblyAI's
    own for what is not audio, what to do instead for a real recording."""
    from voxcliente.domain import media

    kind = media.sniff(data[:4096])
    if kind:
        return UNKNOWN_RECORDING_ERROR.format(kind=kind)
    return NOT_AUDIO_ERROR.format(kind=describe(data))


def describe(data: bytes) -> str:
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
