"""A real PostgreSQL for tests and the demo when ``DATABASE_URL`` is not set.

The server comes from the ``pgserver`` package (PostgreSQL binaries shipped in
a wheel), so nothing has to be installed by hand. It listens on a Unix socket
in a private directory and handles being started as root (it runs the server
as an unprivileged user itself, since ``initdb`` refuses root).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql


def given_url() -> str | None:
    """The server named by ``DATABASE_URL``, if any."""
    return os.environ.get("DATABASE_URL") or None


def _running(data_dir: Path) -> bool:
    """Whether a server already runs on ``data_dir`` (its postmaster is alive)."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text(encoding="utf-8").splitlines()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


@contextmanager
def server_url(data_dir: Path | None = None, *, stop_after: bool = False) -> Iterator[str]:
    """Yield the URL of a PostgreSQL server: ``DATABASE_URL`` or an embedded one.

    Without ``data_dir`` the server is a throwaway (stopped and deleted at the end).
    With one, its data stays; ``stop_after`` stops the server at the end if this
    call started it (one another run started, such as ``make up``'s, is left alone).
    """
    given = given_url()
    if given:
        yield given
        return
    # A short path: Unix socket paths are limited to about 100 characters.
    base = data_dir or Path(tempfile.mkdtemp(prefix="voxpg-"))
    if (base / "PG_VERSION").exists():
        # A data directory kept between runs: PostgreSQL refuses to start on one
        # others can read ("Permissions should be u=rwx (0700)").
        os.chmod(base, 0o700)
    else:
        # The server may run as an unprivileged user (pgserver does so under root);
        # initdb narrows the directory to 0700 once it owns it.
        os.chmod(base, 0o777)  # noqa: S103 - a private directory, not yet a cluster
    if data_dir is None:
        cleanup: str | None = "delete"
    else:
        cleanup = "stop" if stop_after and not _running(base) else None
    with warnings.catch_warnings():
        # pgserver asks platformdirs for a runtime directory it does not need here.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver

        server: Any = pgserver.get_server(str(base), cleanup_mode=cleanup)
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


def database_url(server: str, dbname: str) -> str:
    """The same server, another database."""
    return str(psycopg.conninfo.make_conninfo(server, dbname=dbname))


def recreate_database(server: str, dbname: str) -> str:
    """Drop and create ``dbname`` on the server; return its URL."""
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return database_url(server, dbname)


def ensure_database(server: str, dbname: str) -> str:
    """Create ``dbname`` if it does not exist; return its URL."""
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return database_url(server, dbname)
