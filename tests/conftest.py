"""Shared fixtures: a real PostgreSQL, moto for AWS, events from ``events/``.

PostgreSQL is the server named by ``DATABASE_URL`` when set (the tests create
and drop their own databases on it), otherwise a throwaway server this test
session starts from the ``pgserver`` wheel and stops at the end.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from voxlocal import postgres

from voxcliente import db
from voxcliente.migrate import apply_migrations
from voxcliente.settings import reset_settings

ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = ROOT / "sql"
EVENTS_DIR = ROOT / "events"
TEST_DB = "voxcliente_test"

# Tables the per-test cleanup empties (everything but the migration record).
_TABLES = (
    "meeting_events, usage_records, email_deliveries, actas, transcripts, meetings, "
    "uploads, clients, users"
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


def load_function(name: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` under a unique module name (every function has an app.py)."""
    path = ROOT / "functions" / name / "app.py"
    module_name = f"vox_fn_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


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
    os.environ.pop("AWS_ENDPOINT_URL", None)
