"""Acta: SQS worker — transcript, acta, email and costs; partial batch failures."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from voxcliente.flows import acta
from voxcliente.observability import instrumented, tracer

processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> str:
    # Powertools passes the invocation's context to a handler that names it: the
    # acta's time budget is what is left of this invocation.
    message = acta.parse_message(record.body)
    if message is None:
        # Malformed: no retry can make it work, so it is consumed (logged, counted).
        return "discarded"
    receive_count = int(record.attributes.approximate_receive_count or 1)
    result = acta.process(message, receive_count=receive_count, context=lambda_context)
    return result.outcome


@instrumented()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A failed record returns to the queue (and, after maxReceiveCount, to the
    # dead-letter queue); the others are deleted.
    response: dict[str, Any] = dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
    return response
