"""The fault matrix's harness: one meeting driven through the real handlers, with
ways to break what it depends on at a chosen point.

``pipeline`` drops the Spanish sample under ``inbox/<recipient>/``, runs Submit
and the webhook, and leaves the acta message on the queue. Redelivery is played
by handing the same SQS message to the Acta function again with a higher
receive count (and the claim aged past its timeout, as SQS's visibility
timeout would): no test waits for a queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from botocore.exceptions import ClientError

from conftest import AwsEnv, sent_emails
from voxlocal import events
from voxlocal.functions import load_function

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SPANISH = SAMPLES / "reunion-textiles-andinos.mp3"
RECIPIENT = "ana.mendez@example.com"


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from voxcliente.acta import generation
    from voxcliente.adapters import db

    monkeypatch.setattr(generation, "_sleep", lambda _seconds: None)
    monkeypatch.setattr(db, "_pause", lambda _seconds: None)


class Pipeline:
    """One meeting, the functions called as AWS calls them, and what they left behind."""

    def __init__(
        self, aws: AwsEnv, assemblyai: Any, openai_api: Any, conn: psycopg.Connection[Any]
    ) -> None:
        self.aws = aws
        self.assemblyai = assemblyai
        self.openai = openai_api
        self.conn = conn

    # --- driving ----------------------------------------------------------------------
    def transcribed(self) -> dict[str, Any]:
        """A meeting AssemblyAI transcribed, its acta message on the queue; returns it."""
        data = SPANISH.read_bytes()
        self.assemblyai.register_audio(data, Path(f"{SPANISH}.transcript.json"))
        key = f"inbox/{RECIPIENT}/reunión.mp3"
        self.aws.s3.put_object(Bucket=self.aws.bucket, Key=key, Body=data, ContentType="audio/mpeg")
        out = load_function("submit").lambda_handler(
            events.s3_put(self.aws.bucket, key, size=len(data)), events.LambdaContext("Submit")
        )
        assert out["results"][0]["result"] == "submitted", out
        transcript_id = str(self.meeting()["assemblyai_transcript_id"])
        self.assemblyai.wait(transcript_id)
        url, headers, payload = self.assemblyai.webhook_request(transcript_id)
        reply = load_function("webhook").lambda_handler(
            events.http_api(
                "POST",
                "/webhooks/assemblyai?" + urlsplit(url).query,
                headers=headers,
                body=json.dumps(payload),
            ),
            events.LambdaContext("Webhook"),
        )
        assert reply["statusCode"] == 200, reply
        return self.meeting()

    def receive(self) -> list[dict[str, Any]]:
        got = self.aws.sqs.receive_message(
            QueueUrl=self.aws.queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["ApproximateReceiveCount"],
        )
        return list(got.get("Messages", []))

    def work(self, batch: list[dict[str, Any]]) -> list[str]:
        """Run the Acta function on ``batch``; delete what succeeded; return the ids that
        failed (SQS would deliver them again)."""
        from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

        try:
            out = load_function("acta").lambda_handler(
                events.sqs(batch), events.LambdaContext("Acta")
            )
            failed = [f["itemIdentifier"] for f in out.get("batchItemFailures", [])]
        except BatchProcessingError:
            failed = [m["MessageId"] for m in batch]
        for m in batch:
            if m["MessageId"] not in failed and not m["ReceiptHandle"].startswith("fake-"):
                self.aws.sqs.delete_message(
                    QueueUrl=self.aws.queue_url, ReceiptHandle=m["ReceiptHandle"]
                )
        return failed

    def drain(self) -> None:
        """Process what is on the queue until it is empty (failures are dropped here)."""
        for _ in range(10):
            batch = self.receive()
            if not batch:
                return
            self.work(batch)
            for m in batch:  # a failed record is not redelivered by this helper
                self.aws.sqs.delete_message(
                    QueueUrl=self.aws.queue_url, ReceiptHandle=m["ReceiptHandle"]
                )
        raise AssertionError("the queue never emptied")

    def redeliver(self, message: dict[str, Any], receive_count: int) -> list[str]:
        """SQS delivering ``message`` again after its visibility timeout (longer than the
        worker's claim timeout, so the claim is stale by then)."""
        self.conn.execute("UPDATE meetings SET generating_at = now() - interval '1 hour'")
        again = {**message, "Attributes": {"ApproximateReceiveCount": str(receive_count)}}
        return self.work([again])

    def reconcile(self) -> dict[str, Any]:
        """The reconciler, with everything aged past its thresholds."""
        self.conn.execute(
            "UPDATE meetings SET generating_at = now() - interval '1 hour', "
            "transcribed_at = now() - interval '1 hour', "
            "failed_at = CASE WHEN failed_at IS NULL THEN NULL "
            "ELSE now() - interval '1 hour' END"
        )
        out: dict[str, Any] = load_function("reconciler").lambda_handler(
            {}, events.LambdaContext("Reconciler")
        )
        return out

    # --- what is left ---------------------------------------------------------------
    def meeting(self) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT * FROM meetings ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        assert row is not None
        return dict(row)

    def deliveries(self) -> dict[str, dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM email_deliveries ORDER BY created_at").fetchall()
        return {r["kind"]: dict(r) for r in rows}

    def emails(self) -> list[Any]:
        return sent_emails()

    def openai_requests(self) -> int:
        """Chat completions that reached OpenAI (scripted error answers included)."""
        return len(self.openai.requests)

    def queued(self) -> list[dict[str, Any]]:
        return self.aws.queue_messages()


@pytest.fixture
def pipeline(
    db_url: str, aws: AwsEnv, assemblyai: Any, openai_api: Any, conn: psycopg.Connection[Any]
) -> Pipeline:
    return Pipeline(aws, assemblyai, openai_api, conn)


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
