"""EmailEvents: SES delivery, bounce, complaint and reject events (via SNS)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from voxcliente.flows import email_events
from voxcliente.observability import instrumented


@instrumented()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return email_events.handle(event)
