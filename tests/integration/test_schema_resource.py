"""The migrations custom resource answers CloudFormation in every case."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest

from voxcliente.adapters import db
from voxcliente.flows import migrate
from voxcliente.settings import reset_settings
from voxlocal import postgres

pytestmark = pytest.mark.integration

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


class CloudFormation:
    """A local listener standing in for the pre-signed ResponseURL."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        answers = self.answers

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers["Content-Length"])
                answers.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/response"


class Context:
    log_stream_name = "2026/11/26/[$LATEST]abc"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@pytest.fixture
def cfn() -> Iterator[CloudFormation]:
    listener = CloudFormation()
    yield listener
    listener.server.shutdown()


@pytest.fixture
def fresh_db(pg_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = postgres.recreate_database(pg_server, "voxcliente_resource_test")
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings()
    yield url
    db.close_connection()
    reset_settings()


def event(kind: str, url: str, version: int = 2, old: int | None = None) -> dict[str, Any]:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:migrate:{}"
    body: dict[str, Any] = {
        "RequestType": kind,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/vox/1",
        "RequestId": "req-1",
        "LogicalResourceId": "SchemaMigrations",
        "ResourceProperties": {"MigrationsVersion": arn.format(version)},
    }
    if old is not None:
        body["PhysicalResourceId"] = "voxcliente-schema-migrations"
        body["OldResourceProperties"] = {"MigrationsVersion": arn.format(old)}
    return body


def test_create_applies_and_update_applies_nothing_more(fresh_db: str, cfn: CloudFormation) -> None:
    migrate.handle(event("Create", cfn.url), Context(), SQL_DIR)
    migrate.handle(event("Update", cfn.url, version=3, old=2), Context(), SQL_DIR)
    created, updated = cfn.answers
    assert created["Status"] == "SUCCESS"
    assert created["Data"]["AppliedCount"] == str(len(list(SQL_DIR.glob("*.sql"))))
    assert updated["Status"] == "SUCCESS" and updated["Data"]["AppliedCount"] == "0"
    assert created["PhysicalResourceId"] == updated["PhysicalResourceId"]


def test_a_rollback_succeeds_without_touching_the_schema(
    fresh_db: str, cfn: CloudFormation
) -> None:
    migrate.handle(event("Update", cfn.url, version=2, old=5), Context(), SQL_DIR)
    [answer] = cfn.answers
    assert answer["Status"] == "SUCCESS" and "Rollback" in answer["Reason"]
    with psycopg.connect(fresh_db) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)


def test_a_failing_migration_fails_the_deploy_with_its_reason(
    fresh_db: str, cfn: CloudFormation, tmp_path: Path
) -> None:
    (tmp_path / "0001_broken.sql").write_text("CREATE TABLE t (id int); SELECT * FROM nowhere;")
    migrate.handle(event("Create", cfn.url), Context(), tmp_path)
    [answer] = cfn.answers
    assert answer["Status"] == "FAILED"
    assert "nowhere" in answer["Reason"] and "log stream" in answer["Reason"]


def test_an_unreachable_database_fails_the_deploy(
    cfn: CloudFormation, configure: Callable[..., None]
) -> None:
    configure(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", DB_CONNECT_TIMEOUT_S="1")
    migrate.handle(event("Create", cfn.url), Context(), SQL_DIR)
    [answer] = cfn.answers
    assert answer["Status"] == "FAILED" and "database" in answer["Reason"].lower()


def test_delete_keeps_the_data(fresh_db: str, cfn: CloudFormation) -> None:
    migrate.handle(event("Delete", cfn.url), Context(), SQL_DIR)
    assert cfn.answers[0]["Status"] == "SUCCESS"


def test_only_https_or_this_machine_may_receive_the_answer() -> None:
    with pytest.raises(ValueError, match="https"):
        migrate.put_response("http://example.com/x", {"Status": "SUCCESS"})
