"""Migrations and the per-environment connection, against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from voxcliente.adapters import db
from voxcliente.adapters.migrations import MigrationError, apply_migrations
from voxlocal import postgres

pytestmark = pytest.mark.integration

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@pytest.fixture
def empty_db(pg_server: str) -> str:
    return postgres.recreate_database(pg_server, "voxcliente_migrations_test")


def _schema_snapshot(url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY 1, 2"
        ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def test_migrations_apply_once_and_then_change_nothing(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        first = apply_migrations(conn, SQL_DIR)
    before = _schema_snapshot(empty_db)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        second = apply_migrations(conn, SQL_DIR)
        recorded = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert first == sorted(p.name for p in SQL_DIR.glob("*.sql"))
    assert second == []
    assert _schema_snapshot(empty_db) == before
    assert recorded is not None and recorded[0] == len(first)


def test_an_edited_applied_migration_is_refused(empty_db: str, tmp_path: Path) -> None:
    for path in SQL_DIR.glob("*.sql"):
        (tmp_path / path.name).write_text(path.read_text())
    with psycopg.connect(empty_db, autocommit=True) as conn:
        apply_migrations(conn, tmp_path)
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with (
        psycopg.connect(empty_db, autocommit=True) as conn,
        pytest.raises(MigrationError, match="changed after it was applied"),
    ):
        apply_migrations(conn, tmp_path)


def test_a_failing_migration_leaves_nothing_half_applied(empty_db: str, tmp_path: Path) -> None:
    (tmp_path / "0001_good.sql").write_text("CREATE TABLE good (id int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE bad (id int); SELECT * FROM nowhere;")
    with psycopg.connect(empty_db, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable):
            apply_migrations(conn, tmp_path)
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    # The whole run is one transaction: nothing of it stays.
    assert tables == []


def test_a_dropped_connection_is_reopened_on_next_use(db_url: str) -> None:
    first = db.get_connection()
    pid = first.info.backend_pid
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with db.transaction() as tx:
        row = tx.execute("SELECT pg_backend_pid() AS pid").fetchone()
    assert row is not None and row["pid"] != pid


def test_a_session_the_server_ended_while_idle_is_replaced_without_a_ping(db_url: str) -> None:
    """The server's goodbye is read from the socket: the statement runs on a new
    connection, and nothing was sent on the old one first."""
    import time

    with db.session() as conn:
        pid = conn.info.backend_pid
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(100):  # the backend says goodbye as it exits
            gone = admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))
            if gone.fetchone() is None:
                break
            time.sleep(0.01)
    with db.session() as conn:
        row = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()
    assert row is not None and row["pid"] != pid


def test_connection_is_reused_across_invocations(db_url: str) -> None:
    assert db.get_connection() is db.get_connection()


def test_connection_settings_suit_rds_proxy(db_url: str, configure: Callable[..., None]) -> None:
    configure(DB_STATEMENT_TIMEOUT_MS="1234")
    db.close_connection()
    conn = db.get_connection()
    assert conn.prepare_threshold is None
    row = conn.execute("SHOW statement_timeout").fetchone()
    assert row is not None and row["statement_timeout"] == "1234ms"
