"""Apply the numbered plain-SQL migrations in ``sql/``.

Each file ``NNNN_name.sql`` runs once, in its own transaction, and is recorded
in ``schema_migrations`` with its SHA-256. A file already applied whose content
changed is refused (write a new migration instead). A transaction-level
advisory lock serialises concurrent runners (two deploys, a deploy and a test),
and a second run applies nothing.

A small runner rather than a library: the maintained tools that take plain SQL
files either do not speak psycopg 3 or do not refuse an edited migration.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from voxcliente.domain.errors import VoxError

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any fixed 64-bit number: the lock is only about this runner.
_LOCK_ID = 0x766F78636C69656E  # "voxclien"


class MigrationError(VoxError):
    code = "migration_error"


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str
    checksum: str


def load_migrations(directory: Path) -> list[Migration]:
    """The migrations in a directory, in order, with their checksums."""
    if not directory.is_dir():
        raise MigrationError(f"The migrations directory {directory} does not exist.")
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(
                f"{path.name}: migration files are named NNNN_lowercase_words.sql."
            )
        sql = path.read_text(encoding="utf-8")
        found.append(
            Migration(
                version=match.group(1),
                name=path.name,
                sql=sql,
                checksum=hashlib.sha256(sql.encode("utf-8")).hexdigest(),
            )
        )
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"Two migration files share a number in {directory}.")
    return found


def apply_migrations(conn: psycopg.Connection[Any], directory: Path) -> list[str]:
    """Apply what is not applied yet; return the names of the files applied now."""
    migrations = load_migrations(directory)
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    text PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        with conn.cursor(row_factory=tuple_row) as cur:
            rows = cur.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
        done = {str(r[0]): (str(r[1]), str(r[2])) for r in rows}
        for migration in migrations:
            previous = done.get(migration.version)
            if previous is not None:
                if previous[1] != migration.checksum:
                    raise MigrationError(
                        f"{migration.name} was changed after it was applied (as {previous[0]}). "
                        "Applied migrations are never edited: put the change in a new file."
                    )
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode("utf-8"))
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            applied_now.append(migration.name)
    return applied_now
