"""EmailEvents: what SES says happened to our emails (via the configuration set's SNS topic).

Send, Delivery, Bounce, Complaint and Reject events are recorded on the
message's delivery row; a permanent bounce or a complaint suppresses the
address. The steps live in :mod:`voxcliente.pipeline.ses_events`, because the
reconciler replays SNS events whose retries ran out through them too.
"""

from __future__ import annotations

from typing import Any

from voxcliente.pipeline.ses_events import handle_notification, handle_sns_event

__all__ = ["handle", "handle_notification", "handle_sns_event"]


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """The function's answer: what was done with each SNS record."""
    return {"results": handle_sns_event(event)}
