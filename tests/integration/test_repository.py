"""Repository queries whose answer depends on rows and clocks, against a real PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import psycopg
import pytest

from harness import recorded_meeting
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import transaction
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
