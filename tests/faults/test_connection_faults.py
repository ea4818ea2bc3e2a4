"""Defect 12: database connections are bounded, and a full server sheds load.

The functions' reserved concurrency (template.yaml) keeps the connections
under the server's budget; when the server is full anyway (another client, a
smaller instance, connections of recycled environments not yet reaped), it
refuses with SQLSTATE 53300. A refusal must be a retry, never an outcome:
the webhook answers 503 (AssemblyAI retries), Submit raises (Lambda retries
the S3 event), the worker's message returns to the queue. Each test fills a
role's ``CONNECTION LIMIT`` on the real test server (the same refusal class as
``max_connections``), runs a stage, frees the server, runs the retry and
asserts the end state: one terminal status, one email, one paid generation.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql

from harness import AUDIO, RECIPIENT, Chain, meetings

pytestmark = pytest.mark.integration

TRANSCRIPT = {"text": "Hola. Acordamos enviar la propuesta el lunes.", "audio_duration": 2}
CAP = 2  # connections the capped role may hold


class CappedRole:
    """A login role with ``CONNECTION LIMIT`` on the test server, and a way to fill it."""

    def __init__(self, admin_url: str, role_url: str, limit: int) -> None:
        self.admin_url = admin_url
        self.role_url = role_url
        self.limit = limit

    def connections(self) -> int:
        role = psycopg.conninfo.conninfo_to_dict(self.role_url)["user"]
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (role,)
            ).fetchone()
        return int(row[0]) if row else 0

    @contextmanager
    def full(self) -> Iterator[int]:
        """Open connections as the role until the server refuses one; hold them.

        Yields how many were opened. This thread's own connection (the handler's)
        is closed first so that the handler has to ask for a new one.
        """
        from voxcliente.adapters import db

        db.close_connection()
        held: list[psycopg.Connection[Any]] = []
        try:
            while True:
                try:
                    held.append(psycopg.connect(self.role_url, autocommit=True))
                except psycopg.OperationalError as exc:
                    assert db.server_full(exc), f"refused for another reason: {exc}"
                    break
                assert len(held) <= self.limit, "the server did not enforce the limit"
            yield len(held)
        finally:
            for conn in held:
                conn.close()


@pytest.fixture
def capped(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CappedRole]:
    """The functions connect as a role limited to CAP connections."""
    from voxcliente.adapters import db
    from voxcliente.settings import reset_settings

    role = f"vox_capped_{secrets.token_hex(4)}"
    with psycopg.connect(db_url, autocommit=True) as admin:
        name = sql.Identifier(role)
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN CONNECTION LIMIT {}").format(name, sql.Literal(CAP))
        )
        admin.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name))
        admin.execute(sql.SQL("GRANT ALL ON ALL TABLES IN SCHEMA public TO {}").format(name))
        admin.execute(sql.SQL("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {}").format(name))
    role_url = psycopg.conninfo.make_conninfo(db_url, user=role)
    db.close_connection()
    monkeypatch.setenv("DATABASE_URL", role_url)
    reset_settings()
    yield CappedRole(db_url, role_url, CAP)
    db.close_connection()
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
        )
        admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def pipeline(capped: CappedRole, chain: Chain) -> Chain:
    """The chain with the functions connecting as the capped role, and AssemblyAI
    knowing the short recording every meeting here is made of."""
    chain.assemblyai.register_audio(AUDIO, TRANSCRIPT)
    return chain


def _emails_to(recipient: str) -> int:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return sum(1 for m in sent if recipient.lower() in str(m.destinations).lower())


def test_defect_12_a_full_server_is_a_transient_error_and_the_next_call_reconnects(
    capped: CappedRole,
) -> None:
    from voxcliente.adapters import db
    from voxcliente.domain.errors import TransientError

    # Given a server whose connections for this role are all taken
    with capped.full() as opened:
        assert opened == CAP
        # When a function asks for its connection, Then it is told to retry later
        with pytest.raises(TransientError) as caught, db.transaction() as tx:
            tx.execute("SELECT 1")
        assert "no free connection" in caught.value.message
        assert caught.value.code == "transient_error"
    # And once a slot is free the same environment connects (nothing cached broken)
    with db.transaction() as tx:
        assert tx.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    assert capped.connections() == 1


def test_defect_12_a_connect_timeout_is_a_transient_error(
    capped: CappedRole, configure: Any
) -> None:
    """A server that accepts TCP but never answers (overloaded, a proxy waiting for a
    backend) must not hold an invocation past its deadline."""
    import socket

    from voxcliente.adapters import db
    from voxcliente.domain.errors import TransientError

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepted by the kernel, never answered
    port = listener.getsockname()[1]
    try:
        configure(
            DATABASE_URL=f"postgresql://nobody@127.0.0.1:{port}/voxcliente",
            DB_CONNECT_TIMEOUT_S="2",  # psycopg's floor, as libpq's
        )
        with pytest.raises(TransientError) as caught:
            db.connect()
        assert "within 2 s" in caught.value.message
    finally:
        listener.close()


def test_defect_12_submit_raises_while_full_and_lambdas_retry_submits_once(
    pipeline: Chain, capped: CappedRole, conn: psycopg.Connection[Any]
) -> None:
    from voxcliente.domain.errors import TransientError

    event = pipeline.put("llena.mp3")
    # Given a full server, When S3's event reaches Submit, Then the invocation fails
    # (Lambda retries an S3 event that failed) and nothing is recorded as failed
    with capped.full(), pytest.raises(TransientError):
        pipeline.submit(event)
    assert [m["status"] for m in meetings(conn)] in ([], ["received"])
    assert pipeline.assemblyai.submissions == []
    # When Lambda's retry runs with the server free again
    out = pipeline.submit(event)
    # Then the meeting is submitted, once
    assert [r["result"] for r in out["results"]] == ["submitted"]
    assert [m["status"] for m in meetings(conn)] == ["submitted"]
    assert len(pipeline.assemblyai.submissions) == 1


def test_defect_12_webhook_answers_503_while_full_and_the_retry_queues_the_acta(
    pipeline: Chain, capped: CappedRole, conn: psycopg.Connection[Any]
) -> None:
    # Given a submitted meeting whose transcript is ready
    transcript_id = pipeline.drop(AUDIO, TRANSCRIPT, name="reunion.mp3")
    # When AssemblyAI calls while the server is full
    with capped.full():
        status, body = pipeline.webhook(transcript_id)
    # Then the answer is one AssemblyAI retries (5xx, not 4xx) and nothing moved
    assert status == 503, body
    assert body["code"] == "transient_error"
    assert [m["status"] for m in meetings(conn)] == ["submitted"]
    assert pipeline.receive() == []
    # When AssemblyAI's retry comes with the server free
    status, body = pipeline.webhook(transcript_id)
    # Then the acta is queued once, and the worker emails it once, paying OpenAI once
    assert (status, body["outcome"]) == (200, "queued")
    batch = pipeline.receive()
    assert len(batch) == 1
    assert pipeline.work(batch, release_failed=True) == []
    assert [m["status"] for m in meetings(conn)] == ["emailed"]
    assert _emails_to(RECIPIENT) == 1
    assert len(pipeline.openai.requests) == 1


def test_defect_12_worker_returns_the_message_while_full_and_the_redelivery_emails_once(
    pipeline: Chain, capped: CappedRole, conn: psycopg.Connection[Any]
) -> None:
    # Given a meeting whose acta is queued
    transcript_id = pipeline.drop(AUDIO, TRANSCRIPT, name="reunion.mp3")
    assert pipeline.webhook(transcript_id)[0] == 200
    batch = pipeline.receive()
    # When the worker gets it while the server is full
    with capped.full():
        failed = pipeline.work(batch, release_failed=True)
    # Then the message goes back to the queue, nothing was paid, the meeting waits
    assert failed == [batch[0]["MessageId"]]
    assert pipeline.openai.requests == []
    assert [m["status"] for m in meetings(conn)] == ["transcribed"]
    # When SQS delivers it again with the server free
    redelivered = pipeline.receive()
    assert [m["MessageId"] for m in redelivered] == [batch[0]["MessageId"]]
    assert pipeline.work(redelivered, release_failed=True) == []
    # Then one email, one paid generation, and nothing left on the queue
    assert [m["status"] for m in meetings(conn)] == ["emailed"]
    assert _emails_to(RECIPIENT) == 1
    assert len(pipeline.openai.requests) == 1
    assert pipeline.receive() == []


def test_defect_12_a_burst_over_the_cap_loses_no_meeting(
    pipeline: Chain, capped: CappedRole, conn: psycopg.Connection[Any]
) -> None:
    """Six environments at once against a cap of two: those refused are retried as
    their source retries them, and every meeting ends emailed once."""
    from voxcliente.adapters import db
    from voxcliente.domain.errors import TransientError

    recordings = 6

    def in_environments(calls: list[Any], *, retry: bool) -> None:
        """Each call in its own thread (an execution environment with its own
        connection), all released together; with ``retry``, a refused call is
        made again (Lambda's retry of an S3 event, AssemblyAI's of a webhook)."""
        barrier = threading.Barrier(len(calls))
        errors: list[BaseException] = []

        def until_accepted(call: Any) -> None:
            for _attempt in range(50):
                try:
                    if call() or not retry:
                        return
                except TransientError:
                    if not retry:
                        raise
                db.close_connection()  # the retry may land in another environment
            raise AssertionError("still refused after 50 attempts")

        def run(call: Any) -> None:
            try:
                barrier.wait()
                until_accepted(call)
            except BaseException as exc:  # re-raised in the test's thread
                errors.append(exc)
            finally:
                db.close_connection()

        threads = [threading.Thread(target=run, args=(call,)) for call in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors[0]

    # Given six recordings dropped at once
    dropped = [pipeline.put(f"reunion-{i}.mp3") for i in range(recordings)]
    # When S3 -> Submit, then AssemblyAI -> Webhook, then SQS -> Acta run concurrently
    in_environments([lambda e=e: pipeline.submit(e) for e in dropped], retry=True)
    ids = [str(m["assemblyai_transcript_id"]) for m in meetings(conn)]
    for transcript_id in ids:
        pipeline.assemblyai.wait(transcript_id)
    in_environments([lambda t=t: pipeline.webhook(t)[0] == 200 for t in ids], retry=True)
    # A refused message goes back to the queue (visible at once here) and comes again.
    for _round in range(50):
        batch = pipeline.receive()
        if not batch:
            break
        in_environments(
            [lambda m=m: pipeline.work([m], release_failed=True) for m in batch], retry=False
        )
    # Then every meeting is emailed once, with one paid generation each
    assert [m["status"] for m in meetings(conn)] == ["emailed"] * recordings
    assert _emails_to(RECIPIENT) == recordings
    assert len(pipeline.openai.requests) == recordings
    assert pipeline.receive() == []
    # And no connection of the role is left behind
    assert capped.connections() == 0
