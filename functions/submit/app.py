"""Submit: S3 ObjectCreated under uploads/ and inbox/ -> a meeting, submitted to AssemblyAI once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from voxcliente.flows import submit
from voxcliente.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes = submit.process_event(event)
    return {
        "results": [
            {
                "key": o.key,
                "meeting_id": str(o.meeting_id) if o.meeting_id else None,
                "result": o.result,
            }
            for o in outcomes
        ]
    }
