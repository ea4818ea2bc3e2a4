"""Exactly one email per (meeting, kind): the acta, or the failure notice; and
exactly one per resend row (an acta sent again on request).

The ``email_deliveries`` row is a claim (``pending -> sending``, one winner),
recorded before SES is called; SES's answer is recorded right after (retried
on a lost connection), and the message is tagged with the meeting and kind so
the configuration set's Send event records the id when our own commit was
lost (:mod:`voxcliente.flows.email_events`). A ``sending`` row older than the
claim timeout that no Send event resolved is NOT sent again: it ends
``failed`` (reason ``outcome_unknown``) and, for an acta, the meeting fails
``email_outcome_unknown`` so the person hears that the acta may not have
arrived. A duplicate acta is worse than a notice: SES publishes Send events
within seconds, so after the timeout (15 min by default) the message was
almost certainly never accepted, but "almost" is not a guarantee we can give,
and the person can ask for it again.

A resend (:mod:`voxcliente.pipeline.resend`) follows the same states, claimed by
its row's id instead of (meeting, kind): one request, one email, however often
its message is delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from voxcliente.adapters import repository as repo
from voxcliente.adapters import ses
from voxcliente.adapters.db import Connection, session, transaction, transaction_retried
from voxcliente.domain.error_codes import ErrorCode
from voxcliente.domain.errors import OutcomeUnknown, ProviderError, TransientError
from voxcliente.domain.models import (
    ACCEPTED_DELIVERY_STATUSES,
    UNSENT_FINAL_DELIVERY_STATUSES,
    EmailDelivery,
    EmailKind,
    Meeting,
)
from voxcliente.observability import logger, metrics
from voxcliente.pipeline import costs
from voxcliente.settings import Settings

if TYPE_CHECKING:
    from voxcliente.render import RenderedEmail


def acta_email_in_flight(meeting_id: UUID) -> bool:
    """Whether the meeting's acta email may already be with SES: being sent, or sent.

    A meeting in that state is never failed for want of time: the worker resolves
    the email (recorded, or ended unsent) without paying anything again.
    Unknown (the database unavailable) counts as in flight.
    """
    try:
        with session() as conn:
            delivery = repo.get_delivery(conn, meeting_id, "acta")
    except TransientError:
        return True
    return delivery is not None and (
        delivery.status == "sending" or delivery.status in ACCEPTED_DELIVERY_STATUSES
    )


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


# What else commits with the record of an email SES accepted: (connection, message id).
type Then = Callable[[Connection, str], None]
# The emails the worker sends: one per (meeting, kind), or one per resend row.
type SentKind = EmailKind | Literal["resend"]


def deliver(
    meeting: Meeting,
    kind: SentKind,
    rendered: RenderedEmail,
    settings: Settings,
    *,
    then: Then | None = None,
    documents: tuple[str, str] | None = None,
    row: EmailDelivery | None = None,
) -> Sent:
    """Send the meeting's one email of ``kind`` unless it was sent, is being sent, or
    ended unsent; see the module docstring for the ``sending`` state. ``then`` runs in
    the transaction that records the email SES accepted (the meeting's next move).
    ``documents``: the S3 keys of the stored .docx and transcript, recorded on the
    meeting by the claim itself. ``row``: the resend row this email is (its recipient)."""

    recipient = (row.recipient if row is not None else meeting.recipient_email) or ""
    with session() as conn:
        if row is not None:
            claimed = repo.claim_delivery_row(conn, row.id)
            existing = None if claimed else repo.get_delivery_by_id(conn, row.id)
        elif kind == "resend":
            raise ValueError("a resend is sent for its delivery row: pass row=")
        else:
            claimed = repo.claim_delivery(
                conn,
                meeting_id=meeting.id,
                user_id=meeting.user_id,
                recipient=recipient,
                kind=kind,
                documents=documents,
            )
            existing = None if claimed else repo.get_delivery(conn, meeting.id, kind)
    log = {"meeting_id": str(meeting.id), "attempt": meeting.attempts, "kind": kind}
    if claimed is None:
        if existing is None and row is None:
            # No claim and no row: the meeting was erased while this worker wrote it.
            return _erased_meanwhile(meeting, documents, settings)
        if existing is None:  # pragma: no cover - a resend row is claimed or exists
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
        with session() as conn:
            ended = repo.end_delivery_unsent(conn, claimed.id, "failed", reason, note)
        return _unsent(ended) if ended is not None else Sent("busy")

    try:
        message_id = ses.send_rendered(
            rendered,
            recipient=recipient,
            settings=settings,
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
        with session() as conn:
            repo.release_delivery(conn, claimed.id, exc.message)
        raise
    _record_sent(meeting, claimed, message_id, kind, settings, then)
    return Sent("sent", message_id=message_id, now=True)


def _record_sent(
    meeting: Meeting,
    delivery: EmailDelivery,
    message_id: str,
    kind: SentKind,
    settings: Settings,
    then: Then | None,
) -> None:
    """Record SES's acceptance (with its cost, and ``then``), retrying a lost connection
    (the window a second email could come from). Should every try fail, the Send event
    records it."""

    def record(tx: Connection) -> None:
        repo.mark_delivery_sent(tx, delivery.id, message_id)
        costs.record_email(tx, settings, meeting, kind=kind)
        if then is not None:
            then(tx, message_id)

    transaction_retried(record, what="recording the email SES accepted")


def _erased_meanwhile(
    meeting: Meeting, documents: tuple[str, str] | None, settings: Settings
) -> Sent:
    """The meeting was erased while its acta was being written: nothing is sent, and
    the documents this worker stored after the erasure deleted them go too."""
    from voxcliente.adapters import s3

    if documents and settings.audio_bucket:
        for key in documents:
            s3.delete(settings.audio_bucket, key)
    logger.info(
        "meeting erased while its acta was written; nothing sent",
        extra={"meeting_id": str(meeting.id)},
    )
    return Sent(
        "unsent",
        code=ErrorCode.ERASED,
        message="The meeting was erased at the person's request before its acta was sent.",
    )
