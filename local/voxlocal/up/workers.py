"""What AWS does between the functions, on loopback: S3 -> Submit, SQS -> Acta, the schedule.

* :class:`S3Notifications`: a new object version under ``inbox/`` or ``uploads/``
  (the template's two S3 events of Submit) invokes Submit with the ObjectCreated
  event S3 sends, however the object got there (the AWS CLI, a presigned POST,
  boto3). It lists the bucket's versions a few times a second: moto keeps no
  notification to a function of another process, and a listing sees every writer.
  Like Lambda's asynchronous invocation, a failed event is retried twice.
* :class:`QueueWorker`: Lambda's SQS event source: batches of the template's
  ``BatchSize``, the function's ``batchItemFailures`` left in the queue (a function
  error leaves the whole batch), the others deleted; a message not deleted comes
  back after the visibility timeout, and moto moves it to the dead-letter queue
  after ``maxReceiveCount`` receives, as SQS does.
* :class:`Schedule`: the reconciler's ``rate(...)`` rule, as an EventBridge event.
* :class:`SesDeliveries`: SES's Delivery notification (SNS -> EmailEvents) for
  each email the mailbox receives.
"""

from __future__ import annotations

import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from voxlocal import events
from voxlocal.up.invoker import Functions

Log = Callable[[str], None]

# Lambda's asynchronous invocation retries a failed event twice (three attempts).
ASYNC_ATTEMPTS = 3


class _Loop(ABC):
    """A daemon thread calling ``tick`` until stopped; ``every_s`` between ticks."""

    name = "loop"

    def __init__(self, every_s: float, log: Log) -> None:
        self.every_s = every_s
        self.log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def signal_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                self.log(f"{self.name}: {traceback.format_exc(limit=3).rstrip()}")
            self._stop.wait(self.every_s)

    @abstractmethod
    def tick(self) -> None:
        """One round of the loop's work (each loop says what)."""


def stop_all(loops: Sequence[_Loop]) -> None:
    """Stop the loops together: each finishes its round (a long poll's second) at once."""
    for loop in loops:
        loop.signal_stop()
    for loop in loops:
        loop.stop()


class S3Notifications(_Loop):
    """New object versions under ``prefixes`` -> Submit's S3 event."""

    name = "s3-notifications"

    def __init__(
        self,
        s3: Any,
        bucket: str,
        prefixes: Sequence[str],
        functions: Functions,
        log: Log,
        *,
        every_s: float = 0.3,
    ) -> None:
        super().__init__(every_s, log)
        self.s3, self.bucket, self.prefixes, self.functions = s3, bucket, tuple(prefixes), functions
        self._seen: set[tuple[str, str]] = set()
        self._attempts: dict[tuple[str, str], int] = {}

    def tick(self) -> None:
        for prefix in self.prefixes:
            pages = self.s3.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                for version in page.get("Versions", []):
                    self._notify(version)

    def _notify(self, version: dict[str, Any]) -> None:
        key, version_id = str(version["Key"]), str(version.get("VersionId") or "null")
        if (key, version_id) in self._seen:
            return
        event = events.s3_put(
            self.bucket,
            key,
            size=int(version.get("Size") or 0),
            version_id=None if version_id == "null" else version_id,
        )
        begun = time.monotonic()
        try:
            out = self.functions.invoke("submit", event)
        except Exception as exc:
            tries = self._attempts[(key, version_id)] = self._attempts.get((key, version_id), 0) + 1
            if tries >= ASYNC_ATTEMPTS:
                self._seen.add((key, version_id))
            again = "given up" if tries >= ASYNC_ATTEMPTS else "retried"
            self.log(f"S3 ObjectCreated s3://{self.bucket}/{key} -> Submit failed ({exc}); {again}")
            return
        self._seen.add((key, version_id))
        results = ", ".join(
            f"{r.get('meeting_id', '-')} {r.get('result', '')}".strip()
            for r in (out or {}).get("results", [])
        )
        elapsed = (time.monotonic() - begun) * 1000
        self.log(f"S3 ObjectCreated s3://{self.bucket}/{key} -> Submit {results} {elapsed:.0f} ms")


class QueueWorker(_Loop):
    """Lambda's SQS event source for one function."""

    name = "sqs-worker"

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        function: str,
        functions: Functions,
        log: Log,
        *,
        batch_size: int = 1,
    ) -> None:
        super().__init__(0.0, log)
        self.sqs, self.queue_url, self.queue_arn = sqs, queue_url, queue_arn
        self.function, self.functions, self.batch_size = function, functions, batch_size

    def tick(self) -> None:
        got = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=1,  # a long poll, short enough to stop quickly
            AttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            return
        from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

        begun = time.monotonic()
        try:
            out = self.functions.invoke(self.function, events.sqs(got, self.queue_arn))
            failed = {f["itemIdentifier"] for f in (out or {}).get("batchItemFailures", [])}
        except BatchProcessingError:  # every record failed: Powertools raises
            failed = {m["MessageId"] for m in got}
        except Exception as exc:
            self.log(f"SQS -> {self.function} failed ({exc}); the batch returns to the queue")
            failed = {m["MessageId"] for m in got}
        for message in got:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        elapsed = (time.monotonic() - begun) * 1000
        receives = ",".join(
            str((m.get("Attributes") or {}).get("ApproximateReceiveCount", "1")) for m in got
        )
        kept = f", {len(failed)} left in the queue" if failed else ""
        self.log(
            f"SQS {len(got)} message(s) (receive {receives}) -> {self.function}{kept} "
            f"{elapsed:.0f} ms"
        )


class Schedule(_Loop):
    """An EventBridge ``rate(...)`` rule invoking ``function``; the first run after one period."""

    name = "schedule"

    def __init__(self, function: str, functions: Functions, log: Log, *, every_s: float) -> None:
        super().__init__(every_s, log)
        self.function, self.functions = function, functions
        self._first = True

    def tick(self) -> None:
        if self._first:  # a rule fires a period after it is created, not at once
            self._first = False
            return
        begun = time.monotonic()
        try:
            out = self.functions.invoke(self.function, scheduled_event())
        except Exception as exc:
            self.log(f"Schedule -> {self.function} failed ({exc}); the next run tries again")
            return
        elapsed = (time.monotonic() - begun) * 1000
        self.log(f"Schedule -> {self.function} {_short(out)} {elapsed:.0f} ms")


class SesDeliveries(_Loop):
    """What SES's configuration set publishes once an email is delivered: each new
    message in the mailbox is a Delivery event (SNS -> EmailEvents), as for a
    recipient whose server accepted it."""

    name = "ses-deliveries"

    def __init__(self, functions: Functions, log: Log, *, every_s: float = 0.5) -> None:
        super().__init__(every_s, log)
        self.functions = functions
        self._seen: set[str] = set()

    def tick(self) -> None:
        from voxlocal.stack import sent_messages

        for message in sent_messages():
            if message.id in self._seen:
                continue
            self._seen.add(message.id)
            destinations = message.destinations
            if isinstance(destinations, dict):  # a simple message: {"ToAddresses": [...]}
                destinations = destinations.get("ToAddresses", [])
            for recipient in destinations or []:
                event = events.sns(events.ses_event("Delivery", message.id, str(recipient)))
                self.functions.invoke("email_events", event)
            self.log(f"SES delivered {message.id} -> EmailEvents")


def scheduled_event() -> dict[str, Any]:
    """What an EventBridge schedule delivers."""
    return {
        "version": "0",
        "id": "local-schedule",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/voxcliente-reconciler"],
        "detail": {},
    }


def _short(value: Any, limit: int = 160) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
