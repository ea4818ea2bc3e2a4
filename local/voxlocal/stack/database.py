"""PostgreSQL for the local stack: ``DATABASE_URL``'s server or the embedded one, migrated."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from voxlocal import postgres
from voxlocal.stack.console import Progress
from voxlocal.stack.environment import ROOT

EMBEDDED_DATA_DIR = ROOT / ".local-data" / "postgres"


def start_database(
    stack: contextlib.ExitStack, progress: Progress, *, stop_embedded: bool = False
) -> str:
    """DATABASE_URL, or the embedded server (data kept in ``.local-data/postgres``);
    migrated either way. ``stop_embedded``: stop the embedded server when the stack
    closes (otherwise it stays up for the next run, which then starts in no time)."""
    import psycopg

    from voxcliente.adapters.migrations import apply_migrations

    with progress.stage("PostgreSQL"):
        data_dir = EMBEDDED_DATA_DIR
        data_dir.mkdir(parents=True, exist_ok=True)
        given = postgres.given_url()
        if stop_embedded and not given:
            # Registered first, so it runs after the server's handle is released.
            stack.callback(stop_embedded_server, data_dir)
        server = stack.enter_context(postgres.server_url(data_dir))
        database_url = server if given else postgres.ensure_database(server, "voxcliente")
        with psycopg.connect(database_url, autocommit=True) as conn:
            applied = apply_migrations(conn, ROOT / "sql")
    progress.note(
        ("DATABASE_URL" if given else "embedded server (.local-data/postgres)")
        + (f"; applied {len(applied)} migration(s)" if applied else "; schema up to date")
    )
    return database_url


def migrate(database_url: str) -> list[str]:
    """Apply ``sql/`` to a server the caller started (a test session's); the applied names."""
    import psycopg

    from voxcliente.adapters.migrations import apply_migrations

    with psycopg.connect(database_url, autocommit=True) as conn:
        return list(apply_migrations(conn, ROOT / "sql"))


def stop_embedded_server(data_dir: Path = EMBEDDED_DATA_DIR, timeout_s: float = 15.0) -> bool:
    """Stop the embedded server running on ``data_dir``, if any; True when one was stopped.

    Signals the postmaster named in ``postmaster.pid`` (SIGINT: PostgreSQL's fast
    shutdown, which ends the sessions and writes a checkpoint) and waits for it to
    go. It needs no PostgreSQL binary, so a server whose binaries went with a
    deleted virtualenv stops too.
    """
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text(encoding="utf-8").splitlines()[0])
    except (OSError, ValueError, IndexError):
        return False
    if not _is_postgres(pid):
        return False  # a stale file (a crash): the number may be another program's now
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _is_postgres(pid: int) -> bool:
    proc = Path("/proc") / str(pid)
    if not Path("/proc/self").exists():
        return True  # no procfs (macOS): trust the pid file PostgreSQL keeps
    try:
        return "postgres" in (proc / "comm").read_text(encoding="utf-8")
    except OSError:
        return False
