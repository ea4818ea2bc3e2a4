"""Shared fixtures: a real PostgreSQL, moto for AWS, events from ``events/``.

PostgreSQL is the server named by ``DATABASE_URL`` when set (the tests create
and drop their own databases on it), otherwise a throwaway server this test
session starts from the ``pgserver`` wheel and stops at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Lambda's environment, as the template's Globals set it, before the layer is imported.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "voxcliente")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "VoxCliente")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")

import psycopg
import pytest
from psycopg.rows import dict_row

from voxcliente.adapters import db
from voxcliente.adapters.migrations import apply_migrations
from voxcliente.settings import reset_settings
from voxlocal import postgres
from voxlocal import stack as local_stack
from voxlocal.auth import DevIssuer

if TYPE_CHECKING:
    from harness import Chain

ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = ROOT / "sql"
EVENTS_DIR = ROOT / "events"
TEST_DB = "voxcliente_test"

# Tables the per-test cleanup empties (everything but the migration record).
_TABLES = (
    "meeting_events, usage_records, email_deliveries, actas, transcripts, meetings, "
    "uploads, clients, users, email_confirmations, erasures"
)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with postgres.server_url() as url:
        yield url


@pytest.fixture(scope="session")
def migrated_db_url(pg_server: str) -> str:
    url = postgres.recreate_database(pg_server, TEST_DB)
    with psycopg.connect(url, autocommit=True) as conn:
        apply_migrations(conn, SQL_DIR)
    return url


@pytest.fixture
def db_url(migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean, migrated database for this test, named by ``DATABASE_URL``."""
    with psycopg.connect(migrated_db_url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE")
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    monkeypatch.setenv("DB_SSLMODE", "disable")
    reset_settings()
    yield migrated_db_url
    db.close_connection()
    reset_settings()


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A separate connection for the test's own checks (autocommit, dict rows)."""
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as c:
        yield c


@pytest.fixture
def load_event() -> Callable[[str], dict[str, Any]]:
    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
        return data

    return load


@pytest.fixture(autouse=True)
def _aws_test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever reaches a real AWS account."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "voxcliente")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "VoxCliente")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


# --- AWS: moto's server on loopback -----------------------------------------------
# A real HTTP endpoint (not in-process patching) so that presigned URLs work for
# anything that fetches them, such as the AssemblyAI emulator. The resources are
# the template's, made by voxlocal.stack as for the demo. The doubles are strict
# (voxlocal.aws_doubles): a form POST to a bucket must satisfy its signed policy,
# and SES v2 refuses unverified senders and messages over 40 MB, in the server
# and under ``mock_aws`` alike.
TEST_CREDENTIALS = {"testing": "testing"}  # access key id -> secret, as set below


@dataclass
class AwsEnv:
    endpoint: str
    bucket: str
    queue_url: str
    s3: Any
    sqs: Any

    def queue_messages(self) -> list[dict[str, Any]]:
        """Receive (and delete) what is on the acta queue."""
        found: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not got:
                return found
            for message in got:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


SENDER = "actas@voxcliente.test"


def sent_emails() -> list[Any]:
    """What SES accepted, as moto's SES backend stores it (moto runs in this process)."""
    return local_stack.sent_messages()


@pytest.fixture(scope="session", autouse=True)
def _strict_ses() -> Iterator[None]:
    from voxlocal.aws_doubles import strict_ses

    with strict_ses():
        yield


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with contextlib.ExitStack() as stack:
        yield local_stack.start_moto(stack, TEST_CREDENTIALS)


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsEnv]:
    """A fresh moto account with the template's bucket and acta queue (and its
    dead-letter queue) and the verified sender, named in the settings."""
    import urllib.request

    import boto3

    from voxcliente.adapters import aws as vox_aws

    urllib.request.urlopen(
        urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    ).read()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    # SES only sends from a verified identity (moto enforces it too).
    created = local_stack.create_aws_resources(
        moto_endpoint, suffix="test", sender=SENDER, minimal=True
    )
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    monkeypatch.setenv("SES_FROM", f"VoxCliente <{SENDER}>")
    monkeypatch.setenv("AUDIO_BUCKET", created.bucket)
    monkeypatch.setenv("ACTA_QUEUE_URL", created.queue_url)
    vox_aws.reset_clients()
    reset_settings()
    yield AwsEnv(moto_endpoint, created.bucket, created.queue_url, s3, sqs)
    vox_aws.reset_clients()
    reset_settings()


# --- AssemblyAI and OpenAI: local servers speaking their HTTP APIs ------------------
WEBHOOK_URL = "https://api.voxcliente.test/webhooks/assemblyai"
WEBHOOK_SECRET = "test-webhook-secret-0123456789"


def _set_environment(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], **more: str
) -> None:
    """Set environment variables for this test and make the settings read them again."""
    for name, value in {**variables, **more}.items():
        monkeypatch.setenv(name, value)
    reset_settings()


@pytest.fixture
def assemblyai(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The AssemblyAI emulator, with the settings pointing at it."""
    from voxlocal.emulators.assemblyai_server import AssemblyAIEmulator

    with AssemblyAIEmulator(api_key="test-assemblyai-key") as emulator:
        _set_environment(
            monkeypatch,
            local_stack.provider_environment(assemblyai=emulator),
            ASSEMBLYAI_TIMEOUT_S="5",
            WEBHOOK_URL=WEBHOOK_URL,
            WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
        yield emulator
    reset_settings()


@pytest.fixture
def openai_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The OpenAI emulator, with the settings pointing at it."""
    from voxlocal.emulators.openai_server import OpenAIEmulator

    with OpenAIEmulator(api_key="test-openai-key") as emulator:
        _set_environment(
            monkeypatch,
            local_stack.provider_environment(openai=emulator),
            OPENAI_TIMEOUT_S="10",
            OPENAI_MAX_RETRIES="2",
        )
        yield emulator
    reset_settings()


def run_concurrently(call: Callable[[], Any], copies: int) -> list[Any]:
    """Run ``call`` in ``copies`` threads released at the same instant, like as many
    Lambda execution environments (each with its own database connection).

    Returns the results; re-raises the first exception any copy raised.
    """
    barrier = threading.Barrier(copies)
    results: list[Any] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            barrier.wait()
            results.append(call())
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)
        finally:
            db.close_connection()

    threads = [threading.Thread(target=one) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set environment variables for this test and make the settings read them again."""

    def apply(**variables: str) -> None:
        _set_environment(monkeypatch, variables)

    yield apply
    reset_settings()


@pytest.fixture
def chain(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    openai_api: Any,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Chain:
    """The whole chain on a clean database and fresh doubles (tests/harness.py), with
    retry pauses skipped."""
    import harness

    harness.no_backoff(monkeypatch)
    return harness.Chain(aws, assemblyai, openai_api, conn)


# --- Sign-in: a local OpenID issuer whose tokens the JWT authorizer checks ---------
@pytest.fixture(scope="session")
def dev_issuer() -> Iterator[DevIssuer]:
    """A started :class:`voxlocal.auth.DevIssuer` (RS256 key, JWKS on loopback) for the
    whole session; ``voxlocal.auth.signed_in_event(dev_issuer, ...)`` makes a request
    that went through the JWT authorizer with one of its tokens."""
    with DevIssuer() as issuer:
        yield issuer
