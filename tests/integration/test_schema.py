"""The schema's rules, checked against a real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
import pytest

from harness import recorded_meeting
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import transaction
from voxcliente.domain import moves
from voxcliente.pipeline import costs
from voxcliente.settings import load_settings

pytestmark = pytest.mark.integration


def test_unknown_status_is_rejected(db_url: str, conn: psycopg.Connection[Any]) -> None:
    meeting = recorded_meeting()
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE meetings SET status = 'archived' WHERE id = %s", (meeting.id,))


def test_transcript_id_is_unique(db_url: str, conn: psycopg.Connection[Any]) -> None:
    first = recorded_meeting("inbox/a@b.co/1.mp3")
    second = recorded_meeting("inbox/a@b.co/2.mp3")
    conn.execute("UPDATE meetings SET assemblyai_transcript_id = 't-1' WHERE id = %s", (first.id,))
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            "UPDATE meetings SET assemblyai_transcript_id = 't-1' WHERE id = %s", (second.id,)
        )


def test_email_is_unique_whatever_its_case(db_url: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("INSERT INTO users (email) VALUES ('ana@example.com')")
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO users (email) VALUES ('ANA@Example.COM')")
    # The repository treats both spellings as the same person.
    with transaction() as tx:
        user = repo.get_or_create_user(tx, "ANA@example.com")
    assert user.email == "ana@example.com"


def test_client_name_is_unique_per_user_whatever_its_case(
    db_url: str, conn: psycopg.Connection[Any]
) -> None:
    with transaction() as tx:
        user = repo.get_or_create_user(tx, "ana@example.com")
        other = repo.get_or_create_user(tx, "luis@example.com")
        first = repo.get_or_create_client(tx, user.id, "Textiles Andinos")
        again = repo.get_or_create_client(tx, user.id, "TEXTILES ANDINOS")
        someone_elses = repo.get_or_create_client(tx, other.id, "Textiles Andinos")
    assert first.id == again.id
    assert someone_elses.id != first.id


def test_failed_requires_an_error_code(db_url: str, conn: psycopg.Connection[Any]) -> None:
    meeting = recorded_meeting()
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE meetings SET status = 'failed' WHERE id = %s", (meeting.id,))


def test_updated_at_is_maintained_by_trigger(db_url: str, conn: psycopg.Connection[Any]) -> None:
    meeting = recorded_meeting()
    conn.execute("UPDATE meetings SET language = 'es' WHERE id = %s", (meeting.id,))
    row = conn.execute("SELECT updated_at FROM meetings WHERE id = %s", (meeting.id,)).fetchone()
    assert row is not None and row["updated_at"] > meeting.updated_at


def test_transition_is_conditional_and_recorded(db_url: str, conn: psycopg.Connection[Any]) -> None:
    meeting = recorded_meeting()
    with transaction() as tx:
        moved = repo.transition(
            tx, meeting.id, moves.SUBMITTED, fields={"assemblyai_transcript_id": "t-9"}
        )
        again = repo.transition(tx, meeting.id, moves.SUBMITTED)
        skipped = repo.transition(tx, meeting.id, moves.EMAILED)  # not from "submitted"
    assert moved is not None and moved.status == "submitted" and moved.submitted_at is not None
    assert again is None and skipped is None
    with transaction() as tx:
        events = repo.list_events(tx, meeting.id)
    assert [(e.from_status, e.to_status, e.event) for e in events] == [
        (None, "received", events[0].event),
        ("received", "submitted", "submitted_to_assemblyai"),
    ]


def test_cost_views_add_up(db_url: str, conn: psycopg.Connection[Any]) -> None:
    """An hour of universal-2 (0.15 USD) and one email (0.0001 USD), priced by
    pipeline.costs, add up incrementally in the meeting, the user's summary and the
    user, to what a recomputation from the usage lines (refresh_costs) finds."""
    meeting = recorded_meeting()
    settings = load_settings({})  # the shipped price table
    transcription = costs.transcription_usage(
        settings, meeting, audio_seconds=3600, model="universal-2"
    )
    with transaction() as tx:
        costs.record(tx, meeting, transcription)
        costs.record_email(tx, settings, meeting, kind="acta")
        kept = repo.get_meeting(tx, meeting.id)
        assert meeting.user_id is not None
        summary = repo.user_cost_summary(tx, meeting.user_id)
        user = repo.get_user(tx, meeting.user_id)
        recomputed = repo.refresh_costs(tx, meeting.id)
    assert kept is not None and kept.total_cost_usd == Decimal("0.150100")
    assert kept.transcription_cost_usd == Decimal("0.150000")
    assert recomputed.total_cost_usd == kept.total_cost_usd
    assert summary is not None and summary["total_cost_usd"] == kept.total_cost_usd
    assert user is not None and user.total_cost_usd == kept.total_cost_usd
