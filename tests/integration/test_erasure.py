"""Erasure and retention end to end: meetings run through the real chain (moto S3, the
AssemblyAI and OpenAI emulators, PostgreSQL), then erased; every text and JSON
column of every table is searched for what must be gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from harness import RECIPIENT, SPANISH, Chain
from voxcliente.pipeline import erasure
from voxcliente.pipeline.erasure import ErasureOutcome
from voxlocal import erase_cli

pytestmark = pytest.mark.integration


# --- what is left -------------------------------------------------------------------------
def holding(
    conn: psycopg.Connection[Any], needles: list[str], *, skip: tuple[str, ...] = ()
) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every text or JSON column of every table (but
    ``skip``) that still holds one of ``needles``, letter case ignored."""
    columns = conn.execute(
        """
        SELECT c.table_name, c.column_name FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
          AND c.data_type IN ('text', 'character varying', 'jsonb', 'json')
        ORDER BY 1, 2
        """
    ).fetchall()
    found = []
    for column in columns:
        table, name = column["table_name"], column["column_name"]
        if table in skip:
            continue
        for needle in needles:
            query = sql.SQL(
                "SELECT 1 FROM {t} WHERE strpos(lower({c}::text), lower(%s)) > 0 LIMIT 1"
            ).format(t=sql.Identifier(table), c=sql.Identifier(name))
            if conn.execute(query, (needle,)).fetchone():
                found.append((table, name, needle))
    return found


def personal(conn: psycopg.Connection[Any], meeting_id: UUID) -> list[str]:
    """What of this meeting must be gone after erasure: the address, the file name,
    a passage of the transcript and the acta's longest sentence."""
    transcript = conn.execute(
        "SELECT text FROM transcripts WHERE meeting_id = %s", (meeting_id,)
    ).fetchone()
    acta = conn.execute("SELECT content FROM actas WHERE meeting_id = %s", (meeting_id,)).fetchone()
    meeting = conn.execute(
        "SELECT original_filename FROM meetings WHERE id = %s", (meeting_id,)
    ).fetchone()
    assert transcript is not None and acta is not None and meeting is not None
    text = transcript["text"]
    return [
        RECIPIENT,
        meeting["original_filename"],
        text[len(text) // 2 : len(text) // 2 + 40],
        max(strings(acta["content"]), key=len),
    ]


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def totals(conn: psycopg.Connection[Any]) -> tuple[Decimal, Decimal, int]:
    row = conn.execute(
        "SELECT (SELECT coalesce(sum(cost_usd), 0) FROM usage_records) AS lines, "
        "(SELECT coalesce(sum(total_cost_usd), 0) FROM meetings) AS meetings, "
        "(SELECT count(*) FROM usage_records) AS n"
    ).fetchone()
    assert row is not None
    return row["lines"], row["meetings"], row["n"]


def objects(chain: Chain) -> list[tuple[str, str]]:
    """Every (key, version) in the bucket, delete markers included."""
    listed = chain.aws.s3.list_object_versions(Bucket=chain.aws.bucket)
    return [
        (v["Key"], v["VersionId"])
        for group in ("Versions", "DeleteMarkers")
        for v in listed.get(group, [])
    ]


def audit(conn: psycopg.Connection[Any], subject: str, subject_id: UUID) -> dict[str, Any]:
    row = conn.execute(
        "SELECT * FROM erasures WHERE subject = %s AND subject_id = %s", (subject, subject_id)
    ).fetchone()
    assert row is not None, f"no {subject} erasure row"
    return dict(row)


def emailed(chain: Chain, name: str = "reunión.mp3") -> dict[str, Any]:
    """The Spanish sample through the whole chain to its email; the meeting row."""
    chain.run_all(chain.drop(SPANISH, name=name))
    meeting = chain.meeting()
    assert meeting["status"] == "emailed", meeting
    return meeting


def provider_deletes(chain: Chain) -> int:
    return sum(1 for r in chain.assemblyai.requests if r.method == "DELETE")


@pytest.fixture
def keep_provider_copy(configure: Any) -> None:
    """The worker leaves AssemblyAI's transcript alone: the erasure must delete it."""
    configure(DELETE_PROVIDER_TRANSCRIPT="false")


# --- a meeting ------------------------------------------------------------------------------
def test_an_erased_meeting_is_gone_everywhere_and_its_costs_stay(
    chain: Chain, keep_provider_copy: None
) -> None:
    meeting = emailed(chain)
    needles = personal(chain.conn, meeting["id"])
    before = totals(chain.conn)
    stored = sorted(k for k, _ in objects(chain))
    assert before[2] > 0
    assert stored == sorted(
        [meeting["s3_key"], meeting["docx_s3_key"], meeting["transcript_s3_key"]]
    )

    outcome = erasure.erase_meeting(
        meeting["id"], requested_by="user", actor_user_id=meeting["user_id"]
    )

    assert outcome == ErasureOutcome(erased=True, meetings=1, pending=())
    # S3: the recording (its inbox key held the address) and any stored document.
    assert objects(chain) == []
    # AssemblyAI: the transcript deleted, and a later GET shows it blanked.
    assert chain.assemblyai.deletions == [meeting["assemblyai_transcript_id"]]
    assert chain.assemblyai.transcript(meeting["assemblyai_transcript_id"])["text"] == (
        "Deleted by user."
    )
    # PostgreSQL: nothing holds the address, the file name, the transcript or the
    # acta (the users row is the account, which erasing one meeting keeps).
    assert holding(chain.conn, needles, skip=("users",)) == []
    row = chain.meeting()
    assert row["erased_at"] is not None and row["status"] == "emailed"
    assert row["s3_key"] == f"erased/{meeting['id']}" and row["original_filename"] == ""
    assert row["provider_transcript_deleted_at"] is not None
    # Accounting: every cost line and total as before.
    assert totals(chain.conn) == before
    # The audit row: who, when, done, nothing personal left in it.
    record = audit(chain.conn, "meeting", meeting["id"])
    assert record["status"] == "done" and record["completed_at"] is not None
    assert record["requested_by"] == "user" and record["actor_user_id"] == meeting["user_id"]
    assert record["pending"] == {} and record["last_error"] is None

    # Again: a no-op with the same answer, nothing asked of anyone.
    requests = len(chain.assemblyai.requests)
    assert erasure.erase_meeting(meeting["id"], requested_by="user") == outcome
    assert len(chain.assemblyai.requests) == requests
    assert chain.conn.execute("SELECT count(*) AS n FROM erasures").fetchone() == {"n": 1}


def test_in_a_versioned_bucket_every_version_of_the_recording_goes(
    chain: Chain, keep_provider_copy: None
) -> None:
    chain.aws.s3.put_bucket_versioning(
        Bucket=chain.aws.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    meeting = emailed(chain)
    # The same name uploaded again, then deleted: two versions and a delete marker,
    # next to another recording whose key starts with this one's.
    key = meeting["s3_key"]
    chain.aws.s3.put_object(Bucket=chain.aws.bucket, Key=key, Body=b"again")
    chain.aws.s3.delete_object(Bucket=chain.aws.bucket, Key=key)
    chain.aws.s3.put_object(Bucket=chain.aws.bucket, Key=f"{key}.2", Body=b"other")
    assert len([k for k, _ in objects(chain) if k == key]) == 3

    assert erasure.erase_meeting(meeting["id"], requested_by="user").pending == ()

    assert [k for k, _ in objects(chain)] == [f"{key}.2"]


def test_an_assemblyai_outage_during_erasure_is_finished_by_the_reconciler(
    chain: Chain, keep_provider_copy: None
) -> None:
    meeting = emailed(chain)
    needles = personal(chain.conn, meeting["id"])
    transcript_id = meeting["assemblyai_transcript_id"]
    chain.assemblyai.script_delete("unavailable", "unavailable")

    outcome = erasure.erase_meeting(meeting["id"], requested_by="operator")

    # Erased here and in S3 already; AssemblyAI's copy waits.
    assert outcome == ErasureOutcome(erased=True, meetings=1, pending=("assemblyai",))
    assert holding(chain.conn, needles, skip=("users",)) == []
    assert objects(chain) == []
    record = audit(chain.conn, "meeting", meeting["id"])
    assert record["status"] == "pending" and record["attempts"] == 1
    assert record["pending"] == {"assemblyai": [transcript_id]}
    # Why, without anything personal: the error's class and its status code.
    assert "HTTP 503" in record["last_error"] and RECIPIENT not in record["last_error"]

    # Still down at the next run: counted again, still pending.
    assert chain.reconcile()["privacy"]["erasures_finished"] == 0
    assert audit(chain.conn, "meeting", meeting["id"])["attempts"] == 2
    # Back: the run after finishes it.
    assert chain.reconcile()["privacy"]["erasures_finished"] == 1
    record = audit(chain.conn, "meeting", meeting["id"])
    assert record["status"] == "done" and record["pending"] == {}
    assert chain.assemblyai.deletions == [transcript_id]
    assert erasure.erase_meeting(meeting["id"], requested_by="user").pending == ()


def test_a_meeting_erased_while_transcribing_is_stopped_there(
    chain: Chain, keep_provider_copy: None
) -> None:
    transcript_id = chain.drop(SPANISH)
    meeting = chain.meeting()
    assert meeting["status"] == "submitted"

    outcome = erasure.erase_meeting(meeting["id"], requested_by="user")

    assert outcome.erased
    stopped = chain.meeting()
    assert stopped["status"] == "failed" and stopped["error_code"] == erasure.STOPPED_BY_ERASURE
    # The webhook that arrives afterwards finds nothing to continue: no transcript is
    # written, no acta paid for, no email sent.
    status, _ = chain.webhook(transcript_id)
    assert status == 200
    chain.drain()
    assert chain.conn.execute("SELECT count(*) AS n FROM transcripts").fetchone() == {"n": 0}
    assert chain.openai_requests() == 0 and chain.emails() == []
    assert chain.meeting()["status"] == "failed"
    chain.reconcile()
    assert audit(chain.conn, "meeting", meeting["id"])["status"] == "done"
    assert chain.assemblyai.deletions == [transcript_id]


def test_a_meeting_erased_while_its_acta_is_written_gets_no_acta_and_no_email(
    chain: Chain, keep_provider_copy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person erases the meeting while OpenAI is writing: the paid generation's
    cost is recorded, the acta is not stored and nothing is sent."""
    from voxcliente.acta import generation

    write = generation.generate_acta

    def erased_during(*args: Any, **kwargs: Any) -> Any:
        written = write(*args, **kwargs)
        erasure.erase_meeting(chain.meeting()["id"], requested_by="user")
        return written

    monkeypatch.setattr(generation, "generate_acta", erased_during)
    chain.run_all(chain.drop(SPANISH))

    meeting = chain.meeting()
    assert (meeting["status"], meeting["error_code"]) == ("failed", "erased")
    assert meeting["erased_at"] is not None
    assert chain.conn.execute("SELECT count(*) AS n FROM actas").fetchone() == {"n": 0}
    assert chain.emails() == [] and chain.openai_requests() == 1
    paid = chain.conn.execute(
        "SELECT count(*) AS n FROM usage_records WHERE provider = 'openai'"
    ).fetchone()
    assert paid == {"n": 2}  # input and output tokens: paid, so kept
    assert not [key for key, _ in objects(chain) if key.startswith(("actas/", "transcripts/"))]


def test_documents_stored_after_the_erasure_are_deleted_and_nothing_is_sent(
    chain: Chain, keep_provider_copy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Erased between storing the documents and claiming the email: the claim refuses
    an erased meeting, and the worker deletes what it had just stored."""
    from voxcliente.pipeline import documents

    store = documents.store_rendered

    def erased_after(*args: Any, **kwargs: Any) -> Any:
        keys = store(*args, **kwargs)
        erasure.erase_meeting(chain.meeting()["id"], requested_by="user")
        store(*args, **kwargs)  # the erasure deleted them: stored again, as a slow worker would
        return keys

    monkeypatch.setattr(documents, "store_rendered", erased_after)
    chain.run_all(chain.drop(SPANISH))

    assert chain.emails() == []
    assert chain.meeting()["error_code"] == "erased"
    assert chain.meeting()["docx_s3_key"] is None
    assert not [key for key, _ in objects(chain) if key.startswith(("actas/", "transcripts/"))]
    assert chain.conn.execute("SELECT count(*) AS n FROM email_deliveries").fetchone() == {"n": 0}


# --- a person -------------------------------------------------------------------------------
def test_an_erased_person_leaves_costs_without_an_owner(
    chain: Chain, keep_provider_copy: None
) -> None:
    from voxcliente.adapters import repository as repo
    from voxcliente.adapters.db import transaction

    first = emailed(chain, "lunes.mp3")
    needles = personal(chain.conn, first["id"])
    second = emailed(chain, "martes.mp3")
    needles += personal(chain.conn, second["id"])[1:]
    user_id = first["user_id"]
    with transaction() as tx:
        repo.get_or_create_client(tx, user_id, "Textiles Andinos Ltda")
    chain.conn.execute(
        "INSERT INTO email_confirmations (email, code_hash, expires_at) "
        "VALUES (%s, 'h', now() + interval '15 minutes')",
        (RECIPIENT,),
    )
    before = totals(chain.conn)

    outcome = erasure.erase_user(user_id, requested_by="user", actor_user_id=user_id)

    assert outcome == ErasureOutcome(erased=True, meetings=2, pending=())
    assert holding(chain.conn, [*needles, "Textiles Andinos Ltda"]) == []
    for table in ("users", "clients", "email_confirmations", "uploads"):
        count = chain.conn.execute(
            sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table))
        ).fetchone()
        assert count == {"n": 0}, table
    assert totals(chain.conn) == before
    rows = chain.conn.execute(
        "SELECT subject, status, pending FROM erasures ORDER BY subject"
    ).fetchall()
    assert rows == [
        {"subject": "meeting", "status": "done", "pending": {}},
        {"subject": "meeting", "status": "done", "pending": {}},
        {"subject": "user", "status": "done", "pending": {}},
    ]
    assert sorted(chain.assemblyai.deletions) == sorted(
        [first["assemblyai_transcript_id"], second["assemblyai_transcript_id"]]
    )
    assert objects(chain) == []
    assert erasure.erase_user(user_id, requested_by="user").pending == ()


# --- retention --------------------------------------------------------------------------------
def test_retention_purges_the_transcript_then_the_meeting(
    chain: Chain, keep_provider_copy: None
) -> None:
    meeting = emailed(chain)
    needles = personal(chain.conn, meeting["id"])
    chain.conn.execute(
        "INSERT INTO email_confirmations (email, code_hash, expires_at, created_at) VALUES "
        "('old@example.com', 'h', now() - interval '3 days', now() - interval '3 days'), "
        "('new@example.com', 'h', now() + interval '15 minutes', now())"
    )
    now = datetime.now(UTC)

    # Within every retention: nothing but the stale trial confirmation.
    assert erasure.purge_expired(now) == {
        "meetings": 0,
        "transcripts": 0,
        "confirmations": 1,
        "abandoned_uploads": 0,
    }
    assert [r["email"] for r in chain.conn.execute("SELECT email FROM email_confirmations")] == [
        "new@example.com"
    ]
    # Past the transcript's 90 days: the transcript goes, the acta stays.
    assert erasure.purge_expired(now + timedelta(days=91)) == {
        "meetings": 0,
        "transcripts": 1,
        "confirmations": 1,  # the other one, two days old by then
        "abandoned_uploads": 0,
    }
    assert chain.conn.execute("SELECT count(*) AS n FROM transcripts").fetchone() == {"n": 0}
    assert chain.conn.execute("SELECT count(*) AS n FROM actas").fetchone() == {"n": 1}
    purged = chain.meeting()
    assert purged["transcript_purged_at"] is not None and purged["erased_at"] is None
    assert purged["transcript_s3_key"] is None
    assert chain.assemblyai.deletions == [meeting["assemblyai_transcript_id"]]
    assert audit(chain.conn, "transcript", meeting["id"])["requested_by"] == "retention"
    assert audit(chain.conn, "transcript", meeting["id"])["status"] == "done"
    assert not [k for k, _ in objects(chain) if k.startswith("transcripts/")]
    assert erasure.purge_expired(now + timedelta(days=92))["transcripts"] == 0

    # Past the acta's 365 days: the whole meeting, as an erasure would.
    assert erasure.purge_expired(now + timedelta(days=366))["meetings"] == 1
    assert holding(chain.conn, needles, skip=("users",)) == []
    assert audit(chain.conn, "meeting", meeting["id"])["requested_by"] == "retention"
    assert objects(chain) == []
    assert erasure.purge_expired(now + timedelta(days=367))["meetings"] == 0


def test_each_retention_run_takes_a_bounded_batch(
    db_url: str, aws: Any, conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness import recorded_meeting
    from voxcliente.pipeline import retention

    old = [recorded_meeting(f"inbox/ana@example.com/{n}.mp3").id for n in range(3)]
    conn.execute(
        "UPDATE meetings SET received_at = now() - interval '400 days', s3_bucket = %s",
        (aws.bucket,),
    )
    monkeypatch.setattr(retention, "BATCH", 2)

    assert erasure.purge_expired()["meetings"] == 2
    assert erasure.purge_expired()["meetings"] == 1
    assert erasure.purge_expired()["meetings"] == 0
    rows = conn.execute("SELECT id, status, error_code, erased_at FROM meetings").fetchall()
    assert sorted(r["id"] for r in rows) == sorted(old)
    # Never submitted: stopped where they were, so that Submit cannot take them up.
    assert {(r["status"], r["error_code"]) for r in rows} == {("failed", "erased")}
    assert all(r["erased_at"] for r in rows)


# --- AssemblyAI's copy once emailed ---------------------------------------------------------
def test_forget_at_provider_and_the_reconcilers_sweep(
    chain: Chain, keep_provider_copy: None, configure: Any
) -> None:
    first = emailed(chain, "uno.mp3")
    second = emailed(chain, "dos.mp3")

    assert erasure.forget_at_provider(first["id"]) is True
    assert chain.assemblyai.deletions == [first["assemblyai_transcript_id"]]
    deletes = provider_deletes(chain)
    assert erasure.forget_at_provider(first["id"]) is True  # already: nothing asked
    assert provider_deletes(chain) == deletes

    # The sweep: off by the setting, then on but the worker's own call goes first.
    assert erasure.provider_delete_sweep() == 0
    configure(DELETE_PROVIDER_TRANSCRIPT="true")
    assert erasure.provider_delete_sweep() == 0
    assert erasure.provider_delete_sweep(now=datetime.now(UTC) + timedelta(minutes=6)) == 1
    assert chain.assemblyai.deletions == [
        first["assemblyai_transcript_id"],
        second["assemblyai_transcript_id"],
    ]
    assert all(
        m["provider_transcript_deleted_at"] for m in chain.conn.execute("SELECT * FROM meetings")
    )


def test_forget_at_provider_leaves_a_failure_to_the_sweep(
    chain: Chain, keep_provider_copy: None, configure: Any
) -> None:
    meeting = emailed(chain)
    chain.assemblyai.script_delete("server_error")

    assert erasure.forget_at_provider(meeting["id"]) is False
    assert chain.meeting()["provider_transcript_deleted_at"] is None

    configure(DELETE_PROVIDER_TRANSCRIPT="true")
    chain.conn.execute("UPDATE meetings SET emailed_at = now() - interval '10 minutes'")
    assert chain.reconcile()["privacy"]["provider_transcripts_deleted"] == 1
    assert chain.meeting()["provider_transcript_deleted_at"] is not None


def test_forget_at_provider_waits_for_the_email(chain: Chain, keep_provider_copy: None) -> None:
    chain.drop(SPANISH)
    assert erasure.forget_at_provider(chain.meeting()["id"]) is False
    assert chain.assemblyai.deletions == []


TRIAL = "trial.person@example.com"


def _trial_leftovers(conn: psycopg.Connection[Any], age: str) -> None:
    """A trial code, its email and an upload whose file never came, ``age`` old."""
    conn.execute(
        "INSERT INTO email_confirmations (email, code_hash, expires_at, created_at) "
        "VALUES (%(e)s, 'h', now() - %(age)s::interval, now() - %(age)s::interval)",
        {"e": TRIAL, "age": age},
    )
    conn.execute(
        "INSERT INTO email_deliveries (recipient, kind, status, created_at) "
        "VALUES (%(e)s, 'confirmation', 'sent', now() - %(age)s::interval)",
        {"e": TRIAL, "age": age},
    )
    conn.execute(
        "INSERT INTO uploads (email, s3_key, original_filename, content_type, size_bytes, "
        "expires_at, created_at) VALUES (%(e)s, 'uploads/x/secreto.mp3', 'secreto.mp3', "
        "'audio/mpeg', 10, now() - %(age)s::interval, now() - %(age)s::interval)",
        {"e": TRIAL, "age": age},
    )


def test_retention_forgets_trial_codes_their_emails_and_abandoned_uploads(
    chain: Chain, keep_provider_copy: None
) -> None:
    meeting = emailed(chain)  # its upload-less meeting must not be touched
    _trial_leftovers(chain.conn, "3 days")

    purged = erasure.purge_expired()

    assert (purged["confirmations"], purged["abandoned_uploads"]) == (2, 1)
    assert holding(chain.conn, [TRIAL, "secreto.mp3"]) == []
    assert chain.meeting()["id"] == meeting["id"] and chain.meeting()["erased_at"] is None


def test_make_erase_on_an_address_without_an_account(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    _trial_leftovers(chain.conn, "1 hour")

    assert erase_cli.main(["--email", TRIAL.upper()]) == erase_cli.ERASED
    assert "no account has the address" in capsys.readouterr().out
    assert holding(chain.conn, [TRIAL, "secreto.mp3"]) == []
    assert erase_cli.main(["--email", TRIAL]) == erase_cli.UNKNOWN


# --- make erase -------------------------------------------------------------------------------
def test_make_erase_on_a_meeting(
    chain: Chain, keep_provider_copy: None, capsys: pytest.CaptureFixture[str]
) -> None:
    meeting = emailed(chain)

    assert erase_cli.main(["--meeting", str(meeting["id"])]) == erase_cli.ERASED
    assert "erased in the database" in capsys.readouterr().out
    assert audit(chain.conn, "meeting", meeting["id"])["requested_by"] == "operator"
    assert erase_cli.main(["--meeting", str(meeting["id"])]) == erase_cli.ERASED
    assert erase_cli.main(["--meeting", str(UUID(int=7))]) == erase_cli.UNKNOWN
    assert "There is no meeting" in capsys.readouterr().err


def test_make_erase_on_an_address_with_assemblyai_down(
    chain: Chain, keep_provider_copy: None, capsys: pytest.CaptureFixture[str]
) -> None:
    emailed(chain)
    chain.assemblyai.script_delete("unavailable")

    assert erase_cli.main(["--email", RECIPIENT.upper()]) == erase_cli.PENDING
    out = capsys.readouterr().out
    assert "1 meeting(s)" in out and "assemblyai" in out and "reconciler" in out
    assert chain.conn.execute("SELECT count(*) AS n FROM users").fetchone() == {"n": 0}
    assert erase_cli.main(["--email", RECIPIENT]) == erase_cli.UNKNOWN
    assert "nothing names the address" in capsys.readouterr().err
    chain.reconcile()
    assert chain.conn.execute(
        "SELECT count(*) AS n FROM erasures WHERE status = 'pending'"
    ).fetchone() == {"n": 0}
