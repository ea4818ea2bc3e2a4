"""Fault matrix of the Acta worker: each case ends in one outcome, OpenAI is paid at
most once per acta, at most one email per (meeting, kind), nothing re-queued after
the end. Numbers are the issue's defects."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import run_concurrently
from faults.conftest import Pipeline, kill_connection_at

pytestmark = pytest.mark.integration

LAYER = Path(__file__).resolve().parents[2] / "layers" / "common" / "voxcliente"


def _assert_over(pipeline: Pipeline) -> None:
    """Nothing left to do: the reconciler finds nothing and queues nothing."""
    out = pipeline.reconcile()
    assert (out["requeued"], out["notices"], out["failed"]) == ([], [], [])
    assert pipeline.queued() == []


# --- defect 2: a recipient SES cannot address ------------------------------------------
def test_defect_02_an_unaddressable_recipient_ends_once_without_paying_openai(
    pipeline: Pipeline, conn: psycopg.Connection[Any]
) -> None:
    # Given a meeting whose recipient has a non-ASCII local part (accepted at the door
    # before recipients were checked there), its acta message on the queue
    pipeline.transcribed()
    conn.execute("UPDATE meetings SET recipient_email = 'josé@example.com'")
    [message] = pipeline.receive()

    # When the worker handles it
    assert pipeline.work([message]) == []

    # Then it ends failed for good, before any OpenAI request, with nobody to notify
    row = pipeline.meeting()
    assert (row["status"], row["error_code"]) == ("failed", "email_invalid")
    assert "ASCII" in row["error_message"] and "josé" not in row["error_message"]
    assert pipeline.openai_requests() == 0
    assert pipeline.emails() == []
    _assert_over(pipeline)


# --- defect 7: resume after the acta is written ----------------------------------------
def test_defect_07_a_transient_failure_after_the_acta_is_written_does_not_pay_openai_again(
    pipeline: Pipeline, flaky_ses: Any, assemblyai: Any
) -> None:
    pipeline.transcribed()
    [message] = pipeline.receive()
    flaky_ses("TooManyRequestsException")

    # SES throttles the first send: the message goes back to the queue...
    assert pipeline.work([message]) == [message["MessageId"]]
    assert pipeline.meeting()["status"] == "generating"
    assert pipeline.deliveries()["acta"]["status"] == "pending"
    fetches = sum(1 for r in assemblyai.requests if r.method == "GET")

    # ...and its redelivery resumes at the email: no second transcript fetch or acta.
    assert pipeline.redeliver(message, 2) == []
    assert pipeline.meeting()["status"] == "emailed"
    assert pipeline.openai_requests() == 1
    assert sum(1 for r in assemblyai.requests if r.method == "GET") == fetches
    assert len(pipeline.emails()) == 1
    _assert_over(pipeline)


# --- defect 13: anything that is not a domain error -------------------------------------
def test_defect_13_an_unexpected_exception_is_an_attempt_and_ends_internal_error_at_the_limit(
    pipeline: Pipeline, configure: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxcliente import render as rendering

    configure(MAX_ATTEMPTS="2", ACTA_MAX_RECEIVES="10")
    pipeline.transcribed()
    [message] = pipeline.receive()

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyError("a bug in rendering")

    monkeypatch.setattr(rendering, "render_acta_email", broken)

    # Attempt 1: returned to the queue, the meeting still resumable.
    assert pipeline.work([message]) == [message["MessageId"]]
    assert (pipeline.meeting()["status"], pipeline.meeting()["attempts"]) == ("generating", 1)
    # Attempt 2 is the last: the meeting ends with one notice.
    assert pipeline.redeliver(message, 2) == []
    row = pipeline.meeting()
    assert (row["status"], row["error_code"], row["attempts"]) == ("failed", "internal_error", 2)
    assert "KeyError" in row["error_message"]
    assert pipeline.openai_requests() == 1
    assert [d["status"] for d in pipeline.deliveries().values()] == ["sent"]
    assert list(pipeline.deliveries()) == ["failure"]
    pipeline.drain()  # the queued copy of the notice finds it sent
    assert len(pipeline.emails()) == 1
    _assert_over(pipeline)


def test_defect_13_the_reconciler_fails_a_meeting_past_the_limit_instead_of_requeueing_it(
    pipeline: Pipeline, conn: psycopg.Connection[Any]
) -> None:
    pipeline.transcribed()
    pipeline.receive()  # the message is lost
    conn.execute("UPDATE meetings SET status = 'generating', attempts = 5, generating_at = now()")

    out = pipeline.reconcile()

    assert out["requeued"] == [] and out["failed"] == [str(pipeline.meeting()["id"])]
    row = pipeline.meeting()
    assert (row["status"], row["error_code"]) == ("failed", "internal_error")
    assert [m["kind"] for m in pipeline.queued()] == ["failure"]


# --- the database lost at each commit point of the worker ------------------------------
@pytest.mark.parametrize(
    ("function", "when"),
    [
        ("claim_generation", None),
        ("save_transcript", None),
        ("save_acta", None),
        ("claim_delivery", None),
        ("mark_delivery_sent", None),
        ("transition", "emailed"),
    ],
)
def test_the_database_killed_at_each_commit_point_ends_in_one_email_and_one_acta(
    function: str,
    when: str | None,
    pipeline: Pipeline,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline.transcribed()
    [message] = pipeline.receive()
    killed = kill_connection_at(
        monkeypatch,
        conn,
        function,
        when=(lambda *a, **k: k.get("to") == when) if when else (lambda *a, **k: True),
    )

    failed = pipeline.work([message])
    for count in range(2, 5):
        if not failed:
            break
        failed = pipeline.redeliver(message, count)

    assert len(killed) == 1
    assert failed == []
    row = pipeline.meeting()
    assert row["status"] == "emailed"
    assert pipeline.openai_requests() == 1
    assert len(pipeline.emails()) == 1
    assert pipeline.deliveries()["acta"]["ses_message_id"] is not None
    _assert_over(pipeline)


# --- OpenAI's answers, as the emulator scripts them --------------------------------------
@pytest.mark.parametrize(
    ("script", "status", "code"),
    [
        (("rate_limit",), "emailed", None),
        (("server_error", "server_error", "server_error"), "emailed", None),
        (("refusal",), "failed", "openai_refusal"),
        (("length", "length"), "failed", "openai_length"),
        ((("delay", 1.0),) * 3, "emailed", None),
    ],
    ids=["429", "500", "refusal", "length", "timeout"],
)
def test_openai_faults_end_emailed_or_failed_with_one_email_each(
    script: tuple[Any, ...],
    status: str,
    code: str | None,
    pipeline: Pipeline,
    configure: Any,
) -> None:
    configure(OPENAI_TIMEOUT_S="0.3")
    pipeline.transcribed()
    [message] = pipeline.receive()
    pipeline.openai.script(*script)

    failed = pipeline.work([message])
    if failed:  # every retry of the SDK failed: SQS delivers it again
        failed = pipeline.redeliver(message, 2)

    row = pipeline.meeting()
    assert failed == []
    assert (row["status"], row["error_code"]) == (status, code)
    kinds = ["acta"] if status == "emailed" else ["failure"]
    assert list(pipeline.deliveries()) == kinds
    assert len(pipeline.emails()) == 1
    # Only the one successful answer (if any) wrote an acta; the rest were errors.
    answered = pipeline.openai_requests() - len(script)
    assert answered == (1 if status == "emailed" else 0)
    pipeline.drain()
    assert len(pipeline.emails()) == 1
    _assert_over(pipeline)


# --- duplicates ------------------------------------------------------------------------
def test_twenty_concurrent_acta_messages_pay_openai_once_and_send_one_email(
    pipeline: Pipeline,
) -> None:
    from voxcliente.adapters.sqs import WorkMessage
    from voxcliente.flows import acta

    meeting_id = pipeline.transcribed()["id"]
    pipeline.receive()
    message = WorkMessage(meeting_id=meeting_id, kind="acta")

    outcomes = run_concurrently(lambda: acta.process(message).outcome, 20)

    assert sorted(set(outcomes)) in (["emailed", "skipped"], ["emailed"])
    assert outcomes.count("emailed") == 1
    assert pipeline.meeting()["status"] == "emailed"
    assert pipeline.openai_requests() == 1
    assert len(pipeline.emails()) == 1


# --- poison messages ----------------------------------------------------------------------
def test_a_malformed_queue_message_is_discarded_and_does_not_block_the_batch(
    pipeline: Pipeline,
) -> None:
    pipeline.transcribed()
    [good] = pipeline.receive()
    poison = [
        {**good, "MessageId": "poison-1", "Body": "not json at all"},
        {**good, "MessageId": "poison-2", "Body": '{"meeting_id": "not-a-uuid"}'},
        {**good, "MessageId": "poison-3", "Body": '{"meeting_id": null, "kind": "acta"}'},
    ]
    for message in poison:
        message["ReceiptHandle"] = f"fake-{message['MessageId']}"

    failed = pipeline.work([*poison, good])

    assert failed == []  # consumed: no retry can make them work
    assert pipeline.meeting()["status"] == "emailed"
    assert len(pipeline.emails()) == 1


# --- the registry covers every code --------------------------------------------------------
def test_every_error_code_the_code_base_uses_is_in_the_registry() -> None:
    from voxcliente.domain.error_codes import ErrorCode
    from voxcliente.domain.refusals import REFUSALS
    from voxcliente.render import notices as rendering

    used: set[str] = set()
    for path in LAYER.rglob("*.py"):
        if path.name == "prompts.py":  # language codes, not error codes
            continue
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bcode=\"([a-z_]+)\"", text))
        for name in re.findall(r"ErrorCode\.([A-Z_]+)", text):
            assert name in ErrorCode.__members__, f"{path.name}: ErrorCode.{name}"
    errors = (LAYER / "domain" / "errors.py").read_text(encoding="utf-8")
    used |= set(re.findall(r"^    code = \"([a-z_]+)\"", errors, re.MULTILINE))
    used |= set(REFUSALS)
    for table in rendering._FAILURES.values():
        used |= set(table) - {"default"}

    registered = {c.value for c in ErrorCode}
    assert used - registered == set()
    assert {"email_missing", "upload_unknown", "recipient_suppressed"} == {
        c.value for c in ErrorCode if not c.notifies
    }
