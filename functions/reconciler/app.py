"""Reconciler: scheduled; continues meetings whose webhook never came and stuck work."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from voxcliente.flows import reconciler
from voxcliente.observability import instrumented


@instrumented()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return reconciler.run().as_dict()
