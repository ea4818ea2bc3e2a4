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
* ``resend``: send an emailed acta again, once per request
  (:mod:`voxcliente.pipeline.resend`); never asks OpenAI.

Before the acta email is claimed, its .docx and transcript are stored for
download (:mod:`voxcliente.pipeline.documents`; their keys recorded by the claim's
own statement); once it is recorded sent, AssemblyAI's copy of the transcript is
deleted, best effort.

Every way out ends the meeting or leaves it resumable on purpose: a domain
error fails it (with its notice, :func:`voxcliente.pipeline.lifecycle.fail`); a
transient one returns the message to the queue until the receive limit or
``MAX_ATTEMPTS``; any other exception counts as an attempt too, and past the
limit ends it ``internal_error``.

Exactly one email per (meeting, kind), even when SES's answer is lost:
:mod:`voxcliente.pipeline.delivery`.

Time: the acta's requests to OpenAI share the time the Lambda context says is
left, minus :data:`FINISH_RESERVE_S` for rendering, sending and recording.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from voxcliente.acta.attempts import FINISH_RESERVE_S, default_budget_s
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import Connection, session, transaction
from voxcliente.adapters.sqs import MalformedMessage, WorkMessage
from voxcliente.domain import error_codes, moves, recipients
from voxcliente.domain.error_codes import ErrorCode
from voxcliente.domain.errors import InputRejected, ProviderError, TransientError
from voxcliente.domain.models import Meeting
from voxcliente.domain.prices import EMULATED_MODEL
from voxcliente.observability import logger, metrics
from voxcliente.pipeline import documents, lifecycle
from voxcliente.pipeline.delivery import acta_email_in_flight, deliver
from voxcliente.pipeline.transcripts import fetch_transcript
from voxcliente.pipeline.writing import write_acta
from voxcliente.settings import Settings, get_settings


class RemainingTime(Protocol):
    """What the flow reads of the Lambda context."""

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class WorkResult:
    meeting_id: UUID | None
    outcome: str  # emailed | notified | skipped | failed | discarded


def parse_message(body: str) -> WorkMessage | None:
    """The message, or None for a body that can never be work (logged, then dropped)."""
    try:
        return WorkMessage.model_validate_json(body)
    except MalformedMessage as exc:
        logger.error(
            "malformed acta queue message discarded",
            extra={"errors": exc.error_count(), "body_chars": len(body)},
        )
        metrics.add_metric(name="PoisonMessages", unit="Count", value=1)
        return None


def process(
    message: WorkMessage,
    *,
    receive_count: int = 1,
    settings: Settings | None = None,
    context: RemainingTime | None = None,
) -> WorkResult:
    """One queue message's work; ``context`` is the Lambda context (None locally)."""
    cfg = settings or get_settings()
    if message.kind == "failure":
        return send_failure_notice(message.meeting_id, settings=cfg)
    if message.kind == "resend" and message.delivery_id is not None:
        from voxcliente.pipeline.resend import send_resend

        last_try = receive_count >= cfg.acta_max_receives
        return WorkResult(*send_resend(message.delivery_id, settings=cfg, last_try=last_try))
    budget_s = generation_budget_s(context, cfg)
    return produce_acta(
        message.meeting_id, receive_count=receive_count, settings=cfg, budget_s=budget_s
    )


# Pauses while the webhook's commit is awaited (its last statement follows the enqueue).
COMMIT_WAIT_S = (0.1, 0.3, 0.6, 1.0)
_AWAITING_CLAIM = ("submitted", "transcribed")


def _claim(meeting_id: UUID, settings: Settings) -> tuple[Meeting | None, Meeting | None]:
    """The claimed meeting (None when not claimable now) and the meeting as it is."""
    with session() as conn:
        meeting = repo.claim_generation(conn, meeting_id, settings.acta_claim_timeout_s)
        return meeting, meeting or repo.get_meeting(conn, meeting_id)


def generation_budget_s(context: RemainingTime | None, settings: Settings) -> float:
    """Seconds the acta's OpenAI requests may take: what is left of this invocation
    (the whole acta timeout without a context) minus :data:`FINISH_RESERVE_S`."""
    if context is None:
        return default_budget_s(settings)
    return max(context.get_remaining_time_in_millis() / 1000 - FINISH_RESERVE_S, 0.0)


# --- the acta --------------------------------------------------------------------------
def produce_acta(
    meeting_id: UUID, *, receive_count: int, settings: Settings, budget_s: float
) -> WorkResult:
    meeting, current = _claim(meeting_id, settings)
    # The webhook queues this message just before it commits the move to transcribed:
    # a quick worker finds the meeting still submitted, or the commit landing between
    # its claim and its read. It claims again after a moment, then lets the queue
    # bring the message back (the reconciler re-queues one whose message ran out).
    pauses = iter(COMMIT_WAIT_S)
    while meeting is None and current is not None and current.status in _AWAITING_CLAIM:
        pause_s = next(pauses, None)
        if pause_s is None:
            if current.status == "submitted" and receive_count < settings.acta_max_receives:
                raise TransientError(
                    "The meeting is not marked transcribed yet; the message comes back."
                )
            break
        time.sleep(pause_s)
        meeting, current = _claim(meeting_id, settings)
    if meeting is None:
        status = current.status if current else "missing"
        logger.info(
            "nothing to do for this message",
            extra={"meeting_id": str(meeting_id), "status": status},
        )
        return WorkResult(meeting_id, "skipped")
    log = _log(meeting)
    last_try = receive_count >= settings.acta_max_receives or (
        meeting.attempts >= settings.max_attempts
    )
    try:
        return _write_and_send(meeting, settings, budget_s)
    except (InputRejected, ProviderError) as exc:
        return _fail(meeting, exc.code, exc.message, settings)
    except TransientError as exc:
        if not last_try or acta_email_in_flight(meeting.id):
            raise
        logger.exception("giving up after repeated transient failures", extra=log)
        with session() as conn:
            written = repo.get_acta(conn, meeting.id) is not None
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
        if not last_try or acta_email_in_flight(meeting.id):
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


def _recipient(meeting: Meeting) -> str:
    """The recipient, checked as SES must address it, before anything is paid for."""
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


def _write_and_send(meeting: Meeting, settings: Settings, budget_s: float) -> WorkResult:
    recipient = _recipient(meeting)
    with session() as conn:
        if repo.is_suppressed(conn, recipient):
            raise InputRejected(
                "Earlier emails to this address bounced or were reported as spam, so no "
                "email is sent to it any more.",
                code=ErrorCode.RECIPIENT_SUPPRESSED,
            )
        stored = repo.get_transcript(conn, meeting.id)
        record = repo.get_acta(conn, meeting.id)
        client = repo.get_client(conn, meeting.client_id) if meeting.client_id else None
    client_name = client.name if client else None
    transcript = stored or fetch_transcript(meeting, settings)
    if record is not None:
        from voxcliente.acta.model import Acta

        acta = Acta.from_stored(record.content)
        model = record.model
        logger.info("acta already written; resuming at the email", extra=_log(meeting))
    else:
        # An empty transcript is refused there (no_speech), before any request.
        acta, model = write_acta(meeting, transcript, client_name, settings, budget_s)

    from voxcliente import render

    duration = _seconds(transcript.audio_duration_s or None)
    facts = documents.meeting_facts(meeting, client_name, duration)
    rendered = render.render_acta_email(
        acta, facts, transcript.utterances, emulated=model == EMULATED_MODEL
    )
    # Stored before the email is claimed (a failure is retried before anything is sent);
    # the keys go on the meeting with the claim. Already stored by an earlier attempt: kept.
    stored_keys = (
        None if meeting.docx_s3_key else documents.store_rendered(meeting, rendered, settings)
    )
    moved: list[Meeting] = []

    def emailed(tx: Connection, message_id: str) -> None:
        # Committed with the record of the email: no second round of statements.
        done = repo.transition(
            tx, meeting.id, moves.EMAILED, details={"ses_message_id": message_id}
        )
        moved[:] = [done] if done is not None else []

    sent = deliver(meeting, "acta", rendered, settings, then=emailed, documents=stored_keys)
    if sent.outcome == "busy":
        return WorkResult(meeting.id, "skipped")
    if sent.outcome == "unsent":
        return _fail(meeting, sent.code, sent.message, settings)
    if not sent.now:
        # Sent by an earlier attempt whose move was lost: the meeting moves on now.
        with session() as conn:
            done = repo.transition(
                conn, meeting.id, moves.EMAILED, details={"ses_message_id": sent.message_id}
            )
        moved[:] = [done] if done is not None else []
    if moved:
        metrics.add_metric(name="ActasEmailed", unit="Count", value=1)
        documents.forget_provider_transcript(meeting, settings)
    return WorkResult(meeting.id, "emailed")


def _log(meeting: Meeting) -> dict[str, str | int]:
    return {"meeting_id": str(meeting.id), "attempt": meeting.attempts}


def _seconds(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


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
    from voxcliente import render

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
    rendered = render.render_failure_email(
        meeting.error_code or ErrorCode.INTERNAL_ERROR,
        meeting.error_message or "",
        documents.meeting_facts(meeting, client.name if client else None, None),
        language=language if settings.acta_follow_meeting_language else settings.acta_language,
    )

    def noticed(tx: Connection, message_id: str) -> None:
        repo.add_event(
            tx,
            meeting.id,
            "failed",
            "failed",
            "failure_notice_sent",
            {"ses_message_id": message_id},
        )

    sent = deliver(meeting, "failure", rendered, settings, then=noticed)
    if not sent.now:
        return WorkResult(meeting_id, "skipped")
    return WorkResult(meeting_id, "notified")
