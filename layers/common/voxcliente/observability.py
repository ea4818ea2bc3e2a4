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

import functools
import traceback
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
TRACED_MODULES = ("botocore",)
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()


def http_request_id(event: dict[str, Any]) -> str | None:
    """API Gateway's id of an HTTP API request (``requestContext.requestId``: the path
    Powertools' ``correlation_paths.API_GATEWAY_HTTP`` names), read without JMESPath."""
    context = event.get("requestContext")
    return context.get("requestId") if isinstance(context, dict) else None


def instrumented[F: Callable[..., Any]](
    *, correlation_id: Callable[[Any], str | None] | None = None, traced: bool | None = None
) -> Callable[[F], F]:
    """Powertools' ``inject_lambda_context``, ``capture_lambda_handler`` and
    ``log_metrics`` for a handler, paying per invocation only for what is on.

    * The Lambda context's keys in every log line, and the correlation id read from
      the event by ``correlation_id`` (set each invocation, None when absent, as
      ``correlation_id_path`` does; a plain lookup costs no JMESPath query).
    * The handler traced as an X-Ray subsegment when tracing is on (``traced``:
      default the tracer's own decision at import). Off, Powertools' wrapper still
      built a dummy subsegment and its annotations on every invocation.
    * Metrics flushed (one EMF line) when the invocation added any. ``log_metrics``
      flushed every time and warned "No application metrics to publish" when an
      invocation had none (a 401, a repeated webhook).
    """

    def wrap(handler: F) -> F:
        @functools.wraps(handler)
        def flushed(event: Any, context: Any) -> Any:
            try:
                return handler(event, context)
            finally:
                if metrics.metric_set:
                    metrics.flush_metrics()
                    # Disabled (POWERTOOLS_METRICS_DISABLED, local runs), the flush keeps
                    # them: values never published would pile up, each add_metric
                    # formatting them all into its debug line.
                    metrics.clear_metrics()

        on = not tracer.disabled if traced is None else traced
        inner = tracer.capture_lambda_handler(flushed) if on else flushed

        @functools.wraps(handler)
        def invoke(event: Any, context: Any) -> Any:
            if correlation_id is not None:
                logger.set_correlation_id(correlation_id(event))
            return inner(event, context)

        return cast(F, logger.inject_lambda_context(invoke))

    return wrap


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
