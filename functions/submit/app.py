"""Submit: S3 ObjectCreated under uploads/ and inbox/ -> a meeting, submitted to AssemblyAI once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from voxcliente.flows import submit
from voxcliente.observability import instrumented


@instrumented()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return submit.handle(event)
