"""One way to drive the chain in tests: each function called through its handler
with the event AWS sends it, and what the run left behind read back.

The integration, fault and connection tests all use this harness (the ``chain``
fixture in conftest.py builds one), so a change to an event's shape or to how a
failed SQS record goes back to the queue is made here once. Redelivery is
played by handing the same SQS message to the Acta function again with a
higher receive count: no test waits for a queue.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from conftest import AwsEnv, sent_emails
from voxcliente.domain.models import Meeting
from voxlocal import events
from voxlocal.functions import load_function

TESTS = Path(__file__).resolve().parent
SAMPLES = TESTS.parent / "samples"
SPANISH = SAMPLES / "reunion-textiles-andinos.mp3"
ENGLISH = SAMPLES / "client-call-en.mp3"
AUDIO = (TESTS / "fixtures" / "tiny.mp3").read_bytes()
RECIPIENT = "ana.mendez@example.com"


def load_script(name: str) -> ModuleType:
    """scripts/<name>.py imported as a module (the scripts are not a package)."""
    path = TESTS.parent / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"vox_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries happen at once: the tests count attempts, never wait for them."""
    from voxcliente.acta import generation
    from voxcliente.adapters import db

    monkeypatch.setattr(generation, "_sleep", lambda _seconds: None)
    monkeypatch.setattr(db, "_pause", lambda _seconds: None)


# --- one function at a time ---------------------------------------------------------------
def put(aws: AwsEnv, key: str, body: bytes = AUDIO, **metadata: str) -> None:
    """An object in the audio bucket, as a browser or a mail rule would leave it."""
    aws.s3.put_object(
        Bucket=aws.bucket, Key=key, Body=body, ContentType="audio/mpeg", Metadata=metadata
    )


def s3_event(bucket: str, *keys: str, size: int = len(AUDIO)) -> dict[str, Any]:
    """S3's notification for ``keys`` (URL-encoded as S3 sends them)."""
    return events.s3_put(bucket, *keys, size=size)


def submit(event: dict[str, Any]) -> dict[str, Any]:
    """The Submit function on an S3 event; returns its per-record results."""
    out: dict[str, Any] = load_function("submit").lambda_handler(
        event, events.LambdaContext("Submit")
    )
    return out


def results(out: dict[str, Any]) -> list[str]:
    """Submit's outcome for each record, in order."""
    return [r["result"] for r in out["results"]]


def webhook(url: str, headers: dict[str, str], body: str) -> tuple[int, dict[str, Any]]:
    """AssemblyAI's POST to ``url`` through the Webhook function: (status, JSON body)."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    event = events.http_api("POST", path, headers=headers, body=body)
    out = load_function("webhook").lambda_handler(event, events.LambdaContext("Webhook"))
    return int(out["statusCode"]), json.loads(out["body"])


def upload_api(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The UploadApi function on an HTTP API event: (status, JSON body)."""
    out = load_function("upload_api").lambda_handler(event, events.LambdaContext("UploadApi"))
    return int(out["statusCode"]), json.loads(out["body"])


def meetings(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every meeting row, oldest first."""
    return conn.execute("SELECT * FROM meetings ORDER BY created_at").fetchall()


def latest_meeting(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    row: dict[str, Any] | None = conn.execute(
        "SELECT * FROM meetings ORDER BY created_at DESC LIMIT 1"
    ).fetchone()
    assert row is not None, "no meeting was recorded"
    return row


def submit_recording(
    aws: AwsEnv,
    assemblyai: Any,
    audio: Path | bytes = SPANISH,
    transcript: dict[str, Any] | Path | None = None,
    *,
    name: str = "reunión.mp3",
    register: bool = True,
) -> None:
    """Put a recording in inbox/<recipient>/ and run Submit on S3's event for it.

    ``transcript`` is what AssemblyAI will answer (by default the sample's recorded
    transcript); without ``register`` it does not know the audio and fails it."""
    data = audio.read_bytes() if isinstance(audio, Path) else audio
    if register:
        assemblyai.register_audio(
            data, transcript if transcript is not None else Path(f"{audio!s}.transcript.json")
        )
    key = f"inbox/{RECIPIENT}/{name}"
    put(aws, key, data)
    out = submit(s3_event(aws.bucket, key, size=len(data)))
    assert results(out) == ["submitted"], out


def recorded_meeting(
    key: str = "inbox/ana@example.com/x.mp3", email: str = "ana@example.com"
) -> Meeting:
    """A meeting as Submit first records it (``received``), through the repository."""
    from voxcliente.adapters import repository as repo
    from voxcliente.adapters.db import transaction

    with transaction() as tx:
        user = repo.get_or_create_user(tx, email)
        meeting, created = repo.insert_meeting_once(
            tx,
            s3_bucket="b",
            s3_key=key,
            s3_version_id="",
            original_filename="x.mp3",
            user_id=user.id,
            recipient_email=user.email,
        )
    assert created, f"{key} was already recorded"
    return meeting


# --- the whole chain ----------------------------------------------------------------------
class Chain:
    """One recipient's meetings, the functions called as AWS calls them, and what they
    left behind (``conn`` is the test's own connection, not the functions')."""

    def __init__(
        self, aws: AwsEnv, assemblyai: Any, openai_api: Any, conn: psycopg.Connection[Any]
    ) -> None:
        self.aws = aws
        self.assemblyai = assemblyai
        self.openai = openai_api
        self.conn = conn

    # --- driving ------------------------------------------------------------------------
    def put(self, name: str, data: bytes = AUDIO) -> dict[str, Any]:
        """Drop ``data`` as inbox/<recipient>/<name>; returns S3's event for it."""
        key = f"inbox/{RECIPIENT}/{name}"
        put(self.aws, key, data)
        return s3_event(self.aws.bucket, key, size=len(data))

    def submit(self, event: dict[str, Any]) -> dict[str, Any]:
        return submit(event)

    def drop(
        self,
        audio: Path | bytes = SPANISH,
        transcript: dict[str, Any] | Path | None = None,
        *,
        name: str = "reunión.mp3",
        register: bool = True,
    ) -> str:
        """``submit_recording``; returns the transcript id once AssemblyAI is done."""
        submit_recording(self.aws, self.assemblyai, audio, transcript, name=name, register=register)
        transcript_id = str(self.meeting()["assemblyai_transcript_id"])
        self.assemblyai.wait(transcript_id)
        return transcript_id

    def webhook(
        self, transcript_id: str, *, headers: dict[str, str] | None = None, body: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """AssemblyAI's webhook for ``transcript_id`` (its own headers and body unless
        the test replaces them)."""
        url, real_headers, payload = self.assemblyai.webhook_request(transcript_id)
        return webhook(
            url,
            real_headers if headers is None else headers,
            json.dumps(payload) if body is None else body,
        )

    def transcribed(self) -> dict[str, Any]:
        """The Spanish sample submitted and its webhook answered: the acta message is on
        the queue. Returns the meeting."""
        status, reply = self.webhook(self.drop(SPANISH))
        assert status == 200, reply
        return self.meeting()

    def receive(self) -> list[dict[str, Any]]:
        got = self.aws.sqs.receive_message(
            QueueUrl=self.aws.queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["ApproximateReceiveCount"],
        )
        return list(got.get("Messages", []))

    def work(
        self, batch: list[dict[str, Any]] | None = None, *, release_failed: bool = False
    ) -> list[str]:
        """One Acta invocation on ``batch`` (by default what is on the queue). Deletes
        what succeeded, as Lambda's SQS poller does; returns the ids that failed.

        A failed message stays in flight, as until its visibility timeout; with
        ``release_failed`` it is visible again at once (the timeout elapsing without
        waiting for it). A message the test made up (receipt handle ``fake-…``) was
        never on the queue and is not deleted.
        """
        from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

        batch = self.receive() if batch is None else batch
        try:
            out = load_function("acta").lambda_handler(
                events.sqs(batch), events.LambdaContext("Acta")
            )
            failed = [f["itemIdentifier"] for f in out.get("batchItemFailures", [])]
        except BatchProcessingError:
            # Every record failed: Powertools fails the invocation, so Lambda returns
            # the whole batch to the queue.
            failed = [m["MessageId"] for m in batch]
        for message in batch:
            handle = message["ReceiptHandle"]
            if handle.startswith("fake-"):
                continue
            if message["MessageId"] not in failed:
                self.aws.sqs.delete_message(QueueUrl=self.aws.queue_url, ReceiptHandle=handle)
            elif release_failed:
                self.aws.sqs.change_message_visibility(
                    QueueUrl=self.aws.queue_url, ReceiptHandle=handle, VisibilityTimeout=0
                )
        return failed

    def run_all(self, transcript_id: str) -> None:
        """The webhook, then the Acta function until the queue is empty."""
        status, _ = self.webhook(transcript_id)
        assert status == 200
        while msgs := self.receive():
            self.work(msgs)

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

    # --- what is left -------------------------------------------------------------------
    def meeting(self) -> dict[str, Any]:
        return dict(latest_meeting(self.conn))

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
