"""Fault matrix of the emails: exactly one per (meeting, kind), every delivery row at a
terminal status, nothing re-queued after the end. Numbers are the issue's defects."""

from __future__ import annotations

import email
import email.header
from typing import Any

import psycopg
import pytest

from conftest import run_concurrently
from faults.conftest import kill_connection_at
from harness import Chain

pytestmark = pytest.mark.integration

TERMINAL = {"sent", "delivered", "bounced", "complained", "rejected", "suppressed", "failed"}


def _failed_meeting(chain: Chain) -> Any:
    """A meeting that failed (OpenAI refused) with its notice queued, nothing sent yet."""
    from voxcliente.pipeline import lifecycle
    from voxcliente.settings import get_settings

    meeting = chain.transcribed()
    chain.receive()  # the acta message is not needed
    failed = lifecycle.fail(
        meeting["id"],
        "openai_refusal",
        "The AI model refused to write minutes of this recording.",
        expected=("transcribed",),
        settings=get_settings(),
    )
    assert failed is not None
    return failed


def _send_event(meeting_id: Any, kind: str, message_id: str) -> dict[str, Any]:
    """SES's Send event for a message tagged as the worker tags it (published shape)."""
    from voxcliente.adapters.ses import meeting_tags

    return {
        "eventType": "Send",
        "mail": {
            "messageId": message_id,
            "tags": {
                "ses:configuration-set": ["voxcliente"],
                **{k: [v] for k, v in meeting_tags(meeting_id, kind).items()},
            },
        },
        "send": {},
    }


# --- defect 1: concurrent failure messages ------------------------------------------------
def test_defect_01_twenty_concurrent_failure_messages_send_exactly_one_notice(
    chain: Chain,
) -> None:
    from voxcliente.adapters.sqs import WorkMessage
    from voxcliente.flows import acta

    failed = _failed_meeting(chain)
    message = WorkMessage(meeting_id=failed.id, kind="failure")

    outcomes = run_concurrently(lambda: acta.process(message).outcome, 20)

    assert outcomes.count("notified") == 1 and outcomes.count("skipped") == 19
    assert len(chain.emails()) == 1
    [row] = chain.deliveries().values()
    assert (row["kind"], row["status"], row["attempts"]) == ("failure", "sent", 1)
    chain.drain()  # the queued notice finds it sent
    assert len(chain.emails()) == 1
    assert chain.reconcile()["notices"] == []


# --- defect 6: SES MessageRejected ------------------------------------------------------------
def test_defect_06_ses_rejecting_the_acta_and_the_notice_ends_both_deliveries(
    chain: Chain, flaky_ses: Any
) -> None:
    chain.transcribed()
    [message] = chain.receive()
    ses = flaky_ses("MessageRejected", "MessageRejected")

    assert chain.work([message]) == []

    row = chain.meeting()
    assert (row["status"], row["error_code"]) == ("failed", "ses_rejected")
    deliveries = chain.deliveries()
    assert {k: d["status"] for k, d in deliveries.items()} == {
        "acta": "failed",
        "failure": "failed",
    }
    assert deliveries["acta"]["details"]["reason"] == "ses_rejected"
    assert ses.calls == 2 and chain.emails() == []
    chain.drain()
    assert ses.calls == 2
    # Every later pass leaves it alone: no notice re-queued for a week.
    out = chain.reconcile()
    assert (out["notices"], out["requeued"]) == ([], [])
    assert chain.queued() == []


# --- SES throttled or paused: retried, sent once ------------------------------------------------
@pytest.mark.parametrize("error", ["TooManyRequestsException", "SendingPausedException"])
def test_ses_throttled_or_paused_is_retried_and_the_notice_is_sent_once(
    error: str, chain: Chain, flaky_ses: Any
) -> None:
    from voxcliente.adapters.sqs import WorkMessage
    from voxcliente.domain.errors import TransientError
    from voxcliente.flows import acta
    from voxcliente.settings import get_settings

    failed = _failed_meeting(chain)
    ses = flaky_ses(error)
    message = WorkMessage(meeting_id=failed.id, kind="failure")

    with pytest.raises(TransientError):
        acta.process(message, settings=get_settings())
    assert chain.deliveries()["failure"]["status"] == "pending"
    # The reconciler asks again for a notice SES did not take...
    assert chain.reconcile()["notices"] == [str(failed.id)]
    chain.drain()

    assert ses.calls == 2 and len(chain.emails()) == 1
    assert chain.deliveries()["failure"]["status"] == "sent"
    # ...and never after it was sent.
    assert chain.reconcile()["notices"] == []


def test_ses_unavailable_past_the_attempt_limit_ends_the_notice_failed(
    chain: Chain, flaky_ses: Any, configure: Any
) -> None:
    from voxcliente.adapters.sqs import WorkMessage
    from voxcliente.domain.errors import TransientError
    from voxcliente.flows import acta
    from voxcliente.settings import get_settings

    configure(MAX_ATTEMPTS="2")
    failed = _failed_meeting(chain)
    flaky_ses(*["ServiceUnavailable"] * 5)
    message = WorkMessage(meeting_id=failed.id, kind="failure")

    with pytest.raises(TransientError):
        acta.process(message, settings=get_settings())
    assert acta.process(message, settings=get_settings()).outcome == "skipped"

    delivery = chain.deliveries()["failure"]
    assert (delivery["status"], delivery["details"]["reason"]) == ("failed", "ses_unavailable")
    assert chain.reconcile()["notices"] == []


# --- defect 8: the database lost between SES accepting and our commit ---------------------------
def test_defect_08_a_lost_commit_after_ses_accepted_is_recorded_by_the_send_event(
    chain: Chain, conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxcliente.flows import email_events

    meeting = chain.transcribed()
    [message] = chain.receive()
    # Every try to record SES's answer meets a dead connection.
    kill_connection_at(monkeypatch, conn, "mark_delivery_sent", times=3)

    assert chain.work([message]) == [message["MessageId"]]
    assert len(chain.emails()) == 1
    delivery = chain.deliveries()["acta"]
    assert (delivery["status"], delivery["ses_message_id"]) == ("sending", None)

    # SES's Send event, carrying our tags, records what our commit lost.
    message_id = "0100018c-send-event-000000"
    result = email_events.handle_notification(_send_event(meeting["id"], "acta", message_id))
    assert result == "sent"
    assert chain.deliveries()["acta"]["ses_message_id"] == message_id

    # The redelivery finds the email sent: the meeting ends emailed, no second email.
    assert chain.redeliver(message, 2) == []
    assert chain.meeting()["status"] == "emailed"
    assert len(chain.emails()) == 1
    assert chain.openai_requests() == 1
    # Later events find the row by its id.
    delivered = {"eventType": "Delivery", "mail": {"messageId": message_id}, "delivery": {}}
    assert email_events.handle_notification(delivered) == "delivered"


def test_defect_08_an_abandoned_send_without_a_send_event_is_never_repeated(
    chain: Chain, conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    chain.transcribed()
    [message] = chain.receive()
    kill_connection_at(monkeypatch, conn, "mark_delivery_sent", times=3)
    assert chain.work([message]) == [message["MessageId"]]
    assert len(chain.emails()) == 1

    # No Send event came; the claim timeout passed.
    conn.execute("UPDATE email_deliveries SET claimed_at = now() - interval '1 hour'")
    assert chain.redeliver(message, 2) == []

    row = chain.meeting()
    assert (row["status"], row["error_code"]) == ("failed", "email_outcome_unknown")
    deliveries = chain.deliveries()
    assert (deliveries["acta"]["status"], deliveries["acta"]["details"]["reason"]) == (
        "failed",
        "outcome_unknown",
    )
    # One acta (the one SES took) and one notice saying it may not have arrived.
    subjects = sorted(
        str(email.header.make_header(email.header.decode_header(parsed["Subject"])))
        for parsed in (email.message_from_bytes(e.raw_data.encode()) for e in chain.emails())
    )
    notices = [s for s in subjects if s.startswith("Puede que no haya recibido el acta")]
    assert len(subjects) == 2 and len(notices) == 1
    assert set(d["status"] for d in deliveries.values()) <= TERMINAL
    chain.drain()
    assert len(chain.emails()) == 2
    out = chain.reconcile()
    assert (out["notices"], out["requeued"], out["failed"]) == ([], [], [])


def test_a_fresh_sending_claim_is_left_to_its_holder(chain: Chain) -> None:
    from voxcliente.adapters.sqs import WorkMessage
    from voxcliente.flows import acta

    failed = _failed_meeting(chain)
    chain.conn.execute(
        "INSERT INTO email_deliveries (meeting_id, recipient, kind, status, claimed_at, attempts) "
        "VALUES (%s, 'ana.mendez@example.com', 'failure', 'sending', now(), 1)",
        (failed.id,),
    )

    outcome = acta.process(WorkMessage(meeting_id=failed.id, kind="failure")).outcome

    assert outcome == "skipped" and chain.emails() == []
    assert chain.deliveries()["failure"]["status"] == "sending"


# --- SES events out of order --------------------------------------------------------------------
@pytest.mark.parametrize("worse", ["Bounce", "Complaint"])
def test_a_delivery_event_after_a_bounce_or_complaint_keeps_the_bad_news(
    worse: str, chain: Chain
) -> None:
    from voxcliente.flows import email_events

    chain.transcribed()
    chain.drain()
    delivery = chain.deliveries()["acta"]
    mail = {"messageId": delivery["ses_message_id"]}
    bad: dict[str, Any] = {"eventType": worse, "mail": mail}
    if worse == "Bounce":
        bad["bounce"] = {"bounceType": "Transient", "bounceSubType": "MailboxFull"}
    else:
        bad["complaint"] = {"complaintFeedbackType": "abuse", "complainedRecipients": []}

    email_events.handle_notification(bad)
    email_events.handle_notification({"eventType": "Delivery", "mail": mail, "delivery": {}})

    row = chain.deliveries()["acta"]
    assert row["status"] == {"Bounce": "bounced", "Complaint": "complained"}[worse]
    assert row["delivered_at"] is not None
