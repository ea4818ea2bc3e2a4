"""CloudFormation custom resource: apply the ``sql/`` migrations on every deploy.

Contract (``Custom::Migrations`` in template.yaml):

* Create / Update: apply what is not applied yet with
  :func:`voxcliente.adapters.migrations.apply_migrations`, then answer SUCCESS with
  ``Data = {"Applied": "<comma-separated file names>", "AppliedCount": "<n>"}``.
  Any error answers FAILED with the reason, so the deploy fails (and rolls
  back) instead of leaving code running on an old schema.
* Update that goes back to an older ``MigrationsVersion`` (the ARN of the
  function version whose ``sql/`` is meant, ``...:function:name:N``): that is
  CloudFormation rolling back, while this function still runs the newer code.
  Migrations only go forward, so it answers SUCCESS without touching the
  schema (running the newer files again would fail the rollback too).
* Delete: SUCCESS, nothing dropped (the data outlives the stack; the database
  has its own deletion policy).
* The physical resource id is stable, so an Update never makes CloudFormation
  think the resource was replaced (which would send a Delete for the old one).
* The answer is always sent to the pre-signed ``ResponseURL``, also when the
  function is about to time out: a custom resource that never answers keeps
  the stack waiting for an hour.

The Migrate function's handler passes its own ``sql/`` directory.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from voxcliente.adapters import db
from voxcliente.adapters.migrations import apply_migrations
from voxcliente.observability import logger

PHYSICAL_RESOURCE_ID = "voxcliente-schema-migrations"
# Answer FAILED this long before Lambda would kill the invocation.
_TIMEOUT_MARGIN_S = 10.0
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
# The whole response body must stay under 4 KB.
_MAX_REASON = 1500


def handle(event: dict[str, Any], context: Any, sql_dir: Path) -> None:
    """Answer one CloudFormation request for the migrations resource."""
    request_type = event["RequestType"]
    physical_id = event.get("PhysicalResourceId") or PHYSICAL_RESOURCE_ID
    responder = _Responder(event, context, physical_id)
    logger.info("migrations custom resource", extra={"request_type": request_type})

    if request_type == "Delete":
        responder.send("SUCCESS", reason="Nothing to undo: the schema stays with the data.")
        return
    if request_type == "Update" and _is_rollback(event):
        responder.send("SUCCESS", reason="Rollback: migrations only go forward; schema kept.")
        return

    timer = threading.Timer(
        max(context.get_remaining_time_in_millis() / 1000 - _TIMEOUT_MARGIN_S, 1.0),
        responder.send,
        args=("FAILED",),
        kwargs={"reason": "The migrations did not finish before the function timed out."},
    )
    timer.daemon = True
    timer.start()
    try:
        applied = _migrate(sql_dir)
    except Exception as exc:  # noqa: BLE001 - every failure must reach CloudFormation
        logger.exception("migrations failed")
        cause = f" Cause: {exc.__cause__}" if exc.__cause__ else ""
        responder.send("FAILED", reason=f"Migrations failed: {type(exc).__name__}: {exc}{cause}")
        return
    finally:
        timer.cancel()
    logger.info("migrations applied", extra={"applied": applied})
    responder.send(
        "SUCCESS",
        data={"Applied": ",".join(applied), "AppliedCount": str(len(applied))},
        reason=f"{len(applied)} migration(s) applied.",
    )


def _version_number(properties: dict[str, Any] | None) -> int | None:
    arn = str((properties or {}).get("MigrationsVersion", ""))
    tail = arn.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _is_rollback(event: dict[str, Any]) -> bool:
    new = _version_number(event.get("ResourceProperties"))
    old = _version_number(event.get("OldResourceProperties"))
    return new is not None and old is not None and new < old


def _migrate(sql_dir: Path) -> list[str]:
    conn = db.connect()
    try:
        return apply_migrations(conn, sql_dir)
    finally:
        conn.close()


class _Responder:
    """Sends the one answer CloudFormation waits for (the first call wins)."""

    def __init__(self, event: dict[str, Any], context: Any, physical_id: str) -> None:
        self._event = event
        self._context = context
        self._physical_id = physical_id
        self._lock = threading.Lock()
        self._sent = False

    def send(self, status: str, *, reason: str = "", data: dict[str, str] | None = None) -> None:
        with self._lock:
            if self._sent:
                return
            self._sent = True
        log_stream = getattr(self._context, "log_stream_name", "")
        full_reason = f"{reason} (log stream: {log_stream})" if log_stream else reason
        body = {
            "Status": status,
            "Reason": full_reason[:_MAX_REASON],
            "PhysicalResourceId": self._physical_id,
            "StackId": self._event["StackId"],
            "RequestId": self._event["RequestId"],
            "LogicalResourceId": self._event["LogicalResourceId"],
            "NoEcho": False,
            "Data": data or {},
        }
        put_response(self._event["ResponseURL"], body)


def put_response(url: str, body: dict[str, Any], attempts: int = 3) -> None:
    """PUT the JSON answer to CloudFormation's pre-signed S3 URL."""
    parsed = urlparse(url)
    # https in AWS; plain http only to this machine (a test's local listener).
    if parsed.scheme != "https" and not (parsed.scheme == "http" and parsed.hostname in _LOOPBACK):
        raise ValueError("The CloudFormation ResponseURL must be an https URL.")
    payload = json.dumps(body).encode("utf-8")
    for attempt in range(1, attempts + 1):
        # The pre-signed URL was signed with an empty content type.
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=payload,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(payload))},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                logger.info(
                    "answered CloudFormation",
                    extra={"status": body["Status"], "http_status": response.status},
                )
                return
        except OSError:
            logger.exception("could not answer CloudFormation", extra={"attempt": attempt})
    logger.error("gave up answering CloudFormation; the stack will wait for its timeout")
