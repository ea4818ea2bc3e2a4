"""A meeting's move as one statement (repository.transition and moved_by_transcript),
each shape's text composed once and reused: checked against a real PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from harness import recorded_meeting
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import transaction
from voxcliente.adapters.repository._transition import _statement
from voxcliente.adapters.repository.meetings import moved_by_transcript
from voxcliente.domain import moves

pytestmark = pytest.mark.integration


def _submitted(transcript_id: str, key: str = "inbox/a@b.co/1.mp3") -> Any:
    meeting = recorded_meeting(key)
    with transaction() as tx:
        moved = repo.transition(
            tx, meeting.id, moves.SUBMITTED, fields={"assemblyai_transcript_id": transcript_id}
        )
    assert moved is not None
    return moved


def test_a_completed_transcript_moves_its_meeting_once_and_answers_its_id(
    db_url: str, conn: psycopg.Connection[Any]
) -> None:
    meeting = _submitted("t-1")
    other = _submitted("t-2", "inbox/a@b.co/2.mp3")
    with transaction() as tx:
        moved = moved_by_transcript(tx, "t-1", moves.TRANSCRIBED, details={"transcript_id": "t-1"})
        again = moved_by_transcript(tx, "t-1", moves.TRANSCRIBED)
        unknown = moved_by_transcript(tx, "no-such-transcript", moves.TRANSCRIBED)
    assert moved == meeting.id
    assert again is None and unknown is None
    rows = conn.execute(
        "SELECT id, status, transcribed_at FROM meetings ORDER BY created_at"
    ).fetchall()
    assert [(r["id"], r["status"]) for r in rows] == [
        (meeting.id, "transcribed"),
        (other.id, "submitted"),  # the other transcript's meeting is untouched
    ]
    assert rows[0]["transcribed_at"] is not None
    with transaction() as tx:
        events = repo.list_events(tx, meeting.id)
    assert [(e.from_status, e.to_status, e.event, e.details) for e in events[-1:]] == [
        ("submitted", "transcribed", "transcript_completed", {"transcript_id": "t-1"})
    ]


def test_a_move_rolled_back_with_its_transaction_leaves_no_trace(
    db_url: str, conn: psycopg.Connection[Any]
) -> None:
    """The webhook enqueues between the move and the commit: a failed send undoes both."""
    meeting = _submitted("t-3")
    with pytest.raises(RuntimeError), transaction() as tx:
        assert moved_by_transcript(tx, "t-3", moves.TRANSCRIBED) == meeting.id
        raise RuntimeError("the queue refused the message")
    row = conn.execute("SELECT status FROM meetings WHERE id = %s", (meeting.id,)).fetchone()
    assert row is not None and row["status"] == "submitted"
    count = conn.execute(
        "SELECT count(*) AS n FROM meeting_events WHERE meeting_id = %s AND event = %s",
        (meeting.id, moves.TRANSCRIBED.event),
    ).fetchone()
    assert count is not None and count["n"] == 0


def test_each_shape_has_its_own_statement_and_the_same_shape_reuses_it(
    db_url: str, conn: psycopg.Connection[Any]
) -> None:
    first = _submitted("t-4")
    second = _submitted("t-5", "inbox/a@b.co/2.mp3")
    _statement.cache_clear()
    with transaction() as tx:
        assert moved_by_transcript(tx, "t-4", moves.TRANSCRIBED) == first.id
        assert moved_by_transcript(tx, "t-5", moves.TRANSCRIBED) == second.id
        failed = repo.fail_meeting(
            tx, first.id, code="transcription_failed", message="AssemblyAI could not."
        )
    assert failed is not None and failed.status == "failed"
    assert failed.error_code == "transcription_failed"
    info = _statement.cache_info()
    assert (info.misses, info.hits) == (2, 1)  # the two transcripts' moves share one text
    by_transcript = _statement("transcribed", "submitted", (), False, True, False)
    assert b'"assemblyai_transcript_id" = %(id)s' in by_transcript
    assert b"RETURNING m.id, m.status, m.user_id," in by_transcript
    whole = _statement("failed", None, ("error_code", "error_message"), False, False, True)
    assert b"FOR UPDATE" in whole and b"RETURNING m.*," in whole
