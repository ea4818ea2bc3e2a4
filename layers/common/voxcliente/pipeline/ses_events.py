"""What SES says happened to our emails (via the configuration set's SNS topic).

The EmailEvents function's steps, here because the reconciler replays SNS
events whose Lambda retries ran out through them too.

SES event publishing sends JSON with ``eventType`` (Send, Delivery, Bounce,
Complaint, Reject, ...) and ``mail.messageId``, the id SendEmail returned, and
``mail.tags``, the message's ``EmailTags`` (each name with a list of values;
SES developer guide, "Contents of event data that Amazon SES publishes to
Amazon SNS"). Identity notifications use ``notificationType`` instead, so both
are read.

* Send: SES accepted the message. Our messages are tagged with their meeting
  and kind, so a delivery whose MessageId never reached the database (the
  worker lost it between SES's answer and its commit) gets its id and
  ``sent`` here; the worker, finding it ``sent``, never sends it again.
* Delivery, Bounce, Complaint, Reject: recorded on the row of the message.
  SNS does not keep order, so a Delivery handled after a Bounce or Complaint
  never hides it (see ``repository.record_delivery_event``).

A permanent bounce or a complaint suppresses the address: nothing more is sent
to it (SES account-level suppression may also apply; this is ours, per address).
Addresses are never logged.
"""

from __future__ import annotations

import json
from typing import Any, cast
from uuid import UUID

from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import session, transaction
from voxcliente.adapters.ses import TAG_KIND, TAG_MEETING
from voxcliente.domain.models import DeliveryStatus, EmailKind
from voxcliente.observability import logger

_STATUS: dict[str, DeliveryStatus] = {
    "delivery": "delivered",
    "bounce": "bounced",
    "complaint": "complained",
    "reject": "rejected",
}


def _tagged(mail: dict[str, Any]) -> tuple[UUID | None, EmailKind | None]:
    """The meeting and kind our tags name, if the message carries them."""
    tags = mail.get("tags") or {}
    meeting_values = tags.get(TAG_MEETING) or []
    kind_values = tags.get(TAG_KIND) or []
    try:
        meeting_id = UUID(str(meeting_values[0])) if meeting_values else None
    except ValueError:
        meeting_id = None
    kind = kind_values[0] if kind_values and kind_values[0] in ("acta", "failure") else None
    if meeting_id is None or kind is None:
        return None, None
    return meeting_id, cast(EmailKind, kind)


def _send_event(message_id: str, mail: dict[str, Any]) -> str:
    meeting_id, kind = _tagged(mail)
    if meeting_id is None or kind is None:
        logger.info("SES event ignored", extra={"event_type": "Send"})
        return "ignored"
    with session() as conn:
        recorded = repo.record_send_event(conn, meeting_id, kind, message_id)
    if recorded is None:
        # The usual case: the worker recorded the id itself.
        return "ignored"
    logger.info(
        "SES accepted a message whose id the worker had not recorded",
        extra={"meeting_id": str(meeting_id), "kind": kind, "message_id": message_id},
    )
    return "sent"


def handle_notification(notification: dict[str, Any]) -> str:
    """Apply one SES event; return what was done."""
    kind = str(notification.get("eventType") or notification.get("notificationType") or "")
    mail = notification.get("mail") or {}
    message_id = mail.get("messageId")
    if kind.lower() == "send" and message_id:
        return _send_event(str(message_id), mail)
    status = _STATUS.get(kind.lower())
    if status is None or not message_id:
        logger.info("SES event ignored", extra={"event_type": kind})
        return "ignored"
    bounce = notification.get("bounce") or {}
    complaint = notification.get("complaint") or {}
    details: dict[str, Any] = {
        kind.lower(): bounce or complaint or notification.get(kind.lower()) or {}
    }
    suppress: list[str] = []
    if status == "bounced" and bounce.get("bounceType") == "Permanent":
        suppress = [r["emailAddress"] for r in bounce.get("bouncedRecipients") or []]
    if status == "complained":
        suppress = [r["emailAddress"] for r in complaint.get("complainedRecipients") or []]
    meeting_id, email_kind = _tagged(mail)
    # One statement unless addresses are suppressed with it: then they commit together.
    with transaction() if suppress else session() as tx:
        delivery = repo.record_delivery_event(
            tx,
            message_id,
            status=status,
            details=details,
            bounce_type=bounce.get("bounceType"),
            bounce_subtype=bounce.get("bounceSubType"),
            complaint_type=complaint.get("complaintFeedbackType"),
            meeting_id=meeting_id,
            kind=email_kind,
        )
        reason = bounce.get("bounceSubType") or complaint.get("complaintFeedbackType") or kind
        for address in suppress:
            repo.suppress_email(tx, address, f"{kind.lower()}: {reason}")
    if delivery is None:
        logger.warning("SES event for a message we did not send", extra={"message_id": message_id})
        return "unknown_message"
    logger.info(
        "SES event recorded",
        extra={
            "message_id": message_id,
            "meeting_id": str(delivery.meeting_id) if delivery.meeting_id else None,
            "status": delivery.status,
            "addresses_suppressed": len(suppress),
        },
    )
    return status


def handle_sns_event(event: dict[str, Any]) -> list[str]:
    results = []
    for record in event.get("Records") or []:
        message = (record.get("Sns") or {}).get("Message") or "{}"
        try:
            notification = json.loads(message)
        except ValueError:
            logger.warning("SNS message is not JSON; ignored")
            results.append("ignored")
            continue
        if not isinstance(notification, dict):
            logger.warning("SNS message is not a JSON object; ignored")
            results.append("ignored")
            continue
        results.append(handle_notification(notification))
    return results
