"""Acta worker: transcript -> acta -> email -> costs, exactly one email per meeting.

Driven by the acta queue (SQS, at-least-once). Each message is one piece of
work for one meeting:

* ``acta``: claim the meeting (``transcribed -> generating``, or take over a
  claim older than the worker's timeout: that worker died), fetch and store
  the transcript, write the acta with OpenAI, email it, record the costs,
  ``generating -> emailed``.
* ``failure``: send the failure notice of a failed meeting.

Duplicates are harmless: the claim lets one worker in, and the email is
reserved in ``email_deliveries`` (one per meeting and kind) before it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from voxcliente import costs, transcription
from voxcliente import repository as repo
from voxcliente.db import transaction
from voxcliente.errors import InputRejected, ProviderError, TransientError, VoxError
from voxcliente.models import EmailKind, Meeting
from voxcliente.observability import logger, metrics
from voxcliente.queue import WorkMessage
from voxcliente.settings import Settings, get_settings

if TYPE_CHECKING:
    from voxcliente.rendering import MeetingFacts, RenderedEmail

# Codes for which there is nobody to tell (no valid recipient was found).
_NO_RECIPIENT_CODES = frozenset({"email_missing", "email_invalid", "upload_unknown"})


@dataclass(frozen=True)
class WorkResult:
    meeting_id: UUID
    outcome: str  # emailed | notified | skipped | failed


def process(
    message: WorkMessage, *, receive_count: int = 1, settings: Settings | None = None
) -> WorkResult:
    cfg = settings or get_settings()
    if message.kind == "failure":
        return send_failure_notice(message.meeting_id, settings=cfg)
    return produce_acta(message.meeting_id, receive_count=receive_count, settings=cfg)


# --- the acta --------------------------------------------------------------------------
def produce_acta(meeting_id: UUID, *, receive_count: int, settings: Settings) -> WorkResult:
    with transaction() as tx:
        meeting = repo.claim_generation(tx, meeting_id, settings.acta_claim_timeout_s)
        current = meeting or repo.get_meeting(tx, meeting_id)
    if meeting is None:
        status = current.status if current else "missing"
        logger.info(
            "nothing to do for this message",
            extra={"meeting_id": str(meeting_id), "status": status},
        )
        return WorkResult(meeting_id, "skipped")
    log = {"meeting_id": str(meeting_id)}
    try:
        return _write_and_send(meeting, settings)
    except (InputRejected, ProviderError) as exc:
        return _fail(meeting, exc, settings)
    except TransientError as exc:
        if receive_count >= settings.acta_max_receives:
            logger.exception("giving up after repeated transient failures", extra=log)
            return _fail(
                meeting,
                ProviderError(
                    f"The acta could not be generated after {receive_count} attempts: "
                    f"{exc.message}",
                    code="generation_failed",
                ),
                settings,
            )
        raise


def _write_and_send(meeting: Meeting, settings: Settings) -> WorkResult:
    from voxcliente import generation

    if not meeting.recipient_email:
        raise InputRejected("The meeting has no recipient.", code="email_missing")
    with transaction() as tx:
        if repo.is_suppressed(tx, meeting.recipient_email):
            raise InputRejected(
                "Earlier emails to this address bounced or were reported as spam, so no "
                "email is sent to it any more.",
                code="recipient_suppressed",
            )
    result = transcription.fetch(str(meeting.assemblyai_transcript_id), settings=settings)
    if result.status != "completed":
        raise TransientError(f"The transcript is {result.status}, not completed yet.")
    with transaction() as tx:
        repo.save_transcript(
            tx,
            meeting.id,
            text=result.text,
            utterances=result.utterances,
            language=result.language_code,
            confidence=result.confidence,
            audio_duration_s=result.audio_duration_s,
        )
        costs.record_transcription(
            tx,
            settings,
            meeting_id=meeting.id,
            user_id=meeting.user_id,
            audio_seconds=result.audio_duration_s or 0.0,
            model=result.speech_model or settings.assemblyai_speech_models[0],
        )
        repo.add_event(
            tx,
            meeting.id,
            "generating",
            "generating",
            "transcript_stored",
            {"words": len(result.text.split()), "language": result.language_code},
        )
        client = repo.get_client(tx, meeting.client_id) if meeting.client_id else None
    if not result.text.strip():
        raise InputRejected(
            "No speech was found in the recording (silence, music or noise only), so there "
            "is nothing to write an acta about.",
            code="no_speech",
        )
    generated = generation.generate_acta(
        generation.TranscriptInput(
            text=result.text,
            utterances=result.utterances,
            language_code=result.language_code,
            audio_duration_s=result.audio_duration_s,
            meeting_date=meeting.meeting_date,
            client_name=client.name if client else None,
            original_filename=meeting.original_filename,
        ),
        settings=settings,
    )
    with transaction() as tx:
        repo.save_acta(
            tx,
            meeting.id,
            content=generated.acta.model_dump(mode="json"),
            language=generated.language,
            model=generated.model,
            input_tokens=generated.input_tokens,
            output_tokens=generated.output_tokens,
            parts=generated.parts,
            generation_ms=generated.generation_ms,
        )
        costs.record_generation(
            tx,
            settings,
            meeting_id=meeting.id,
            user_id=meeting.user_id,
            model=generated.model,
            input_tokens=generated.input_tokens,
            output_tokens=generated.output_tokens,
        )
        repo.add_event(
            tx,
            meeting.id,
            "generating",
            "generating",
            "acta_written",
            {
                "model": generated.model,
                "parts": generated.parts,
                "input_tokens": generated.input_tokens,
                "output_tokens": generated.output_tokens,
            },
        )
    from voxcliente import rendering

    facts = _facts(meeting, client.name if client else None, result.audio_duration_s)
    rendered = rendering.render_acta_email(generated.acta, facts, result.utterances)
    message_id = _send(meeting, "acta", rendered, settings)
    with transaction() as tx:
        moved = repo.transition(
            tx,
            meeting.id,
            expected=("generating",),
            to="emailed",
            event="acta_emailed",
            details={"ses_message_id": message_id, "recipient": meeting.recipient_email},
        )
        repo.refresh_costs(tx, meeting.id)
    if moved is not None:
        metrics.add_metric(name="ActasEmailed", unit="Count", value=1)
    return WorkResult(meeting.id, "emailed")


def _facts(meeting: Meeting, client_name: str | None, duration: float | None) -> MeetingFacts:
    from voxcliente.rendering import MeetingFacts

    return MeetingFacts(
        meeting_id=str(meeting.id),
        original_filename=meeting.original_filename,
        client_name=client_name,
        meeting_date=meeting.meeting_date,
        audio_duration_s=duration
        if duration is not None
        else (float(meeting.audio_duration_s) if meeting.audio_duration_s is not None else None),
        recipient=meeting.recipient_email or "",
    )


def _send(
    meeting: Meeting, kind: EmailKind, rendered: RenderedEmail, settings: Settings
) -> str | None:
    """Send one email of ``kind`` for the meeting, unless it was already sent."""
    from voxcliente import email

    if meeting.recipient_email is None:
        return None
    with transaction() as tx:
        delivery = repo.reserve_delivery(
            tx,
            meeting_id=meeting.id,
            user_id=meeting.user_id,
            recipient=meeting.recipient_email,
            kind=kind,
        )
    if delivery is None:
        logger.info(
            "email already sent; not sending again",
            extra={"meeting_id": str(meeting.id), "kind": kind},
        )
        return None
    raw = email.build_mime(
        rendered,
        sender=settings.ses_from,
        recipient=meeting.recipient_email,
        reply_to=settings.ses_reply_to,
    )
    message_id = email.send_raw_email(
        raw,
        sender=settings.ses_from,
        recipient=meeting.recipient_email,
        configuration_set=settings.ses_configuration_set,
    )
    with transaction() as tx:
        repo.mark_delivery_sent(tx, delivery.id, message_id)
        costs.record_email(tx, settings, meeting_id=meeting.id, user_id=meeting.user_id, kind=kind)
        repo.refresh_costs(tx, meeting.id)
    return message_id


# --- failures --------------------------------------------------------------------------
def _fail(meeting: Meeting, exc: VoxError, settings: Settings) -> WorkResult:
    with transaction() as tx:
        failed = repo.fail_meeting(tx, meeting.id, code=exc.code, message=exc.message)
    logger.warning("meeting failed", extra={"meeting_id": str(meeting.id), "code": exc.code})
    metrics.add_metric(name="MeetingsFailed", unit="Count", value=1)
    if failed is None:
        return WorkResult(meeting.id, "skipped")
    send_failure_notice(meeting.id, settings=settings)
    return WorkResult(meeting.id, "failed")


def send_failure_notice(meeting_id: UUID, *, settings: Settings) -> WorkResult:
    """Tell the person waiting that their meeting failed, and why (once)."""
    from voxcliente import rendering

    with transaction() as tx:
        meeting = repo.get_meeting(tx, meeting_id)
        client = repo.get_client(tx, meeting.client_id) if meeting and meeting.client_id else None
        suppressed = bool(
            meeting and meeting.recipient_email and repo.is_suppressed(tx, meeting.recipient_email)
        )
    if meeting is None or meeting.status != "failed" or not meeting.recipient_email:
        return WorkResult(meeting_id, "skipped")
    if meeting.error_code in _NO_RECIPIENT_CODES or suppressed:
        return WorkResult(meeting_id, "skipped")
    language = (meeting.language or settings.acta_language or "es")[:2]
    rendered = rendering.render_failure_email(
        meeting.error_code or "internal_error",
        meeting.error_message or "",
        _facts(meeting, client.name if client else None, None),
        language=language if settings.acta_follow_meeting_language else settings.acta_language,
    )
    message_id = _send(meeting, "failure", rendered, settings)
    if message_id is not None:
        with transaction() as tx:
            repo.add_event(
                tx,
                meeting.id,
                "failed",
                "failed",
                "failure_notice_sent",
                {"ses_message_id": message_id},
            )
    return WorkResult(meeting_id, "notified")
