"""``make migrate``: apply ``sql/`` to ``DATABASE_URL``, or to the project's local server.

Without ``DATABASE_URL`` the local server keeps its data in ``.local-data/postgres``
(the same one ``make demo`` uses), so a second run is a no-op.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg

from voxcliente.adapters.migrations import MigrationError, apply_migrations
from voxlocal import postgres

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sql-dir", type=Path, default=ROOT / "sql")
    args = parser.parse_args(argv)
    data_dir = ROOT / ".local-data" / "postgres"
    data_dir.mkdir(parents=True, exist_ok=True)
    with postgres.server_url(data_dir, stop_after=True) as server:
        given = postgres.given_url()
        url = server if given else postgres.ensure_database(server, "voxcliente")
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                applied = apply_migrations(conn, args.sql_dir)
        except MigrationError as exc:
            print(f"migrate: {exc}", file=sys.stderr)
            return 1
        except psycopg.OperationalError as exc:
            print(f"migrate: cannot connect to the database: {exc}", file=sys.stderr)
            return 1
    if applied:
        print(f"migrate: applied {len(applied)} migration(s): {', '.join(applied)}")
    else:
        print("migrate: the schema is up to date; nothing to apply")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
