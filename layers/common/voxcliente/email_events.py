"""EmailEvents: what SES says happened to our emails (via the configuration set's SNS topic).

SES event publishing sends JSON with ``eventType`` (Delivery, Bounce,
Complaint, Reject, ...) and ``mail.messageId``, the id SendEmail returned;
identity notifications use ``notificationType`` instead, so both are read.
A permanent bounce or a complaint suppresses the address: nothing more is sent
to it (SES account-level suppression may also apply; this is ours, per address).
"""

from __future__ import annotations

import json
from typing import Any

from voxcliente import repository as repo
from voxcliente.db import transaction
from voxcliente.models import DeliveryStatus
from voxcliente.observability import logger

_STATUS: dict[str, DeliveryStatus] = {
    "delivery": "delivered",
    "bounce": "bounced",
    "complaint": "complained",
    "reject": "rejected",
}


def handle_notification(notification: dict[str, Any]) -> str:
    """Apply one SES event; return what was done."""
    kind = str(notification.get("eventType") or notification.get("notificationType") or "")
    status = _STATUS.get(kind.lower())
    message_id = (notification.get("mail") or {}).get("messageId")
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
    with transaction() as tx:
        delivery = repo.record_delivery_event(
            tx,
            message_id,
            status=status,
            details=details,
            bounce_type=bounce.get("bounceType"),
            bounce_subtype=bounce.get("bounceSubType"),
            complaint_type=complaint.get("complaintFeedbackType"),
        )
        reason = bounce.get("bounceSubType") or complaint.get("complaintFeedbackType") or kind
        for address in suppress:
            repo.suppress_email(tx, address, f"{kind.lower()}: {reason}")
    if delivery is None:
        logger.warning("SES event for a message we did not send", extra={"message_id": message_id})
        return "unknown_message"
    logger.info(
        "SES event recorded",
        extra={"message_id": message_id, "status": status, "suppressed": suppress},
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
        results.append(handle_notification(notification))
    return results
