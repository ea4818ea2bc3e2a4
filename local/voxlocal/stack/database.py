"""PostgreSQL for the local stack: ``DATABASE_URL``'s server or the embedded one, migrated."""

from __future__ import annotations

import contextlib

from voxlocal import postgres
from voxlocal.stack.console import Progress
from voxlocal.stack.environment import ROOT


def start_database(stack: contextlib.ExitStack, progress: Progress) -> str:
    """DATABASE_URL, or the embedded server (data kept in ``.local-data/postgres``);
    migrated either way."""
    import psycopg

    from voxcliente.adapters.migrations import apply_migrations

    with progress.stage("PostgreSQL"):
        data_dir = ROOT / ".local-data" / "postgres"
        data_dir.mkdir(parents=True, exist_ok=True)
        server = stack.enter_context(postgres.server_url(data_dir))
        given = postgres.given_url()
        database_url = server if given else postgres.ensure_database(server, "voxcliente")
        with psycopg.connect(database_url, autocommit=True) as conn:
            applied = apply_migrations(conn, ROOT / "sql")
    progress.note(
        ("DATABASE_URL" if given else "embedded server (.local-data/postgres)")
        + (f"; applied {len(applied)} migration(s)" if applied else "; schema up to date")
    )
    return database_url
