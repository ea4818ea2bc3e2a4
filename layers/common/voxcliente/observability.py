"""The one Logger, Tracer and Metrics of every function.

The service name comes from ``POWERTOOLS_SERVICE_NAME`` (set in the template's
Globals); the metrics namespace from ``POWERTOOLS_METRICS_NAMESPACE``.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
