"""The fault matrix's ways to break what a meeting depends on at a chosen point.

The meeting itself is driven by the ``chain`` fixture (tests/harness.py):
``chain.transcribed()`` leaves the Spanish sample's acta message on the queue,
``chain.redeliver`` plays SQS's redelivery with a higher receive count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError

import harness


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    harness.no_backoff(monkeypatch)


class FlakySes:
    """The real (moto) SES v2 client, answering the first sends with scripted errors."""

    def __init__(self, real: Any, errors: list[str]) -> None:
        self.real = real
        self.errors = list(errors)
        self.calls = 0
        self.message_ids: list[str] = []

    def send_email(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        if self.errors:
            code = self.errors.pop(0)
            status = 400 if code in ("MessageRejected", "SendingPausedException") else 429
            raise ClientError(
                {
                    "Error": {"Code": code, "Message": f"scripted {code}"},
                    # botocore fills the other metadata keys; SES's code only reads these.
                    "ResponseMetadata": {"HTTPStatusCode": status},  # type: ignore[typeddict-item]
                },
                "SendEmail",
            )
        response: dict[str, Any] = self.real.send_email(**request)
        self.message_ids.append(str(response["MessageId"]))
        return response


@pytest.fixture
def flaky_ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FlakySes]]:
    """``flaky_ses("TooManyRequestsException", ...)``: the next sends fail that way."""
    from voxcliente.adapters import aws, ses

    def install(*errors: str) -> FlakySes:
        double = FlakySes(aws.client("sesv2"), list(errors))
        monkeypatch.setattr(ses, "get_ses_client", lambda: double)
        return double

    yield install


def kill_connection_at(
    monkeypatch: pytest.MonkeyPatch,
    conn: psycopg.Connection[Any],
    function: str,
    *,
    times: int = 1,
    when: Callable[..., bool] = lambda *a, **k: True,
) -> list[int]:
    """Terminate the worker's database session (``pg_terminate_backend``, from the test's
    own connection) right before ``repository.<function>`` runs, ``times`` times; the
    statement then meets a dead connection, as in an outage at that commit point."""
    from voxcliente.adapters import repository

    original = getattr(repository, function)
    killed: list[int] = []

    def wrapped(tx: Any, *args: Any, **kwargs: Any) -> Any:
        if len(killed) < times and when(*args, **kwargs):
            pid = tx.info.backend_pid
            conn.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
            killed.append(pid)
        return original(tx, *args, **kwargs)

    monkeypatch.setattr(repository, function, wrapped)
    return killed
