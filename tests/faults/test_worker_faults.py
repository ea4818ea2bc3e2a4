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
from faults.conftest import kill_connection_at
from harness import SPANISH, Chain

pytestmark = pytest.mark.integration

LAYER = Path(__file__).resolve().parents[2] / "layers" / "common" / "voxcliente"


def _assert_over(chain: Chain) -> None:
    """Nothing left to do: the reconciler finds nothing and queues nothing."""
    out = chain.reconcile()
    assert (out["requeued"], out["notices"], out["failed"]) == ([], [], [])
    assert chain.queued() == []


# --- defect 2: a recipient SES cannot address ------------------------------------------
def test_defect_02_an_unaddressable_recipient_ends_once_without_paying_openai(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    # Given a meeting whose recipient has a non-ASCII local part (accepted at the door
    # before recipients were checked there), its acta message on the queue
    chain.transcribed()
    conn.execute("UPDATE meetings SET recipient_email = 'josé@example.com'")
    [message] = chain.receive()

    # When the worker handles it
    assert chain.work([message]) == []

    # Then it ends failed for good, before any OpenAI request, with nobody to notify
    row = chain.meeting()
    assert (row["status"], row["error_code"]) == ("failed", "email_invalid")
    assert "ASCII" in row["error_message"] and "josé" not in row["error_message"]
    assert chain.openai_requests() == 0
    assert chain.emails() == []
    _assert_over(chain)


# --- defect 7: resume after the acta is written ----------------------------------------
def test_defect_07_a_transient_failure_after_the_acta_is_written_does_not_pay_openai_again(
    chain: Chain, flaky_ses: Any, assemblyai: Any
) -> None:
    chain.transcribed()
    [message] = chain.receive()
    flaky_ses("TooManyRequestsException")

    # SES throttles the first send: the message goes back to the queue...
    assert chain.work([message]) == [message["MessageId"]]
    assert chain.meeting()["status"] == "generating"
    assert chain.deliveries()["acta"]["status"] == "pending"
    fetches = sum(1 for r in assemblyai.requests if r.method == "GET")

    # ...and its redelivery resumes at the email: no second transcript fetch or acta.
    assert chain.redeliver(message, 2) == []
    assert chain.meeting()["status"] == "emailed"
    assert chain.openai_requests() == 1
    assert sum(1 for r in assemblyai.requests if r.method == "GET") == fetches
    assert len(chain.emails()) == 1
    _assert_over(chain)


def test_an_acta_stored_before_a_schema_change_is_emailed_after_it_without_paying_again(
    chain: Chain, flaky_ses: Any, conn: psycopg.Connection[Any]
) -> None:
    """A deploy lands between the acta being stored and its email: the retry reads the
    acta in the shape the earlier schema stored (an agenda list; no place, no next
    meeting's time or modality) and sends it, without a second OpenAI request."""
    chain.transcribed()
    [message] = chain.receive()
    flaky_ses("TooManyRequestsException")
    assert chain.work([message]) == [message["MessageId"]]
    conn.execute(
        """
        UPDATE actas SET content = (content - 'place')
            || jsonb_build_object('agenda', jsonb_build_array('Orden del día antiguo'))
            || CASE WHEN jsonb_typeof(content -> 'next_meeting') = 'object'
                    THEN jsonb_build_object('next_meeting',
                         (content -> 'next_meeting') - 'time' - 'modality')
                    ELSE '{}'::jsonb END
        """
    )
    stored = conn.execute("SELECT content FROM actas").fetchone()
    assert stored is not None
    assert "agenda" in stored["content"] and "place" not in stored["content"]

    assert chain.redeliver(message, 2) == []
    assert chain.meeting()["status"] == "emailed"
    assert chain.openai_requests() == 1
    assert len(chain.emails()) == 1
    _assert_over(chain)


# --- defect 13: anything that is not a domain error -------------------------------------
def test_defect_13_an_unexpected_exception_is_an_attempt_and_ends_internal_error_at_the_limit(
    chain: Chain, configure: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxcliente import render as rendering

    configure(MAX_ATTEMPTS="2", ACTA_MAX_RECEIVES="10")
    chain.transcribed()
    [message] = chain.receive()

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyError("a bug in rendering")

    monkeypatch.setattr(rendering, "render_acta_email", broken)

    # Attempt 1: returned to the queue, the meeting still resumable.
    assert chain.work([message]) == [message["MessageId"]]
    assert (chain.meeting()["status"], chain.meeting()["attempts"]) == ("generating", 1)
    # Attempt 2 is the last: the meeting ends with one notice.
    assert chain.redeliver(message, 2) == []
    row = chain.meeting()
    assert (row["status"], row["error_code"], row["attempts"]) == ("failed", "internal_error", 2)
    assert "KeyError" in row["error_message"]
    assert chain.openai_requests() == 1
    assert [d["status"] for d in chain.deliveries().values()] == ["sent"]
    assert list(chain.deliveries()) == ["failure"]
    chain.drain()  # the queued copy of the notice finds it sent
    assert len(chain.emails()) == 1
    _assert_over(chain)


def test_defect_13_the_reconciler_fails_a_meeting_past_the_limit_instead_of_requeueing_it(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    chain.transcribed()
    chain.receive()  # the message is lost
    conn.execute("UPDATE meetings SET status = 'generating', attempts = 5, generating_at = now()")

    out = chain.reconcile()

    assert out["requeued"] == [] and out["failed"] == [str(chain.meeting()["id"])]
    row = chain.meeting()
    assert (row["status"], row["error_code"]) == ("failed", "internal_error")
    assert [m["kind"] for m in chain.queued()] == ["failure"]


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
    chain: Chain,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chain.transcribed()
    [message] = chain.receive()
    killed = kill_connection_at(
        monkeypatch,
        conn,
        function,
        # transition(meeting_id, move, ...): only the move that reaches ``when``.
        when=(lambda *a, **k: a[1].to == when) if when else (lambda *a, **k: True),
    )

    failed = chain.work([message])
    for count in range(2, 5):
        if not failed:
            break
        failed = chain.redeliver(message, count)

    assert len(killed) == 1
    assert failed == []
    row = chain.meeting()
    assert row["status"] == "emailed"
    assert chain.openai_requests() == 1
    assert len(chain.emails()) == 1
    assert chain.deliveries()["acta"]["ses_message_id"] is not None
    _assert_over(chain)


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
    chain: Chain,
    configure: Any,
) -> None:
    configure(OPENAI_TIMEOUT_S="0.3")
    chain.transcribed()
    [message] = chain.receive()
    chain.openai.script(*script)

    failed = chain.work([message])
    if failed:  # every retry of the SDK failed: SQS delivers it again
        failed = chain.redeliver(message, 2)

    row = chain.meeting()
    assert failed == []
    assert (row["status"], row["error_code"]) == (status, code)
    kinds = ["acta"] if status == "emailed" else ["failure"]
    assert list(chain.deliveries()) == kinds
    assert len(chain.emails()) == 1
    # Only the one successful answer (if any) wrote an acta; the rest were errors.
    answered = chain.openai_requests() - len(script)
    assert answered == (1 if status == "emailed" else 0)
    chain.drain()
    assert len(chain.emails()) == 1
    _assert_over(chain)


# --- duplicates ------------------------------------------------------------------------
def test_twenty_concurrent_acta_messages_pay_openai_once_and_send_one_email(
    chain: Chain,
) -> None:
    from voxcliente.adapters.sqs import WorkMessage
    from voxcliente.flows import acta

    meeting_id = chain.transcribed()["id"]
    chain.receive()
    message = WorkMessage(meeting_id=meeting_id, kind="acta")

    outcomes = run_concurrently(lambda: acta.process(message).outcome, 20)

    assert sorted(set(outcomes)) in (["emailed", "skipped"], ["emailed"])
    assert outcomes.count("emailed") == 1
    assert chain.meeting()["status"] == "emailed"
    assert chain.openai_requests() == 1
    assert len(chain.emails()) == 1


# --- the webhook's commit ------------------------------------------------------------------
def test_a_message_worked_before_the_webhooks_commit_waits_for_it(chain: Chain) -> None:
    """The webhook queues the acta message just before its transaction commits: a
    worker that gets it first waits for the commit instead of dropping the meeting."""
    import threading

    from voxcliente.adapters.sqs import WorkMessage
    from voxcliente.flows import acta

    transcript_id = chain.drop(SPANISH)
    meeting_id = chain.meeting()["id"]
    assert chain.meeting()["status"] == "submitted"
    late = threading.Timer(0.2, lambda: chain.webhook(transcript_id))
    late.start()
    try:
        outcome = acta.process(WorkMessage(meeting_id=meeting_id, kind="acta")).outcome
    finally:
        late.join()

    assert outcome == "emailed"
    chain.drain()  # the webhook's own message finds the work done
    assert chain.meeting()["status"] == "emailed"
    assert chain.openai_requests() == 1 and len(chain.emails()) == 1


def test_a_commit_landing_between_the_claim_and_the_read_is_claimed_again(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race CI met: the claim misses the move (still submitted), the webhook's
    commit lands, the read sees transcribed. The worker claims again, not 'nothing to do'."""
    from voxcliente.adapters import repository as repo
    from voxcliente.adapters.sqs import WorkMessage
    from voxcliente.flows import acta

    transcript_id = chain.drop(SPANISH)
    meeting_id = chain.meeting()["id"]
    real_claim = repo.claim_generation
    calls: list[int] = []

    def claim_then_commit(*args: object, **kwargs: object) -> object:
        calls.append(1)
        claimed = real_claim(*args, **kwargs)  # type: ignore[arg-type]
        if len(calls) == 1:
            status, _ = chain.webhook(transcript_id)  # commits between claim and read
            assert status == 200
        return claimed

    monkeypatch.setattr(repo, "claim_generation", claim_then_commit)
    outcome = acta.process(WorkMessage(meeting_id=meeting_id, kind="acta")).outcome

    assert outcome == "emailed"
    assert len(calls) == 2
    chain.drain()
    assert chain.openai_requests() == 1 and len(chain.emails()) == 1


def test_a_message_whose_meeting_never_becomes_transcribed_comes_back_then_stops(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxcliente.adapters.sqs import WorkMessage
    from voxcliente.domain.errors import TransientError
    from voxcliente.flows import acta

    monkeypatch.setattr(acta, "COMMIT_WAIT_S", (0.01,))
    chain.drop(SPANISH)
    message = WorkMessage(meeting_id=chain.meeting()["id"], kind="acta")

    with pytest.raises(TransientError, match="not marked transcribed"):
        acta.process(message, receive_count=1)
    assert acta.process(message, receive_count=3).outcome == "skipped"
    assert chain.meeting()["status"] == "submitted"
    assert chain.openai_requests() == 0 and chain.emails() == []


# --- poison messages ----------------------------------------------------------------------
def test_a_malformed_queue_message_is_discarded_and_does_not_block_the_batch(
    chain: Chain,
) -> None:
    chain.transcribed()
    [good] = chain.receive()
    poison = [
        {**good, "MessageId": "poison-1", "Body": "not json at all"},
        {**good, "MessageId": "poison-2", "Body": '{"meeting_id": "not-a-uuid"}'},
        {**good, "MessageId": "poison-3", "Body": '{"meeting_id": null, "kind": "acta"}'},
    ]
    for message in poison:
        message["ReceiptHandle"] = f"fake-{message['MessageId']}"

    failed = chain.work([*poison, good])

    assert failed == []  # consumed: no retry can make them work
    assert chain.meeting()["status"] == "emailed"
    assert len(chain.emails()) == 1


# --- the registry covers every code --------------------------------------------------------
def test_every_error_code_the_code_base_uses_is_in_the_registry() -> None:
    from voxcliente.domain.error_codes import ANSWER_CODES, ErrorCode
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
    assert used - registered - ANSWER_CODES == set()
    # An API's answer (a 4xx code) is never a meeting's outcome, nor the reverse.
    assert not ANSWER_CODES & registered
    assert {"email_missing", "upload_unknown", "recipient_suppressed", "erased"} == {
        c.value for c in ErrorCode if not c.notifies
    }
