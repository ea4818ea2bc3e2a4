"""Repository queries whose answer depends on rows and clocks, against a real PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import transaction
from voxcliente.domain.models import Meeting

pytestmark = pytest.mark.integration


def _meeting(key: str = "inbox/ana@example.com/x.mp3") -> Meeting:
    with transaction() as tx:
        user = repo.get_or_create_user(tx, "ana@example.com")
        meeting, created = repo.insert_meeting_once(
            tx,
            s3_bucket="b",
            s3_key=key,
            s3_version_id="",
            original_filename="x.mp3",
            user_id=user.id,
            recipient_email=user.email,
        )
    assert created
    return meeting


def test_list_deliveries_gives_a_meetings_emails_oldest_first(
    db_url: str, conn: psycopg.Connection[Any]
) -> None:
    meeting = _meeting()
    other = _meeting("inbox/ana@example.com/y.mp3")
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
