"""scripts/load.py (``make load``): its pool of environments and its verdict.

The run itself needs the whole local stack and takes a minute: it is ``make
load``, not part of ``make test``. These check the parts that decide what it
reports: retries as the event sources make them, how many environments run
at once, and when the run fails.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

from harness import load_script
from voxcliente.adapters import db
from voxcliente.domain.errors import TransientError

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "load.py"


@pytest.fixture(scope="module")
def load() -> ModuleType:
    return load_script("load")


def test_a_refused_call_is_retried_until_it_succeeds_or_its_attempts_run_out(
    load: ModuleType,
) -> None:
    # Given calls refused by the database a number of times each, as db raises it
    # for a role at its CONNECTION LIMIT (libpq's text: no SQLSTATE at start-up)
    server_full = psycopg.OperationalError(
        'connection failed: FATAL:  too many connections for role "voxcliente_load"'
    )
    refusals = {"a": 0, "b": 2, "c": 5}
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def make_call() -> object:
        def call(item: str) -> bool:
            with lock:
                seen[item] += 1
                attempt = seen[item]
            if attempt <= refusals[item]:
                raise db.connect_error(server_full, 5) from server_full
            return True

        return call

    # When three attempts are allowed (Lambda's for an S3 event)
    result = load.run_pool(list(refusals), 2, make_call, max_attempts=3, retry_delay_s=0)
    # Then "a" and "b" are done, "c" is given up after exactly three attempts
    assert result.done == 2
    assert result.gave_up == ["c"]
    assert dict(seen) == {"a": 1, "b": 3, "c": 3}
    assert result.attempts == 7
    assert result.refused == 5
    assert "1 given up" in result.note()


def test_only_a_full_database_counts_as_shed_not_any_transient_error(load: ModuleType) -> None:
    unreachable = psycopg.OperationalError("connection failed: Connection refused")
    errors = iter(
        [
            db.connect_error(unreachable, 5),
            TransientError("The database has no free connection (worded by someone else)."),
        ]
    )

    def call(_item: str) -> bool:
        error = next(errors, None)
        if error is None:
            return True
        raise error from unreachable

    result = load.run_pool(["x"], 1, lambda: call, max_attempts=3, retry_delay_s=0)
    assert (result.done, result.attempts) == (1, 3)
    assert result.refused == 0
    assert result.errors == Counter({"TransientError": 2})


def test_a_call_answering_false_is_retried_like_a_5xx(load: ModuleType) -> None:
    answers = iter([False, False, True])
    result = load.run_pool(
        ["t"], 1, lambda: lambda _item: next(answers), max_attempts=10, retry_delay_s=0
    )
    assert (result.done, result.attempts, result.gave_up) == (1, 3, [])


def test_a_webhook_answering_401_is_tried_once_as_assemblyai_does(
    load: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a webhook that refuses the request (a wrong secret: HTTP 401)
    class Emulator:
        def webhook_request(self, transcript_id: str) -> tuple[str, dict[str, str], object]:
            url = f"https://voxcliente.invalid/webhooks/assemblyai?meeting_id={transcript_id}"
            return url, {"x-voxcliente-webhook-secret": "wrong"}, {"transcript_id": transcript_id}

    calls: list[str] = []
    queries: list[object] = []

    def refusing_handler(event: dict[str, object], _context: object) -> dict[str, object]:
        calls.append(str(event["rawPath"]))
        queries.append(event.get("queryStringParameters"))
        return {"statusCode": 401, "body": '{"message": "Unauthorized"}'}

    class Webhook:
        lambda_handler = staticmethod(refusing_handler)

    monkeypatch.setattr("voxlocal.functions.load_function", lambda _name: Webhook)
    # When the stage runs with AssemblyAI's attempts
    result = load.run_pool(
        ["t1"],
        1,
        lambda: load._webhook_call(Emulator()),
        max_attempts=load.WEBHOOK_MAX_ATTEMPTS,
        retry_delay_s=0,
    )
    # Then the 4xx ends the delivery: one request, given up, nothing retried
    assert calls == ["/webhooks/assemblyai"]
    assert queries == [{"meeting_id": "t1"}]  # the query of the URL AssemblyAI calls
    assert (result.done, result.attempts, result.gave_up) == (0, 1, ["t1"])
    assert result.errors == Counter({"WebhookRefused": 1})
    assert "retried" not in result.note()


def test_no_more_environments_run_at_once_than_the_pool_and_each_ends(load: ModuleType) -> None:
    running = 0
    peak = 0
    ended = 0
    lock = threading.Lock()
    gate = threading.Barrier(3, timeout=5)

    def make_call() -> object:
        def call(_item: str) -> bool:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            gate.wait()  # three at once, or it times out and the call fails
            with lock:
                running -= 1
            return True

        return call

    def end() -> None:
        nonlocal ended
        with lock:
            ended += 1

    result = load.run_pool(
        [str(n) for n in range(9)],
        3,
        make_call,
        max_attempts=1,
        retry_delay_s=0,
        on_environment_end=end,
    )
    assert result.done == 9
    assert peak == 3
    assert ended == 3


def test_the_verdict_fails_on_a_lost_meeting_a_duplicate_or_a_peak_over_the_cap(
    load: ModuleType,
) -> None:
    fine = load.Verdict(3, Counter({"emailed": 2, "failed": 1}), Counter(a=1, b=1), 20, 20, 1.0)
    assert (fine.emailed, fine.failed, fine.lost, fine.duplicates) == (2, 1, 0, 0)
    assert fine.problems() == []

    bad = load.Verdict(
        4,
        Counter({"emailed": 2, "generating": 1, "no row": 1}),
        Counter(a=3, b=1),
        21,
        20,
        1.0,
    )
    assert bad.lost == 2
    assert bad.duplicates == 2
    problems = " ".join(bad.problems())
    assert "2 meeting(s) not in a terminal state" in problems
    assert "2 duplicate email(s)" in problems
    assert "21 connections, over the cap of 20" in problems
    assert any("still generating x1, no row x1" in line for line in bad.lines())


def test_recipients_are_read_from_both_shapes_moto_keeps(load: ModuleType) -> None:
    assert load._addresses(["Ana@Example.com"]) == ["ana@example.com"]
    assert load._addresses(
        {"ToAddresses": ["a@x.com"], "CcAddresses": [], "BccAddresses": None}
    ) == ["a@x.com"]
    assert load._addresses(None) == []
