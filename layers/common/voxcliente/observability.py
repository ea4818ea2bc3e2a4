"""The one Logger, Tracer and Metrics of every function.

The service name comes from ``POWERTOOLS_SERVICE_NAME`` (set in the template's
Globals); the metrics namespace from ``POWERTOOLS_METRICS_NAMESPACE``.

The tracer patches botocore only, the one library whose calls we want as X-Ray
subsegments (S3, SQS, SES, Secrets Manager). Left to itself, ``Tracer()`` calls
the X-Ray SDK's ``patch_all``, which imports every supported library it can find
to patch it (httpx and sqlite3 among them) in every function's cold start
(Powertools, Tracer ``patch_modules``; X-Ray SDK for Python, "Third Party Library
Support": patching botocore covers boto3).
"""

from __future__ import annotations

import traceback
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
TRACED_MODULES = ("botocore",)
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()


def log_unexpected(message: str, exc: BaseException, **extra: Any) -> None:
    """Log an exception nobody expected by its type and stack only: its text may quote
    data (a database error's "Failing row contains (...)" holds an address)."""
    logger.error(
        message,
        extra={
            **extra,
            "error_type": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "stack": "".join(traceback.format_tb(exc.__traceback__)),
        },
    )
