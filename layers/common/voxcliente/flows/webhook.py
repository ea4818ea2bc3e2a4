"""Webhook: AssemblyAI says a transcript is ready (or failed). Verify, record, enqueue.

AssemblyAI expects a 2xx within 10 seconds and retries otherwise, up to 10
attempts; a 4xx stops its retries for good (AssemblyAI docs, "Webhooks for
pre-recorded audio"). So only what can never succeed answers 4xx: a bad or
missing secret, a malformed body. Anything that may succeed later answers 503:
the database or the queue unavailable, and a transcript we do not know yet
(the webhook can arrive before Submit commits the id). The webhook URL also
carries the meeting id (``?meeting_id=``): a webhook whose transcript id was
never recorded (Submit lost its database after AssemblyAI accepted the job)
is adopted by its meeting.
Nothing slow happens here: the acta is written by the worker behind the queue.
This module must not import openai, jinja2 or docx (cold start).
"""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from voxcliente.adapters import assemblyai
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import session
from voxcliente.domain import moves
from voxcliente.domain.errors import ProviderError, TransientError
from voxcliente.domain.models import Meeting
from voxcliente.observability import log_unexpected, logger
from voxcliente.pipeline.transcripts import apply_transcript_status, complete_transcript
from voxcliente.settings import Settings, get_settings

# AssemblyAI's transcript ids are UUID-like ("5552493-16d8-42d8-8feb-c2a16b56f6e8"):
# letters, digits and hyphens. Anything else is refused before the database.
_TRANSCRIPT_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


def _header(headers: dict[str, str] | None, name: str) -> str | None:
    wanted = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == wanted:
            return value
    return None


def authorised(headers: dict[str, str] | None, settings: Settings) -> bool:
    """Constant-time comparison of the secret header."""
    given = _header(headers, settings.webhook_auth_header)
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), settings.get_webhook_secret().encode("utf-8"))


def _meeting_for(transcript_id: str, meeting_id: UUID | None) -> Meeting | None:
    """The meeting this webhook is about, adopting the transcript if Submit never
    recorded its id. None when nothing (yet) matches."""
    with session() as tx:
        meeting = repo.get_meeting_by_transcript_id(tx, transcript_id)
        if meeting is not None or meeting_id is None:
            return meeting
        meeting = repo.get_meeting(tx, meeting_id)
        if meeting is None or meeting.assemblyai_transcript_id is not None:
            return meeting
        adopted = repo.transition(
            tx,
            meeting.id,
            moves.ADOPTED_FROM_WEBHOOK,
            details={"transcript_id": transcript_id},
            fields={"assemblyai_transcript_id": transcript_id},
        )
        return adopted or repo.get_meeting(tx, meeting_id)


def _meeting_param(query: dict[str, str] | None) -> UUID | None:
    value = (query or {}).get(assemblyai.WEBHOOK_MEETING_PARAM)
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def handle(
    headers: dict[str, str] | None,
    body: str | None,
    query: dict[str, str] | None = None,
    *,
    settings: Settings | None = None,
) -> Reply:
    cfg = settings or get_settings()
    if not authorised(headers, cfg):
        logger.warning("webhook with a missing or wrong secret header")
        return Reply(401, {"error": "unauthorised"})
    try:
        payload = json.loads(body or "")
    except ValueError:
        payload = None
    transcript_id = payload.get("transcript_id") if isinstance(payload, dict) else None
    status = payload.get("status") if isinstance(payload, dict) else None
    if not isinstance(transcript_id, str) or not transcript_id or not isinstance(status, str):
        return Reply(400, {"error": "expected a JSON body {transcript_id, status} of strings"})
    if status not in ("completed", "error"):
        return Reply(400, {"error": "unexpected status (expected 'completed' or 'error')"})
    if not _TRANSCRIPT_ID.fullmatch(transcript_id):
        # Never a transcript of ours (and NUL cannot even reach a text column):
        # 4xx, so AssemblyAI does not retry what can never succeed.
        return Reply(400, {"error": "transcript_id is not an AssemblyAI transcript id"})
    meeting_id = _meeting_param(query)
    try:
        # The usual news first: a submitted meeting's transcript completed.
        done = complete_transcript(transcript_id, settings=cfg) if status == "completed" else None
        if done is not None:
            return _handled(done, status, "queued")
        meeting = _meeting_for(transcript_id, meeting_id)
        if meeting is None:
            # Perhaps not committed yet: 503 makes AssemblyAI retry (at most 10 times).
            logger.warning(
                "webhook for a transcript not (yet) known",
                extra={"transcript_id": transcript_id, "meeting_id": str(meeting_id)},
            )
            return Reply(503, {"error": "unknown transcript_id, retry later"})
        if meeting.assemblyai_transcript_id != transcript_id:
            # The meeting follows another transcript (a retried submission): nothing to do.
            logger.info(
                "webhook for a superseded transcript",
                extra={"meeting_id": str(meeting.id), "transcript_id": transcript_id},
            )
            return Reply(200, {"meeting_id": str(meeting.id), "outcome": "superseded"})
        outcome = apply_transcript_status(meeting, status, settings=cfg)
    except (TransientError, ProviderError) as exc:
        # Worth AssemblyAI's retry: the database, the queue or its own API hiccuped.
        logger.exception("webhook could not be recorded; asking AssemblyAI to retry")
        return Reply(503, {"error": "temporarily unavailable", "code": exc.code})
    except Exception as exc:  # noqa: BLE001 - any failure to enqueue (botocore) is transient too
        log_unexpected("webhook could not be recorded; asking AssemblyAI to retry", exc)
        return Reply(503, {"error": "temporarily unavailable", "code": type(exc).__name__})
    return _handled(meeting.id, status, outcome)


def _handled(meeting_id: UUID, status: str, outcome: str) -> Reply:
    mid = str(meeting_id)
    logger.info(
        "webhook handled",
        extra={"meeting_id": mid, "transcript_status": status, "outcome": outcome},
    )
    return Reply(200, {"meeting_id": mid, "outcome": outcome})
