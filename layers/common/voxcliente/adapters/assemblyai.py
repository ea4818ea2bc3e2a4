"""AssemblyAI over plain HTTP: submit a file by URL, upload bytes, read a transcript back.

Four requests, sent with the httpx client we ship (the SDK, with its
websockets and its own models, served only these): ``POST /v2/upload``,
``POST /v2/transcript``, ``GET /v2/transcript/{id}`` and (erasure)
``DELETE /v2/transcript/{id}``, each with the API key
in ``authorization``, as the SDK sends them. httpx is imported on first use:
the webhook needs AssemblyAI only when a transcript failed.

Facts relied on (AssemblyAI docs, "Webhooks for pre-recorded audio" and the
transcript API reference):
* ``POST /v2/transcript`` with ``audio_url``; the model is chosen with
  ``speech_models`` (plural, priority order; the singular form is deprecated).
* ``POST /v2/upload`` takes the raw bytes and answers ``{"upload_url"}``.
* ``webhook_url`` gets ``POST {"transcript_id", "status"}`` when the transcript
  is ``completed`` or ``error``, carrying ``webhook_auth_header_name: value``.
  The receiver must answer 2xx within 10 s; otherwise AssemblyAI retries, up
  to 10 attempts in all, and a 4xx answer stops the retries.
* A failed transcript has ``status: "error"`` and the reason in ``error``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode
from uuid import UUID

from voxcliente.domain.errors import ProviderError, TransientError
from voxcliente.domain.frozen import Frozen
from voxcliente.domain.models import Utterance
from voxcliente.observability import logger
from voxcliente.settings import Settings, get_settings

if TYPE_CHECKING:
    import httpx

# Query parameter of the webhook URL naming the meeting.
WEBHOOK_MEETING_PARAM = "meeting_id"


class TranscriptResult(Frozen):
    transcript_id: str
    status: str  # queued | processing | completed | error
    error: str | None
    text: str
    utterances: list[Utterance]
    language_code: str | None
    audio_duration_s: float | None
    confidence: float | None
    speech_model: str | None

    @property
    def done(self) -> bool:
        return self.status in ("completed", "error")


class RefusedAnswer(Exception):
    """AssemblyAI answered with an HTTP status other than 200."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class Connection(Frozen):
    """The HTTP client of one API key: base URL, key and timeout from the settings."""

    http_client: httpx.Client


def _client(settings: Settings) -> Connection:
    return _cached_client(
        settings.get_assemblyai_api_key(),
        settings.assemblyai_base_url,
        settings.assemblyai_timeout_s,
    )


@lru_cache(maxsize=4)
def _cached_client(api_key: str, base_url: str, timeout_s: float) -> Connection:
    """One client (and its connection pool) per key, kept across warm invocations."""
    import httpx

    return Connection(
        http_client=httpx.Client(
            base_url=base_url,
            headers={"authorization": api_key, "user-agent": "voxcliente"},
            timeout=timeout_s,
        )
    )


def _raise_for(exc: Exception, action: str) -> None:
    """Map any exception to ours: a 4xx answer is final, everything else transient.

    Nothing escapes unmapped: an unexpected error (say, an answer that is not the
    JSON expected) is transient, so the caller releases its claim or keeps what it
    stored, and the retry or the webhook finishes the work.
    """
    import httpx

    if isinstance(exc, RefusedAnswer):
        status = exc.status_code
        if 400 <= status < 500 and status not in (408, 429):
            raise ProviderError(
                f"AssemblyAI refused to {action} (HTTP {status}): {exc}",
                code="assemblyai_rejected",
            ) from exc
        raise TransientError(
            f"AssemblyAI could not {action} right now (HTTP {status or '?'}).",
            code="assemblyai_unavailable",
        ) from exc
    if isinstance(exc, httpx.HTTPError):
        raise TransientError(
            f"AssemblyAI could not be reached to {action}: {exc.__class__.__name__}.",
            code="assemblyai_unavailable",
        ) from exc
    raise TransientError(
        f"AssemblyAI's answer to {action} could not be read ({exc.__class__.__name__}).",
        code="assemblyai_unavailable",
    ) from exc


def webhook_url_for(meeting_id: UUID, settings: Settings) -> str:
    """Our webhook URL carrying the meeting id, so a webhook that arrives before (or
    without) Submit's commit of the transcript id still finds its meeting."""
    settings.require("webhook_url")
    url = str(settings.webhook_url)
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode({WEBHOOK_MEETING_PARAM: str(meeting_id)})}"


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 200 answer; AssemblyAI's own error otherwise."""
    _refused(response)
    data = response.json()
    if not isinstance(data, dict):
        raise TypeError("AssemblyAI answered something other than a JSON object")
    return data


def _refused(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RefusedAnswer(_error_message(response), response.status_code)


def _error_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])[:500]
    return response.text[:500]


def transcript_request(
    audio_url: str, *, language_code: str | None, settings: Settings
) -> dict[str, Any]:
    """The ``POST /v2/transcript`` body, without the webhook (Submit adds it; the live
    smoke check polls instead): speech models named explicitly, speakers, formatting,
    the given language or detection, PII redaction when enabled."""
    request: dict[str, Any] = {
        "audio_url": audio_url,
        "speech_models": list(settings.assemblyai_speech_models),
        "speaker_labels": True,
        "punctuate": True,
        "format_text": True,
    }
    if language_code:
        request["language_code"] = language_code
    else:
        request["language_detection"] = True
    if settings.assemblyai_pii_redaction:
        request["redact_pii"] = True
        request["redact_pii_policies"] = list(settings.assemblyai_pii_policies)
    return request


def submit(
    audio_url: str,
    *,
    meeting_id: UUID,
    language_code: str | None = None,
    settings: Settings | None = None,
) -> str:
    """Submit a file for transcription with our webhook; return the transcript id.

    Only ``id`` is read from the answer: a change in the rest of
    the response cannot lose a transcript AssemblyAI already accepted.
    """
    cfg = settings or get_settings()
    request = transcript_request(audio_url, language_code=language_code, settings=cfg)
    request.update(
        {
            "webhook_url": webhook_url_for(meeting_id, cfg),
            "webhook_auth_header_name": cfg.webhook_auth_header,
            "webhook_auth_header_value": cfg.get_webhook_secret(),
        }
    )
    try:
        transcript_id = _answer(_client(cfg).http_client.post("/v2/transcript", json=request))["id"]
    except Exception as exc:
        logger.exception("AssemblyAI submission failed", extra={"meeting_id": str(meeting_id)})
        _raise_for(exc, "accept the file")
        raise  # pragma: no cover - _raise_for always raises
    return str(transcript_id)


def upload(data: bytes, *, settings: Settings | None = None) -> str:
    """Upload audio bytes to AssemblyAI; return the URL to transcribe them from."""
    cfg = settings or get_settings()
    try:
        return str(_answer(_client(cfg).http_client.post("/v2/upload", content=data))["upload_url"])
    except Exception as exc:
        logger.exception("AssemblyAI upload failed")
        _raise_for(exc, "accept the upload")
        raise  # pragma: no cover


def fetch(transcript_id: str, *, settings: Settings | None = None) -> TranscriptResult:
    """Read a transcript (and its utterances) from AssemblyAI."""
    cfg = settings or get_settings()
    client = _client(cfg)
    try:
        response = client.http_client.get(f"/v2/transcript/{transcript_id}")
        _refused(response)
        # Its words are passed over, not decoded (see the module imported here).
        from voxcliente.adapters.assemblyai_json import read_transcript

        return parse_transcript(read_transcript(response.content))
    except Exception as exc:
        logger.exception("AssemblyAI transcript fetch failed")
        _raise_for(exc, "return the transcript")
        raise  # pragma: no cover


def delete_transcript(transcript_id: str, *, settings: Settings | None = None) -> None:
    """Delete a transcript at AssemblyAI (``DELETE /v2/transcript/{id}``).

    AssemblyAI keeps the transcript's record and blanks its content: the answer
    is the transcript with ``text`` "Deleted by user." and ``audio_url``
    "http://deleted_by_user" (its docs, "Delete transcripts", and the SDKs'
    tests); a file sent through ``/v2/upload`` is deleted with it. Deleting again
    answers 200 as well. A transcript still ``queued`` or ``processing`` cannot
    be deleted yet: the 400 it answers is transient here, and so is every 5xx,
    429 and network failure (the erasure stays pending and is retried). 404 means
    there is nothing (left) to delete: done. A refused key (401/403) is a
    :class:`ProviderError`: nothing gets better without a person.
    """
    cfg = settings or get_settings()
    try:
        response = _client(cfg).http_client.delete(f"/v2/transcript/{transcript_id}")
    except Exception as exc:
        _raise_for(exc, "delete the transcript")
        raise  # pragma: no cover
    if response.status_code in (200, 404):
        return
    if response.status_code == 400:
        raise TransientError(
            "AssemblyAI could not delete the transcript yet (HTTP 400: still being "
            "processed); it is tried again later.",
            code="assemblyai_unavailable",
        ) from RefusedAnswer(_error_message(response), 400)
    try:
        _refused(response)
    except RefusedAnswer as exc:
        _raise_for(exc, "delete the transcript")


class Fields(Protocol):
    """A transcript answer, or one of its utterances, read by key: a dict, or the
    records of :mod:`voxcliente.adapters.assemblyai_json`."""

    def get(self, key: str, /) -> Any: ...


def parse_transcript(data: Fields) -> TranscriptResult:
    """AssemblyAI's transcript JSON to our result (times in milliseconds)."""
    utterances = [
        Utterance(
            speaker=str(u.get("speaker") or "?"),
            start_ms=int(u.get("start") or 0),
            end_ms=int(u.get("end") or 0),
            text=str(u.get("text") or ""),
            confidence=u.get("confidence"),
        )
        for u in (data.get("utterances") or [])
    ]
    text = str(data.get("text") or "")
    if not utterances and text.strip():
        # No diarisation result (e.g. one speaker): the whole text is one utterance.
        duration_ms = int(float(data.get("audio_duration") or 0) * 1000)
        utterances = [Utterance(speaker="A", start_ms=0, end_ms=duration_ms, text=text)]
    duration = data.get("audio_duration")
    return TranscriptResult(
        transcript_id=str(data.get("id")),
        status=str(data.get("status")),
        error=data.get("error"),
        text=text,
        utterances=utterances,
        language_code=data.get("language_code"),
        audio_duration_s=float(duration) if duration is not None else None,
        confidence=data.get("confidence"),
        speech_model=data.get("speech_model_used") or data.get("speech_model"),
    )
