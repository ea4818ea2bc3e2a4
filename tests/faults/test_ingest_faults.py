"""The door's faults: Submit, UploadApi and the Webhook, each case to one end state.

Every test runs the real handlers against PostgreSQL, moto's server and the
AssemblyAI emulator, and asserts where the meeting ends: one terminal status
(or ``received`` / ``transcribed``, resumable, said explicitly), at most one
AssemblyAI submission, at most one queue message of each kind.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError

import harness
from conftest import AwsEnv, run_concurrently
from harness import AUDIO, meetings, put, results, s3_event, submit, webhook
from voxlocal import events

pytestmark = pytest.mark.integration

ADDRESS = "ana.mendez@example.com"
TRANSCRIPT_TEXT = "Acordamos el presupuesto confidencial de la fase dos."


# --- helpers ---------------------------------------------------------------------------
@pytest.fixture
def logs() -> Iterator[Callable[[], str]]:
    """Every line the functions log from here on, as Powertools writes it (JSON)."""
    from voxcliente.observability import logger

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield buffer.getvalue
    # Powertools forwards it to the stdlib logger; only addHandler is typed.
    logger.removeHandler(handler)  # type: ignore[attr-defined]


def upload_api(body: Any, *, email: str = ADDRESS) -> tuple[int, dict[str, Any]]:
    """The browser's POST /uploads with ``body`` (JSON unless already a string), signed in
    with a verified ``email`` (the address the acta goes to)."""
    return harness.upload_api(
        events.http_api(
            "POST",
            "/uploads",
            headers={"content-type": "application/json", "origin": "http://localhost:5173"},
            body=body if isinstance(body, str) else json.dumps(body),
            claims={
                "iss": "https://issuer.voxcliente.test",
                "sub": f"user-{email}",
                "email": email,
                "email_verified": True,
            },
        )
    )


def _submitted_awaiting_its_webhook(
    aws: AwsEnv, assemblyai: Any, *, speech: bool = True
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A dropped file, submitted once; AssemblyAI done with it (a transcript, or without
    ``speech`` its error). Returns the webhook request AssemblyAI sends."""
    if speech:
        assemblyai.register_audio(AUDIO, {"text": TRANSCRIPT_TEXT, "audio_duration": 1})
    key = f"inbox/{ADDRESS}/reunion.mp3"
    put(aws, key)
    assert results(submit(s3_event(aws.bucket, key))) == ["submitted"]
    [transcript_id] = assemblyai.transcript_ids()
    assemblyai.wait(transcript_id)
    url, headers, payload = assemblyai.webhook_request(transcript_id)
    return url, headers, payload


GOOD_UPLOAD = {
    "filename": "reunion.mp3",
    "content_type": "audio/mpeg",
    "size_bytes": len(AUDIO),
    "client_name": "Textiles Andinos",
}


# --- 2: recipients SES can address -----------------------------------------------------
def test_defect_02_upload_api_refuses_an_address_ses_cannot_deliver_to(
    db_url: str, aws: AwsEnv, conn: psycopg.Connection[Any]
) -> None:
    # (the address is the sign-in token's verified email)
    status, body = upload_api(GOOD_UPLOAD, email="josé@example.com")
    assert status == 400
    assert "non-ASCII" in body["error"]["fields"]["email"]
    assert conn.execute("SELECT count(*) AS n FROM uploads").fetchone() == {"n": 0}
    # an internationalised domain is fine: stored as Punycode, as SES needs it
    status, body = upload_api(GOOD_UPLOAD, email="ana@bücher.de")
    assert status == 201
    row = conn.execute("SELECT email FROM uploads").fetchone()
    assert row == {"email": "ana@xn--bcher-kva.de"}


def test_defect_02_an_inbox_address_ses_cannot_deliver_to_fails_before_spending(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    key = "inbox/josé@example.com/reunion.mp3"
    put(aws, key)
    assert results(submit(s3_event(aws.bucket, key))) == ["failed"]
    [meeting] = meetings(conn)
    assert (meeting["status"], meeting["error_code"]) == ("failed", "email_invalid")
    assert meeting["recipient_email"] is None  # nobody SES can reach: no notice
    assert assemblyai.submissions == []
    assert aws.queue_messages() == []
    # a repeat of the event changes nothing
    assert results(submit(s3_event(aws.bucket, key))) == ["duplicate"]
    assert len(meetings(conn)) == 1


def test_defect_02_an_unusable_metadata_address_keeps_the_usable_folder_address(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    key = f"inbox/{ADDRESS}/reunion.mp3"
    put(aws, key, email="jose@exa mple.com")
    assert results(submit(s3_event(aws.bucket, key))) == ["failed"]
    [meeting] = meetings(conn)
    assert (meeting["status"], meeting["error_code"]) == ("failed", "email_invalid")
    # the one who dropped the file is who can be told why
    assert meeting["recipient_email"] == ADDRESS
    assert assemblyai.submissions == []
    assert aws.queue_messages() == [{"meeting_id": str(meeting["id"]), "kind": "failure"}]


# --- 3: the database lost right after AssemblyAI accepted -------------------------------
def _lose_database_on_submitted(monkeypatch: pytest.MonkeyPatch, how: str = "terminated") -> None:
    """The database is lost at the commit point that would record the transcript id:
    ``terminated``, the server ends our session (pg_terminate_backend); ``raised``,
    the adapter's mapped error arrives without a server to end it."""
    from voxcliente.adapters import repository as repo
    from voxcliente.domain.errors import TransientError
    from voxcliente.domain.moves import Move

    real_transition = repo.transition

    def lost(tx: Any, meeting_id: Any, move: Move, **kwargs: Any) -> Any:
        if move.to == "submitted":
            if how == "raised":
                raise TransientError("connection lost", code="database_unavailable")
            tx.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return real_transition(tx, meeting_id, move, **kwargs)

    monkeypatch.setattr(repo, "transition", lost)


@pytest.mark.parametrize("how", ["terminated", "raised"])
def test_defect_03_a_database_lost_after_acceptance_ends_transcribed_once(
    how: str,
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from voxcliente.domain.errors import TransientError

    # Given AssemblyAI accepts the job and the database dies before the id is stored
    assemblyai.register_audio(AUDIO, {"text": TRANSCRIPT_TEXT, "audio_duration": 1})
    key = f"inbox/{ADDRESS}/reunion.mp3"
    put(aws, key)
    with monkeypatch.context() as patch:  # only the fault is undone, not the fixtures
        _lose_database_on_submitted(patch, how)
        with pytest.raises(TransientError):
            submit(s3_event(aws.bucket, key))
    # When Lambda retries the event: the claim is held, nothing is submitted again
    assert results(submit(s3_event(aws.bucket, key))) == ["duplicate"]
    assert len(assemblyai.submissions) == 1
    [meeting] = meetings(conn)
    assert meeting["status"] == "received" and meeting["submit_claimed_at"] is not None
    # and AssemblyAI's webhook (its URL names the meeting) arrives through the function
    [transcript_id] = assemblyai.transcript_ids()
    assemblyai.wait(transcript_id)
    url, headers, payload = assemblyai.webhook_request(transcript_id)
    assert webhook(url, headers, json.dumps(payload)) == (
        200,
        {"meeting_id": str(meeting["id"]), "outcome": "queued"},
    )
    # Then the meeting adopted the transcript: one submission, one acta message
    [meeting] = meetings(conn)
    assert (meeting["status"], meeting["assemblyai_transcript_id"]) == (
        "transcribed",
        transcript_id,
    )
    assert aws.queue_messages() == [{"meeting_id": str(meeting["id"]), "kind": "acta"}]
    # and AssemblyAI's retries of the same webhook change nothing
    assert webhook(url, headers, json.dumps(payload))[1]["outcome"] == "unchanged"
    assert aws.queue_messages() == []


def test_defect_03_without_the_webhook_the_meeting_waits_received_with_its_claim(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The door's side of the case where the webhook never comes: the meeting is
    resumable (``received``, claim held, nothing queued); finding such meetings
    with a stale claim is the reconciler's job."""
    from voxcliente.domain.errors import TransientError

    key = f"inbox/{ADDRESS}/reunion.mp3"
    put(aws, key)
    with monkeypatch.context() as patch:  # only the fault is undone, not the fixtures
        _lose_database_on_submitted(patch)
        with pytest.raises(TransientError):
            submit(s3_event(aws.bucket, key))
    for _ in range(2):  # Lambda's two retries
        assert results(submit(s3_event(aws.bucket, key))) == ["duplicate"]
    [meeting] = meetings(conn)
    assert meeting["status"] == "received"
    assert meeting["submit_claimed_at"] is not None
    assert meeting["assemblyai_transcript_id"] is None
    assert len(assemblyai.submissions) == 1
    assert aws.queue_messages() == []
    # When the webhook never came and the claim is older than the webhook's window,
    # the reconciler submits it again (a second, paid transcript: the price of a
    # meeting that would otherwise be lost) and the meeting goes on
    from voxcliente.flows import reconciler

    conn.execute("UPDATE meetings SET submit_claimed_at = now() - interval '4 hours'")
    assert reconciler.run().continued == [str(meeting["id"])]
    [meeting] = meetings(conn)
    assert meeting["status"] == "submitted"
    assert len(assemblyai.submissions) == 2
    # and a second pass does nothing more
    assert reconciler.run().continued == []
    assert len(assemblyai.submissions) == 2


def test_defect_03_a_meeting_whose_retries_ran_out_is_resubmitted_by_the_reconciler(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    from voxcliente.domain.errors import TransientError
    from voxcliente.flows import reconciler

    # Given AssemblyAI down for all of Lambda's three attempts (the claim released)
    key = f"inbox/{ADDRESS}/reunion.mp3"
    put(aws, key)
    for _ in range(3):
        assemblyai.script_submit("server_error")
        with pytest.raises(TransientError):
            submit(s3_event(aws.bucket, key))
    [meeting] = meetings(conn)
    assert (meeting["status"], meeting["submit_claimed_at"]) == ("received", None)
    # When the reconciler runs early, it leaves it alone; later, it submits it once
    assert reconciler.run().continued == []
    conn.execute("UPDATE meetings SET created_at = now() - interval '20 minutes'")
    assert reconciler.run().continued == [str(meeting["id"])]
    [meeting] = meetings(conn)
    assert meeting["status"] == "submitted"
    assert len(assemblyai.transcript_ids()) == 1  # the one job AssemblyAI accepted


def test_defect_03_a_meeting_that_never_submits_ends_failed_with_a_notice(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    configure: Callable[..., None],
) -> None:
    from voxcliente.flows import reconciler

    key = f"inbox/{ADDRESS}/reunion.mp3"
    put(aws, key)
    configure(MAX_ATTEMPTS="2")
    for _ in range(2):
        assemblyai.script_submit("server_error")
        with pytest.raises(Exception, match="AssemblyAI"):
            submit(s3_event(aws.bucket, key))
    conn.execute("UPDATE meetings SET created_at = now() - interval '20 minutes'")
    assert [m["submit_attempts"] for m in meetings(conn)] == [2]
    report = reconciler.run()
    [meeting] = meetings(conn)
    assert report.failed == [str(meeting["id"])]
    assert (meeting["status"], meeting["error_code"]) == ("failed", "internal_error")
    assert aws.queue_messages() == [{"meeting_id": str(meeting["id"]), "kind": "failure"}]
    assert assemblyai.transcript_ids() == []  # nothing was accepted, nothing paid
    assert reconciler.run().failed == []  # ended once


# --- 4: one record's failure is that record's outcome -------------------------------------
def test_defect_04_one_bad_record_does_not_stop_the_batch(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
    logs: Callable[[], str],
) -> None:
    from psycopg.errors import CheckViolation

    from voxcliente.adapters import repository as repo

    # Given three files, the middle one breaking the database in a way nobody expected
    keys = [f"inbox/{ADDRESS}/parte {i}.mp3" for i in range(3)]
    for i, key in enumerate(keys):
        put(aws, key, client="Roto" if i == 1 else "Textiles Andinos")
    real_client = repo.get_or_create_client

    def violation(tx: Any, user_id: Any, name: str, *args: Any) -> Any:
        if name == "Roto":
            raise CheckViolation(f"Failing row contains ({ADDRESS}, Roto)")
        return real_client(tx, user_id, name, *args)

    # When one event carries all three
    with monkeypatch.context() as patch:  # only the fault is undone, not the fixtures
        patch.setattr(repo, "get_or_create_client", violation)
        out = submit(s3_event(aws.bucket, *keys))
    # Then each ends in its own outcome: two submitted, the bad one failed with a notice
    assert results(out) == ["submitted", "failed", "submitted"]
    assert len(assemblyai.submissions) == 2
    by_key = {m["s3_key"]: m for m in meetings(conn)}
    bad = by_key[keys[1]]
    assert (bad["status"], bad["error_code"]) == ("failed", "internal_error")
    assert bad["recipient_email"] == ADDRESS
    assert aws.queue_messages() == [{"meeting_id": str(bad["id"]), "kind": "failure"}]
    # and the log names the error's type, never the row the database quoted
    logged = logs()
    assert "psycopg.errors.CheckViolation" in logged
    assert ADDRESS not in logged
    # A repeat of the event: nothing submitted or queued again
    assert results(submit(s3_event(aws.bucket, *keys))) == ["duplicate"] * 3
    assert len(assemblyai.submissions) == 2
    assert aws.queue_messages() == []


def test_defect_04_inbox_metadata_is_cleaned_and_capped_at_the_door(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    key = f"inbox/{ADDRESS}/larga.mp3"
    put(aws, key, client="Textiles Andinos " + "S" * 300)
    assert results(submit(s3_event(aws.bucket, key))) == ["submitted"]
    row = conn.execute("SELECT c.name FROM meetings m JOIN clients c ON c.id = m.client_id")
    name = row.fetchone()["name"]  # type: ignore[index]
    assert len(name) == 200 and name.startswith("Textiles Andinos SSS")


def test_defect_04_a_transient_record_is_retried_after_the_others_are_done(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from voxcliente.domain import media
    from voxcliente.domain.errors import TransientError

    keys = [f"inbox/{ADDRESS}/a.mp3", f"inbox/{ADDRESS}/b.mp3"]
    put(aws, keys[0], AUDIO + b"a")
    put(aws, keys[1], AUDIO + b"b")
    real_sniff = media.sniff
    calls = {"n": 0}

    def flaky(head: bytes) -> str | None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransientError("S3 hiccup", code="s3_unavailable")
        return real_sniff(head)

    monkeypatch.setattr(media, "sniff", flaky)
    with pytest.raises(TransientError):
        submit(s3_event(aws.bucket, *keys))
    assert len(assemblyai.submissions) == 1  # the second record was not held back
    # Lambda's retry: the first is submitted, the second is a duplicate
    assert results(submit(s3_event(aws.bucket, *keys))) == ["submitted", "duplicate"]
    assert len(assemblyai.submissions) == 2
    assert {m["status"] for m in meetings(conn)} == {"submitted"}


# --- 5: an object deleted before Submit reads it ------------------------------------------
@pytest.mark.parametrize("code", ["403", "404"])
def test_defect_05_a_deleted_object_is_skipped_not_raised(
    code: str,
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
    logs: Callable[[], str],
) -> None:
    from voxcliente.adapters import aws as vox_aws
    from voxcliente.flows.submit import key_hash

    key = f"inbox/{ADDRESS}/borrado.mp3"
    if code == "403":
        # Without s3:ListBucket, HEAD on a missing key answers 403 (moto answers 404).
        def forbidden(**kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")

        monkeypatch.setattr(vox_aws.client("s3"), "head_object", forbidden)
    out = submit(s3_event(aws.bucket, key))
    assert results(out) == ["skipped"]
    assert meetings(conn) == [] and assemblyai.submissions == []
    logged = logs()
    assert key_hash(key) in logged and ADDRESS not in logged


def test_defect_05_an_object_deleted_after_its_meeting_was_recorded_fails_it(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from voxcliente.adapters import aws as vox_aws

    key = f"inbox/{ADDRESS}/borrado.mp3"
    put(aws, key)

    def gone(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "gone"}}, "GetObject")

    monkeypatch.setattr(vox_aws.client("s3"), "get_object", gone)
    assert results(submit(s3_event(aws.bucket, key))) == ["failed"]
    [meeting] = meetings(conn)
    assert (meeting["status"], meeting["error_code"]) == ("failed", "file_missing")
    assert assemblyai.submissions == []


# --- 9: NUL and other characters no text column can hold --------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("filename", "reu\x00nion.mp3"),
        ("client_name", "Textiles\x00Andinos"),
        ("content_type", "audio/mpeg\x00"),
        ("client_name", "Textiles \ud800 Andinos"),
        ("language", "es\x00"),
    ],
)
def test_defect_09_upload_api_answers_400_for_nul_never_500(
    field: str, value: str, db_url: str, aws: AwsEnv, conn: psycopg.Connection[Any]
) -> None:
    status, body = upload_api(json.dumps({**GOOD_UPLOAD, field: value}))
    assert status == 400
    assert field in body["error"]["fields"]
    assert conn.execute("SELECT count(*) AS n FROM uploads").fetchone() == {"n": 0}


def test_defect_09_the_webhook_answers_400_to_a_body_that_can_never_succeed(
    db_url: str, aws: AwsEnv, assemblyai: Any
) -> None:
    from conftest import WEBHOOK_SECRET, WEBHOOK_URL

    headers = {"X-VoxCliente-Webhook-Secret": WEBHOOK_SECRET}
    for body in (
        json.dumps({"transcript_id": "abc\x00def", "status": "completed"}),
        json.dumps({"transcript_id": "x" * 500, "status": "completed"}),
        json.dumps({"transcript_id": "abc", "status": "compl\x00eted"}),
        '{"transcript_id": "abc", "status": "completed"\x00}',
    ):
        status, reply = webhook(WEBHOOK_URL, headers, body)
        assert status == 400, reply
    assert aws.queue_messages() == []


# --- 10: what is not audio is refused before spending -------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b"Good morning. Notes of the meeting with Textiles Andinos.\n",
        "Notas de la reunión con Textiles Andinos\n".encode("utf-16"),
    ],
    ids=["text-starting-with-G", "utf-16-text"],
)
def test_defect_10_text_that_looks_like_ts_or_mp3_is_not_audio(
    body: bytes, db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    key = f"inbox/{ADDRESS}/notas.mp3"
    put(aws, key, body)
    assert results(submit(s3_event(aws.bucket, key, size=len(body)))) == ["failed"]
    [meeting] = meetings(conn)
    assert (meeting["status"], meeting["error_code"]) == ("failed", "not_audio")
    assert assemblyai.submissions == []
    assert aws.queue_messages() == [{"meeting_id": str(meeting["id"]), "kind": "failure"}]


# --- 11: no address or transcript text in the logs -----------------------------------------
def test_defect_11_the_door_logs_neither_addresses_nor_transcript_text(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    logs: Callable[[], str],
) -> None:
    # Given the sample: an inbox drop, a web upload, refusals, the webhook
    assemblyai.register_audio(AUDIO, {"text": TRANSCRIPT_TEXT, "audio_duration": 1})
    key = f"inbox/{ADDRESS}/Reunión marzo.mp3"
    put(aws, key)
    put(aws, "inbox/luis@example.com/notas.mp3", b"Notas en texto\n" * 10)
    put(aws, "inbox/josé@example.com/a.mp3")
    submit(
        s3_event(
            aws.bucket, key, "inbox/luis@example.com/notas.mp3", "inbox/josé@example.com/a.mp3"
        )
    )
    submit(s3_event(aws.bucket, key))  # a duplicate
    submit(s3_event(aws.bucket, "inbox/gone@example.com/x.mp3"))  # deleted
    assert upload_api(GOOD_UPLOAD)[0] == 201
    assert upload_api(GOOD_UPLOAD, email="maría@example.com")[0] == 400
    [transcript_id] = assemblyai.transcript_ids()
    assemblyai.wait(transcript_id)
    url, headers, payload = assemblyai.webhook_request(transcript_id)
    assert webhook(url, headers, json.dumps(payload))[0] == 200
    # Then no log line holds an address or a word of the transcript
    text = logs()
    assert "meeting_id" in text  # the logs were captured
    for secret in (
        ADDRESS,
        "luis@example.com",
        "josé@example.com",
        "jos%C3%A9",
        "gone@example.com",
        "maría@example.com",
        "ana.mendez",
        "presupuesto confidencial",
    ):
        assert secret not in text, secret


# --- duplicates x20 at the door ---------------------------------------------------------------
def test_duplicates_20_concurrent_s3_events_make_one_meeting_and_one_submission(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    key = f"inbox/{ADDRESS}/reunion.mp3"
    put(aws, key)
    outcomes = run_concurrently(lambda: results(submit(s3_event(aws.bucket, key)))[0], copies=20)
    assert sorted(outcomes) == ["duplicate"] * 19 + ["submitted"]
    assert len(meetings(conn)) == 1
    assert len(assemblyai.submissions) == 1
    assert aws.queue_messages() == []


def test_duplicates_20_concurrent_webhooks_queue_one_message(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    assemblyai.register_audio(AUDIO, {"text": TRANSCRIPT_TEXT, "audio_duration": 1})
    key = f"inbox/{ADDRESS}/reunion.mp3"
    put(aws, key)
    submit(s3_event(aws.bucket, key))
    [meeting] = meetings(conn)
    transcript_id = meeting["assemblyai_transcript_id"]
    assemblyai.wait(transcript_id)
    url, headers, payload = assemblyai.webhook_request(transcript_id)
    replies = run_concurrently(lambda: webhook(url, headers, json.dumps(payload)), copies=20)
    assert all(status == 200 for status, _ in replies)
    assert sorted(r["outcome"] for _, r in replies) == ["queued"] + ["unchanged"] * 19
    assert aws.queue_messages() == [{"meeting_id": str(meeting["id"]), "kind": "acta"}]
    [meeting] = meetings(conn)
    assert meeting["status"] == "transcribed"
    assert len(assemblyai.submissions) == 1


def test_an_error_webhook_whose_reason_assemblyai_refuses_ends_the_meeting_at_once(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A final 4xx when asking for the failed transcript's reason can never pass: the
    meeting fails now (one notice), not after ten retried webhooks answered 503."""
    from voxcliente.adapters import assemblyai as assemblyai_api
    from voxcliente.domain.errors import ProviderError

    url, headers, payload = _submitted_awaiting_its_webhook(aws, assemblyai, speech=False)

    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise ProviderError("AssemblyAI refused (HTTP 403)", code="assemblyai_rejected")

    monkeypatch.setattr(assemblyai_api, "fetch", refused)
    body = json.dumps({**payload, "status": "error"})
    assert webhook(url, headers, body)[1]["outcome"] == "failed"
    [meeting] = meetings(conn)
    assert (meeting["status"], meeting["error_code"]) == ("failed", "transcription_failed")
    assert "HTTP 403" in meeting["error_message"]
    assert aws.queue_messages() == [{"meeting_id": str(meeting["id"]), "kind": "failure"}]
    # AssemblyAI's retry of the same webhook changes nothing
    assert webhook(url, headers, body) == (
        200,
        {"meeting_id": str(meeting["id"]), "outcome": "unchanged"},
    )


def test_an_s3_event_whose_lambda_retries_ran_out_is_replayed_by_the_reconciler(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    configure: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Submit refused by the database on all of Lambda's three attempts left no meeting
    row; the event waits in the on-failure queue, and the reconciler replays it."""
    from voxcliente.adapters import db
    from voxcliente.domain.errors import TransientError
    from voxcliente.flows import reconciler

    failures_url = aws.sqs.create_queue(QueueName="voxcliente-async-failures-test")["QueueUrl"]
    configure(ASYNC_FAILURES_QUEUE_URL=failures_url)
    key = f"inbox/{ADDRESS}/reunion.mp3"
    put(aws, key)
    event = s3_event(aws.bucket, key)

    # Given the database refusing every connection during Lambda's three attempts
    def full(*_args: Any, **_kwargs: Any) -> Any:
        raise TransientError("the database is full", code="database_unavailable")

    db.close_connection()
    with monkeypatch.context() as patch:
        patch.setattr(db, "connect", full)
        for _ in range(3):
            with pytest.raises(TransientError):
                submit(event)
    assert meetings(conn) == []
    # and Lambda's on-failure destination record of the event (its documented shape)
    record = {
        "version": "1.0",
        "timestamp": "2026-11-26T10:00:00.000Z",
        "requestContext": {
            "requestId": "c9b3b1e0-0000-4000-8000-000000000000",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:Submit:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "responsePayload": {"errorMessage": "the database is full"},
    }
    aws.sqs.send_message(QueueUrl=failures_url, MessageBody=json.dumps(record))
    aws.sqs.send_message(QueueUrl=failures_url, MessageBody="not ours")

    # When the reconciler runs (the database is back)
    assert reconciler.run().replayed == 1

    # Then the meeting exists and is submitted, once; the foreign message is kept
    [meeting] = meetings(conn)
    assert meeting["status"] == "submitted"
    assert len(assemblyai.transcript_ids()) == 1
    counts = aws.sqs.get_queue_attributes(
        QueueUrl=failures_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert sum(int(n) for n in counts.values()) == 1  # "not ours", hidden until next run
    assert reconciler.run().replayed == 0


def test_defect_09_an_s3_key_with_nul_is_skipped_and_nothing_is_stored(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    """S3 URL-encodes the key in its event: a %00 becomes NUL, which no text column
    takes; the record is skipped instead of failing the batch."""
    out = submit(s3_event(aws.bucket, f"inbox/{ADDRESS}/a\x00b.mp3"))
    assert results(out) == ["skipped"]
    assert meetings(conn) == []
    assert assemblyai.submissions == []


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Textiles\x00 Andinos", "Textiles Andinos"),
        ("Textiles\u202e Andinos\x1b", "Textiles Andinos"),
        ("  Textiles \t\n Andinos  ", "Textiles Andinos"),
        ("\x00\x1b", None),
    ],
)
def test_defect_09_metadata_loses_nul_control_and_format_characters(
    given: str, kept: str | None
) -> None:
    from voxcliente.text import clean_text

    assert clean_text(given, 200) == kept


def test_defect_13_an_unexpected_error_in_the_webhook_is_a_503_and_its_retry_goes_through(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
    logs: Callable[[], str],
) -> None:
    from voxcliente.flows import webhook as webhook_module

    url, headers, payload = _submitted_awaiting_its_webhook(aws, assemblyai)

    def bug(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyError(ADDRESS)

    with monkeypatch.context() as patch:
        # The usual completed webhook moves its meeting through complete_transcript;
        # any other, through apply_transcript_status: the bug is in both.
        patch.setattr(webhook_module, "complete_transcript", bug)
        patch.setattr(webhook_module, "apply_transcript_status", bug)
        status, _ = webhook(url, headers, json.dumps(payload))
    assert status == 503  # AssemblyAI retries
    assert [m["status"] for m in meetings(conn)] == ["submitted"]
    assert ADDRESS not in logs()  # logged by type and stack, not by its text
    assert webhook(url, headers, json.dumps(payload))[1]["outcome"] == "queued"


def test_a_malformed_meeting_id_in_the_webhook_url_is_ignored_not_an_error(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    url, headers, payload = _submitted_awaiting_its_webhook(aws, assemblyai)
    bad_url = url.split("?", 1)[0] + "?meeting_id=not-a-uuid"
    # the transcript id alone finds the meeting
    assert webhook(bad_url, headers, json.dumps(payload))[1]["outcome"] == "queued"
    # an unknown transcript with a malformed meeting id: retried later, never a 500
    unknown = json.dumps({"transcript_id": "no-such-transcript", "status": "completed"})
    assert webhook(bad_url, headers, unknown)[0] == 503
