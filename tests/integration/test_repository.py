"""Repository queries whose answer depends on rows and clocks, against a real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from harness import recorded_meeting
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import session, transaction
from voxcliente.domain.models import Meeting, Utterance

pytestmark = pytest.mark.integration


def test_list_deliveries_gives_a_meetings_emails_oldest_first(
    db_url: str, conn: psycopg.Connection[Any]
) -> None:
    meeting = recorded_meeting()
    other = recorded_meeting("inbox/ana@example.com/y.mp3")
    with transaction() as tx:
        assert repo.list_deliveries(tx, meeting.id) == []
        acta = repo.claim_delivery(
            tx, meeting_id=meeting.id, user_id=None, recipient="ana@example.com", kind="acta"
        )
        failure = repo.claim_delivery(
            tx, meeting_id=meeting.id, user_id=None, recipient="ana@example.com", kind="failure"
        )
        repo.claim_delivery(
            tx, meeting_id=other.id, user_id=None, recipient="ana@example.com", kind="acta"
        )
        assert acta is not None and failure is not None
        repo.mark_delivery_sent(tx, acta.id, "ses-1")
    # Created second but dated earlier: listed first only if the order is by created_at.
    conn.execute(
        "UPDATE email_deliveries SET created_at = now() - interval '1 hour' WHERE id = %s",
        (failure.id,),
    )
    with transaction() as tx:
        listed = repo.list_deliveries(tx, meeting.id)
    assert [(d.kind, d.ses_message_id) for d in listed] == [("failure", None), ("acta", "ses-1")]


def _failed(conn: psycopg.Connection[Any], key: str, failed_ago: str, code: str) -> Meeting:
    meeting = recorded_meeting(f"inbox/ana@example.com/{key}.mp3")
    with transaction() as tx:
        assert repo.fail_meeting(tx, meeting.id, code=code, message="No se pudo.") is not None
    conn.execute(
        "UPDATE meetings SET failed_at = now() - %s::interval WHERE id = %s",
        (failed_ago, meeting.id),
    )
    return meeting


def test_failed_without_notice_waits_the_settle_time_and_looks_back_a_bounded_time(
    db_url: str, conn: psycopg.Connection[Any]
) -> None:
    just_failed = _failed(conn, "now", "1 minute", "internal_error")
    settled = _failed(conn, "settled", "1 hour", "internal_error")
    old = _failed(conn, "old", "8 days", "internal_error")
    _failed(conn, "silent", "1 hour", "quiet_code")
    notified = _failed(conn, "notified", "2 hours", "internal_error")
    with transaction() as tx:
        delivery = repo.claim_delivery(
            tx, meeting_id=notified.id, user_id=None, recipient="ana@example.com", kind="failure"
        )
        assert delivery is not None
        repo.mark_delivery_sent(tx, delivery.id, "ses-1")

        # Today's defaults: ten minutes to settle, a week back.
        default = repo.find_failed_without_notice(tx, ["quiet_code"])
        wider = repo.find_failed_without_notice(
            tx, ["quiet_code"], settle_s=30, lookback_s=9 * 86400
        )
        narrower = repo.find_failed_without_notice(
            tx, ["quiet_code"], settle_s=2 * 3600, lookback_s=7 * 86400
        )
        first = repo.find_failed_without_notice(
            tx, ["quiet_code"], settle_s=30, lookback_s=9 * 86400, limit=1
        )
    assert [m.id for m in default] == [settled.id]
    assert [m.id for m in wider] == [old.id, settled.id, just_failed.id]
    assert narrower == []
    assert [m.id for m in first] == [old.id]


def test_rows_become_models_with_their_json_validated(db_url: str) -> None:
    meeting = recorded_meeting()
    with transaction() as tx:
        repo.save_transcript(
            tx,
            meeting.id,
            text="Hola a todos.",
            utterances=[Utterance(speaker="A", start_ms=0, end_ms=900, text="Hola a todos.")],
            language="es",
            confidence=0.9,
            audio_duration_s=1.5,
        )
        transcript = repo.get_transcript(tx, meeting.id)
        updated = repo.get_meeting(tx, meeting.id)
        missing = repo.get_transcript(tx, uuid4())
    assert transcript is not None and transcript.word_count == 3
    assert transcript.utterances == [
        Utterance(speaker="A", start_ms=0, end_ms=900, text="Hola a todos.")
    ]
    assert updated is not None and updated.language == "es"
    assert missing is None


def test_a_row_that_must_exist_and_does_not_is_named_in_the_error(db_url: str) -> None:
    with transaction() as tx, pytest.raises(LookupError, match="EmailDelivery row"):
        repo.mark_delivery_sent(tx, uuid4(), "ses-1")


def test_a_stored_result_with_its_cost_and_event_is_one_statement_that_counts_once(
    db_url: str, conn: psycopg.Connection[Any]
) -> None:
    """The transcript and the acta are stored with their usage lines and their timeline
    row in one statement each; storing either again (a retry) moves no total twice."""
    meeting = recorded_meeting()
    hour = repo.UsageLines(
        "assemblyai", "universal-2", [("audio_second", D(3600), D("0.0001"))], meeting.user_id
    )
    tokens = repo.UsageLines(
        "openai",
        "gpt-x",
        [("input_token", D(1000), D("0.000002")), ("output_token", D(100), D("0.00001"))],
        meeting.user_id,
    )
    for _ in range(2):
        with session() as tx:
            repo.save_transcript(
                tx,
                meeting.id,
                text="Hola a todos.",
                utterances=[Utterance(speaker="A", start_ms=0, end_ms=900, text="Hola a todos.")],
                language="es",
                confidence=0.9,
                audio_duration_s=3600.0,
                usage=hour,
                event=repo.StageEvent("received", "transcript_stored", {"words": 3}),
            )
            record = repo.save_acta(
                tx,
                meeting.id,
                content={"title": "Acta"},
                language="es",
                model="gpt-x",
                input_tokens=1000,
                output_tokens=100,
                parts=1,
                generation_ms=5,
                usage=tokens,
                event=repo.StageEvent("received", "acta_written", {"parts": 1}),
            )
    assert record.content == {"title": "Acta"} and record.parts == 1
    row = conn.execute(
        "SELECT transcription_cost_usd, llm_cost_usd, total_cost_usd, audio_duration_s, language "
        "FROM meetings WHERE id = %s",
        (meeting.id,),
    ).fetchone()
    assert row is not None
    assert list(row.values()) == [D("0.360000"), D("0.003000"), D("0.363000"), D("3600.000"), "es"]
    assert user_total(conn, meeting.user_id) == D("0.363000")
    with transaction() as tx:
        events = [e.event for e in repo.list_events(tx, meeting.id)]
        lines = sorted((u.provider, u.unit, u.cost_usd) for u in repo.list_usage(tx, meeting.id))
    assert events.count("transcript_stored") == 2 and events.count("acta_written") == 2
    assert lines == [
        ("assemblyai", "audio_second", D("0.360000")),
        ("openai", "input_token", D("0.002000")),
        ("openai", "output_token", D("0.001000")),
    ]


def user_total(conn: psycopg.Connection[Any], user_id: Any) -> Any:
    row = conn.execute("SELECT total_cost_usd FROM users WHERE id = %s", (user_id,)).fetchone()
    return row["total_cost_usd"] if row else None
