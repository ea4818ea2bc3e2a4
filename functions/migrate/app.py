"""Migrate: CloudFormation custom resource applying ``sql/`` on every deploy.

The protocol (Create/Update/Delete, rollbacks, always answering the
ResponseURL) lives in :mod:`voxcliente.flows.migrate`.

``sql/`` reaches the function as a symbolic link to the repository's ``sql/``;
``sam build`` copies the files it points at into the artifact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voxcliente.flows import migrate
from voxcliente.observability import logger

SQL_DIR = Path(__file__).resolve().parent / "sql"


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    migrate.handle(event, context, SQL_DIR)
