"""An emailed acta sent again, on request (``POST /meetings/{id}/resend``).

Asking records an ``email_deliveries`` row (kind ``resend``, ``pending``, the
address to send to) and queues one work message naming it; the Acta worker
then sends it exactly once, however often the message is delivered (the row is
claimed by its id, like the acta's own row: :mod:`voxcliente.pipeline.delivery`).

What is sent is what was sent the first time: the stored acta (never a new
OpenAI request) and the stored .docx and transcript
(:mod:`voxcliente.pipeline.documents`; re-rendered from the database only
where nothing was stored). At most :data:`RESEND_LIMIT` requests per meeting in
:data:`RESEND_WINDOW_S`: a resend costs an email and, asked for in a loop,
would make our sender look like a spammer.
"""

from __future__ import annotations

from uuid import UUID

from voxcliente.adapters import repository as repo
from voxcliente.adapters import sqs
from voxcliente.adapters.db import Connection, session, transaction
from voxcliente.domain.error_codes import ErrorCode
from voxcliente.domain.errors import Conflict, RateLimited, TransientError
from voxcliente.domain.models import (
    ACCEPTED_DELIVERY_STATUSES,
    UNSENT_FINAL_DELIVERY_STATUSES,
    EmailDelivery,
    Meeting,
)
from voxcliente.domain.prices import EMULATED_MODEL
from voxcliente.observability import logger, metrics
from voxcliente.pipeline import documents
from voxcliente.pipeline.delivery import deliver
from voxcliente.settings import Settings, get_settings

RESEND_LIMIT = 3
RESEND_WINDOW_S = 24 * 3600

_NOT_READY = (
    "This meeting's acta has not been emailed yet (or the meeting was erased), so there "
    "is nothing to send again; it is emailed as soon as it is ready."
)
_SUPPRESSED = (
    "Earlier emails to this address bounced or were reported as spam, so no email is "
    "sent to it any more."
)


def request_resend(meeting: Meeting, recipient: str, *, settings: Settings | None = None) -> UUID:
    """Record a resend of ``meeting``'s acta to ``recipient`` and queue it; returns the
    delivery row's id. Conflict (``not_ready``) unless the meeting is emailed and not
    erased; RateLimited (``resend_limit``) after :data:`RESEND_LIMIT` in a day."""
    cfg = settings or get_settings()
    if meeting.status != "emailed" or meeting.erased_at is not None:
        raise Conflict(_NOT_READY, code="not_ready")
    with transaction() as tx:
        if repo.is_suppressed(tx, recipient):
            raise Conflict(_SUPPRESSED, code=ErrorCode.RECIPIENT_SUPPRESSED)
        try:
            delivery_id = repo.add_resend(
                tx,
                meeting_id=meeting.id,
                user_id=meeting.user_id,
                recipient=recipient,
                limit=RESEND_LIMIT,
                window_s=RESEND_WINDOW_S,
            )
        except repo.ResendRefused as refused:
            if refused.reason != "limit":
                raise Conflict(_NOT_READY, code="not_ready") from None
            raise RateLimited(
                f"This acta was already sent again {RESEND_LIMIT} times in the last 24 "
                "hours; try again later.",
                retry_after_s=refused.retry_after_s,
                code="resend_limit",
            ) from None
    # Queued once the row is committed, so the worker always finds it. A row whose
    # message could not be queued is deleted: it would never be sent, and must not
    # count against the person's resends.
    try:
        sqs.enqueue(meeting.id, "resend", delivery_id=delivery_id, settings=cfg)
    except Exception as exc:
        with session() as conn:
            repo.forget_pending_delivery(conn, delivery_id)
        logger.exception("resend not queued", extra={"meeting_id": str(meeting.id)})
        raise TransientError(
            "The acta could not be queued to be sent again; try again in a minute."
        ) from exc
    logger.info(
        "acta resend queued",
        extra={"meeting_id": str(meeting.id), "delivery_id": str(delivery_id)},
    )
    return delivery_id


def send_resend(
    delivery_id: UUID, *, settings: Settings, last_try: bool = False
) -> tuple[UUID | None, str]:
    """The worker's part: send the resend row ``delivery_id`` unless it was sent or ended
    unsent; returns (meeting id, outcome) with outcome emailed | skipped | failed.

    On the message's last delivery a service still unavailable ends the row ``failed``
    instead of leaving it ``pending`` for ever."""
    with session() as conn:
        row = repo.get_delivery_by_id(conn, delivery_id)
        meeting = repo.get_meeting(conn, row.meeting_id) if row and row.meeting_id else None
    if row is None or row.kind != "resend":
        logger.warning("no resend row for this message", extra={"delivery_id": str(delivery_id)})
        return None, "skipped"
    log = {"meeting_id": str(row.meeting_id), "delivery_id": str(delivery_id)}
    if row.status in ACCEPTED_DELIVERY_STATUSES or row.status in UNSENT_FINAL_DELIVERY_STATUSES:
        logger.info("resend already done; not sending again", extra=log)
        return row.meeting_id, "skipped"
    if meeting is None or meeting.erased_at is not None or not row.recipient:
        return _end(row, "erased", "The meeting was erased before its acta was sent again.")
    try:
        return _send(meeting, row, settings)
    except TransientError as exc:
        if not last_try:
            raise
        logger.exception("resend given up after repeated transient failures", extra=log)
        return _end(row, "unavailable", exc.message)


def _end(row: EmailDelivery, reason: str, note: str) -> tuple[UUID | None, str]:
    with session() as conn:
        repo.end_delivery_unsent(conn, row.id, "failed", reason, note)
    logger.info("resend ended unsent", extra={"delivery_id": str(row.id), "reason": reason})
    return row.meeting_id, "failed"


def _send(meeting: Meeting, row: EmailDelivery, settings: Settings) -> tuple[UUID | None, str]:
    recipient = str(row.recipient)
    with session() as conn:
        suppressed = repo.is_suppressed(conn, recipient)
        record = None if suppressed else repo.get_acta(conn, meeting.id)
        transcript = None if record is None else repo.get_transcript(conn, meeting.id)
        client = repo.get_client(conn, meeting.client_id) if meeting.client_id else None
    if suppressed:
        with session() as conn:
            repo.end_delivery_unsent(conn, row.id, "suppressed", "suppressed", _SUPPRESSED)
        return meeting.id, "failed"
    if record is None:
        return _end(row, "erased", "The meeting's acta is no longer kept.")

    from voxcliente import render
    from voxcliente.acta.model import Acta

    duration = transcript.audio_duration_s if transcript else None
    facts = documents.meeting_facts(
        meeting,
        client.name if client else None,
        float(duration) if duration else None,
        recipient=recipient,
    )
    rendered = render.render_acta_email(
        Acta.from_stored(record.content),
        facts,
        transcript.utterances if transcript else [],
        emulated=record.model == EMULATED_MODEL,
    )
    rendered = documents.with_stored_documents(
        meeting, rendered, settings, transcript_kept=transcript is not None
    )

    def resent(tx: Connection, message_id: str) -> None:
        # On the meeting's timeline, with the record of the email.
        repo.add_event(
            tx,
            meeting.id,
            meeting.status,
            meeting.status,
            "acta_resent",
            {"ses_message_id": message_id, "delivery_id": str(row.id)},
        )

    sent = deliver(meeting, "resend", rendered, settings, then=resent, row=row)
    if sent.outcome == "sent" and sent.now:
        metrics.add_metric(name="ActasResent", unit="Count", value=1)
        return meeting.id, "emailed"
    return meeting.id, "failed" if sent.outcome == "unsent" else "skipped"
