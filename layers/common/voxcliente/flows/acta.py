"""Acta worker: transcript -> acta -> email -> costs, exactly one email per meeting.

Driven by the acta queue (SQS, at-least-once). Each message is one piece of
work for one meeting:

* ``acta``: claim the meeting (``transcribed -> generating``, or take over a
  claim older than the worker's timeout: that worker died; every claim counts
  one attempt), then resume from the last stage a previous attempt finished:
  the transcript (fetched and stored once), the acta (OpenAI paid once: a
  stored acta is never generated again), the email (claimed, sent, recorded),
  and ``generating -> emailed``.
* ``failure``: send the failure notice of a failed meeting.

Every way out ends the meeting or leaves it resumable on purpose: a domain
error fails it (with its notice, :func:`voxcliente.pipeline.lifecycle.fail`); a
transient one returns the message to the queue until the receive limit or
``MAX_ATTEMPTS``; any other exception counts as an attempt too, and past the
limit ends it ``internal_error``.

Exactly one email per (meeting, kind): the ``email_deliveries`` row is a
claim (``pending -> sending``, one winner), recorded before SES is called;
SES's answer is recorded right after (retried on a lost connection), and the
message is tagged with the meeting and kind so the configuration set's Send
event records the id when our own commit was lost (:mod:`voxcliente.flows.email_events`).
A ``sending`` row older than the claim timeout that no Send event resolved is
NOT sent again: it ends ``failed`` (reason ``outcome_unknown``) and, for an
acta, the meeting fails ``email_outcome_unknown`` so the person hears that
the acta may not have arrived. A duplicate acta is worse than a notice: SES
publishes Send events within seconds, so after the timeout (15 min by default)
the message was almost certainly never accepted, but "almost" is not a
guarantee we can give, and the person can ask for it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from pydantic import ValidationError

from voxcliente.adapters import assemblyai
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import Connection, transaction, transaction_retried
from voxcliente.adapters.sqs import WorkMessage
from voxcliente.domain.error_codes import ErrorCode
from voxcliente.domain.errors import InputRejected, OutcomeUnknown, ProviderError, TransientError
from voxcliente.domain.models import (
    ACCEPTED_DELIVERY_STATUSES,
    UNSENT_FINAL_DELIVERY_STATUSES,
    EmailDelivery,
    EmailKind,
    Meeting,
    Transcript,
)
from voxcliente.observability import logger, metrics
from voxcliente.pipeline import costs, lifecycle
from voxcliente.settings import Settings, get_settings

if TYPE_CHECKING:
    from voxcliente.acta.model import Acta
    from voxcliente.render.rendering import MeetingFacts, RenderedEmail


@dataclass(frozen=True)
class WorkResult:
    meeting_id: UUID | None
    outcome: str  # emailed | notified | skipped | failed | discarded


def parse_message(body: str) -> WorkMessage | None:
    """The message, or None for a body that can never be work (logged, then dropped)."""
    try:
        return WorkMessage.model_validate_json(body)
    except ValidationError as exc:
        logger.error(
            "malformed acta queue message discarded",
            extra={"errors": exc.error_count(), "body_chars": len(body)},
        )
        metrics.add_metric(name="PoisonMessages", unit="Count", value=1)
        return None


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
    log = {"meeting_id": str(meeting_id), "attempt": meeting.attempts}
    last_try = receive_count >= settings.acta_max_receives or (
        meeting.attempts >= settings.max_attempts
    )
    try:
        return _write_and_send(meeting, settings)
    except (InputRejected, ProviderError) as exc:
        return _fail(meeting, exc.code, exc.message, settings)
    except TransientError as exc:
        if not last_try or _acta_email_in_flight(meeting.id):
            raise
        logger.exception("giving up after repeated transient failures", extra=log)
        with transaction() as tx:
            written = repo.get_acta(tx, meeting.id) is not None
        if written:
            code, what = ErrorCode.SES_UNAVAILABLE, "The acta was written but could not be sent"
        else:
            code, what = ErrorCode.GENERATION_FAILED, "The acta could not be generated"
        return _fail(
            meeting,
            code,
            f"{what} after {meeting.attempts} attempts: {exc.message}",
            settings,
        )
    except Exception as exc:
        # Not a domain error (a bug, a library's ValueError...): this claim was one
        # attempt. Retried (the queue, or the reconciler after the claim timeout)
        # until the limit, then the meeting ends with one notice.
        if not last_try or _acta_email_in_flight(meeting.id):
            logger.exception("unexpected failure; the message will be retried", extra=log)
            raise
        logger.exception("unexpected failure on the last attempt", extra=log)
        return _fail(
            meeting,
            ErrorCode.INTERNAL_ERROR,
            f"Processing stopped after {meeting.attempts} attempts because of an "
            f"unexpected error ({type(exc).__name__}).",
            settings,
        )


def _acta_email_in_flight(meeting_id: UUID) -> bool:
    """Whether the acta email may already be with SES (then never fail the meeting here)."""
    try:
        with transaction() as tx:
            delivery = repo.get_delivery(tx, meeting_id, "acta")
    except TransientError:
        return True  # unknown: leave it to the next attempt
    return delivery is not None and (
        delivery.status == "sending" or delivery.status in ACCEPTED_DELIVERY_STATUSES
    )


def _recipient(meeting: Meeting) -> str:
    """The recipient, checked as SES must address it, before anything is paid for."""
    from voxcliente.domain import recipients

    if not meeting.recipient_email:
        raise InputRejected("The meeting has no recipient.", code=ErrorCode.EMAIL_MISSING)
    try:
        # The same check as at the door (rows written before it was as strict as SES).
        recipients.deliverable_address(meeting.recipient_email)
    except recipients.UndeliverableAddress as exc:
        # e.g. a non-ASCII local part ("josé@..."): SES cannot address it (SMTPUTF8 is
        # not supported), so no email, acta or notice, can ever reach it.
        raise InputRejected(
            "The recipient address cannot be used to send email: email can only be "
            "delivered to addresses with plain ASCII letters before the @.",
            code=ErrorCode.EMAIL_INVALID,
        ) from exc
    return meeting.recipient_email


def _write_and_send(meeting: Meeting, settings: Settings) -> WorkResult:
    recipient = _recipient(meeting)
    with transaction() as tx:
        if repo.is_suppressed(tx, recipient):
            raise InputRejected(
                "Earlier emails to this address bounced or were reported as spam, so no "
                "email is sent to it any more.",
                code=ErrorCode.RECIPIENT_SUPPRESSED,
            )
        stored = repo.get_transcript(tx, meeting.id)
        record = repo.get_acta(tx, meeting.id)
        client = repo.get_client(tx, meeting.client_id) if meeting.client_id else None
    client_name = client.name if client else None
    transcript = stored or _fetch_transcript(meeting, settings)
    if not transcript.text.strip():
        raise InputRejected(
            "No speech was found in the recording (silence, music or noise only), so there "
            "is nothing to write an acta about.",
            code=ErrorCode.NO_SPEECH,
        )
    if record is not None:
        from voxcliente.acta.model import Acta

        acta = Acta.model_validate(record.content)
        logger.info("acta already written; resuming at the email", extra=_log(meeting))
    else:
        acta = _generate(meeting, transcript, client_name, settings)

    from voxcliente.render import rendering

    duration = float(transcript.audio_duration_s) if transcript.audio_duration_s else None
    facts = _facts(meeting, client_name, duration)
    rendered = rendering.render_acta_email(acta, facts, transcript.utterances)
    sent = _deliver(meeting, "acta", rendered, settings)
    if sent.outcome == "busy":
        return WorkResult(meeting.id, "skipped")
    if sent.outcome == "unsent":
        return _fail(meeting, sent.code, sent.message, settings)
    with transaction() as tx:
        moved = repo.transition(
            tx,
            meeting.id,
            expected=("generating",),
            to="emailed",
            event="acta_emailed",
            details={"ses_message_id": sent.message_id},
        )
        repo.refresh_costs(tx, meeting.id)
    if moved is not None:
        metrics.add_metric(name="ActasEmailed", unit="Count", value=1)
    return WorkResult(meeting.id, "emailed")


def _log(meeting: Meeting) -> dict[str, str | int]:
    return {"meeting_id": str(meeting.id), "attempt": meeting.attempts}


def _fetch_transcript(meeting: Meeting, settings: Settings) -> Transcript:
    """Fetch the transcript from AssemblyAI and store it (with its cost), once."""
    result = assemblyai.fetch(str(meeting.assemblyai_transcript_id), settings=settings)
    if result.status != "completed":
        raise TransientError(f"The transcript is {result.status}, not completed yet.")
    with transaction() as tx:
        stored = repo.save_transcript(
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
    return stored


def _generate(
    meeting: Meeting, transcript: Transcript, client_name: str | None, settings: Settings
) -> Acta:
    """Write the acta with OpenAI and store it with its cost: the one paid step."""
    from voxcliente.acta import generation

    generated = generation.generate_acta(
        generation.TranscriptInput(
            text=transcript.text,
            utterances=transcript.utterances,
            language_code=transcript.language,
            audio_duration_s=float(transcript.audio_duration_s)
            if transcript.audio_duration_s is not None
            else None,
            meeting_date=meeting.meeting_date,
            client_name=client_name,
            original_filename=meeting.original_filename,
        ),
        settings=settings,
    )

    # Stored before anything else can fail: a retry from here on resumes at the email.
    def store(tx: Connection) -> None:
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

    transaction_retried(store, what="storing the acta")
    return generated.acta


def _facts(meeting: Meeting, client_name: str | None, duration: float | None) -> MeetingFacts:
    from voxcliente.render.rendering import MeetingFacts

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


# --- one email per (meeting, kind) -------------------------------------------------------
@dataclass(frozen=True)
class Sent:
    """What became of one email: ``sent`` (now or before), ``busy`` (another worker
    holds the claim) or ``unsent`` (never to be sent: ``code`` says why)."""

    outcome: Literal["sent", "busy", "unsent"]
    message_id: str | None = None
    now: bool = False  # sent by this call
    code: ErrorCode = ErrorCode.INTERNAL_ERROR
    message: str = ""


# Why a delivery ended unsent -> what the meeting ends with (for an acta).
_UNSENT_CODES: dict[str, tuple[ErrorCode, str]] = {
    "ses_rejected": (ErrorCode.SES_REJECTED, "SES refused the acta email."),
    "ses_unavailable": (ErrorCode.SES_UNAVAILABLE, "SES did not accept the acta email."),
    "outcome_unknown": (
        ErrorCode.EMAIL_OUTCOME_UNKNOWN,
        "The acta email was handed to SES but it is not known whether SES accepted it; "
        "it is not sent again to avoid a duplicate.",
    ),
    "unbuildable": (ErrorCode.INTERNAL_ERROR, "The acta email could not be built."),
    "suppressed": (
        ErrorCode.RECIPIENT_SUPPRESSED,
        "Earlier emails to this address bounced or were reported as spam.",
    ),
}


def _unsent(delivery: EmailDelivery) -> Sent:
    reason = str(delivery.details.get("reason") or delivery.status)
    code, message = _UNSENT_CODES.get(reason, (ErrorCode.INTERNAL_ERROR, "The email was not sent."))
    note = delivery.details.get("note")
    return Sent("unsent", code=code, message=f"{message} {note}".strip() if note else message)


def _deliver(
    meeting: Meeting, kind: EmailKind, rendered: RenderedEmail, settings: Settings
) -> Sent:
    """Send the meeting's one email of ``kind`` unless it was sent, is being sent, or
    ended unsent; see the module docstring for the ``sending`` state."""
    from voxcliente.adapters import ses

    recipient = meeting.recipient_email or ""
    with transaction() as tx:
        claimed = repo.claim_delivery(
            tx, meeting_id=meeting.id, user_id=meeting.user_id, recipient=recipient, kind=kind
        )
        existing = None if claimed else repo.get_delivery(tx, meeting.id, kind)
    log = {**_log(meeting), "kind": kind}
    if claimed is None:
        if existing is None:  # pragma: no cover - the upsert either claims or conflicts
            raise TransientError("The email reservation vanished; trying again.")
        if existing.status in ACCEPTED_DELIVERY_STATUSES:
            logger.info("email already sent; not sending again", extra=log)
            return Sent("sent", message_id=existing.ses_message_id)
        if existing.status in UNSENT_FINAL_DELIVERY_STATUSES:
            return _unsent(existing)
        with transaction() as tx:
            stale = repo.take_over_stale_delivery(tx, existing.id, settings.acta_claim_timeout_s)
            ended = (
                repo.end_delivery_unsent(
                    tx,
                    stale.id,
                    "failed",
                    "outcome_unknown",
                    "No Send event arrived within the claim timeout; not sent again.",
                )
                if stale is not None
                else None
            )
        if ended is None:
            logger.info("another worker is sending this email", extra=log)
            return Sent("busy")
        logger.warning("abandoned email send with unknown outcome; not resending", extra=log)
        metrics.add_metric(name="EmailsOutcomeUnknown", unit="Count", value=1)
        return _unsent(ended)

    def end(reason: str, note: str) -> Sent:
        with transaction() as tx:
            ended = repo.end_delivery_unsent(tx, claimed.id, "failed", reason, note)
        return _unsent(ended) if ended is not None else Sent("busy")

    try:
        raw = ses.build_mime(
            rendered, sender=settings.ses_from, recipient=recipient, reply_to=settings.ses_reply_to
        )
        message_id = ses.send_raw_email(
            raw,
            sender=settings.ses_from,
            recipient=recipient,
            configuration_set=settings.ses_configuration_set,
            tags=ses.meeting_tags(meeting.id, kind),
        )
    except ValueError as exc:
        # No traceback: the error's text may quote the address.
        logger.error(
            "the email cannot be built or sent as it is",
            extra={**log, "error": type(exc).__name__},
        )
        return end("unbuildable", type(exc).__name__)
    except ProviderError as exc:
        return end("ses_rejected", exc.message)
    except OutcomeUnknown:
        # SES may have it: the row stays 'sending' for the Send event (or the timeout).
        raise
    except TransientError as exc:
        if claimed.attempts >= settings.max_attempts:
            return end("ses_unavailable", exc.message)
        with transaction() as tx:
            repo.release_delivery(tx, claimed.id, exc.message)
        raise
    _record_sent(meeting, claimed, message_id, kind, settings)
    return Sent("sent", message_id=message_id, now=True)


def _record_sent(
    meeting: Meeting, delivery: EmailDelivery, message_id: str, kind: EmailKind, settings: Settings
) -> None:
    """Record SES's acceptance, retrying a lost connection (the window a second email
    could come from). Should every try fail, the Send event records it."""

    def record(tx: Connection) -> None:
        repo.mark_delivery_sent(tx, delivery.id, message_id)
        costs.record_email(tx, settings, meeting_id=meeting.id, user_id=meeting.user_id, kind=kind)
        repo.refresh_costs(tx, meeting.id)

    transaction_retried(record, what="recording the email SES accepted")


# --- failures --------------------------------------------------------------------------
def _fail(meeting: Meeting, code: str, message: str, settings: Settings) -> WorkResult:
    failed = lifecycle.fail(meeting.id, code, message, expected=("generating",), settings=settings)
    if failed is None:
        return WorkResult(meeting.id, "skipped")
    # The notice is queued; sending it now spares the person the queue's delay (the
    # queued message then finds it sent). Any failure here is the queued message's to retry.
    try:
        send_failure_notice(meeting.id, settings=settings)
    except Exception:  # noqa: BLE001 - the queued notice retries; this was only a shortcut
        logger.exception(
            "failure notice not sent now; its queued message retries", extra=_log(meeting)
        )
    return WorkResult(meeting.id, "failed")


def send_failure_notice(meeting_id: UUID, *, settings: Settings) -> WorkResult:
    """Tell the person waiting that their meeting failed, and why (once)."""
    from voxcliente.domain import error_codes, recipients
    from voxcliente.render import rendering

    with transaction() as tx:
        meeting = repo.get_meeting(tx, meeting_id)
        client = repo.get_client(tx, meeting.client_id) if meeting and meeting.client_id else None
        suppressed = bool(
            meeting and meeting.recipient_email and repo.is_suppressed(tx, meeting.recipient_email)
        )
        unusable = bool(
            meeting
            and meeting.recipient_email
            and recipients.usable_address(meeting.recipient_email) is None
        )
        if meeting is not None and meeting.recipient_email and (suppressed or unusable):
            # Recorded, so that the reconciler stops asking.
            repo.record_unsent_delivery(
                tx,
                meeting_id=meeting.id,
                user_id=meeting.user_id,
                recipient=meeting.recipient_email,
                kind="failure",
                status="suppressed" if suppressed else "failed",
                reason="suppressed" if suppressed else "recipient_unusable",
            )
    if meeting is None or meeting.status != "failed" or not meeting.recipient_email:
        return WorkResult(meeting_id, "skipped")
    if not error_codes.notifies(meeting.error_code) or suppressed or unusable:
        return WorkResult(meeting_id, "skipped")
    language = (meeting.language or settings.acta_language or "es")[:2]
    rendered = rendering.render_failure_email(
        meeting.error_code or ErrorCode.INTERNAL_ERROR,
        meeting.error_message or "",
        _facts(meeting, client.name if client else None, None),
        language=language if settings.acta_follow_meeting_language else settings.acta_language,
    )
    sent = _deliver(meeting, "failure", rendered, settings)
    if not sent.now:
        return WorkResult(meeting_id, "skipped")
    if sent.message_id is not None:
        with transaction() as tx:
            repo.add_event(
                tx,
                meeting.id,
                "failed",
                "failed",
                "failure_notice_sent",
                {"ses_message_id": sent.message_id},
            )
    return WorkResult(meeting_id, "notified")
