"""How the repository turns result rows into domain models.

The connection hands out dict rows (:mod:`voxcliente.adapters.db`); these
helpers run one statement on a cursor whose row factory builds each row as
``Model(**columns)`` from the columns the model names (a ``RETURNING *`` or a
join may carry more). psycopg already gives the columns their Python types;
the models convert what is left (a JSON list of utterances becomes
``Utterance`` objects).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, LiteralString

from psycopg import sql
from psycopg.abc import Params

from voxcliente.adapters.db import Connection
from voxcliente.domain.models import Row

if TYPE_CHECKING:
    from psycopg import Cursor
    from psycopg.rows import RowMaker

# A literal statement, or one composed with psycopg.sql (quoted column names).
type Query = LiteralString | sql.SQL | sql.Composed


def model_row[M: Row](model: type[M]) -> Callable[[Cursor[Any]], RowMaker[M]]:
    """psycopg's ``class_row(model)``, keeping only the columns ``model`` names."""
    known = model.field_names()

    def for_cursor(cursor: Cursor[Any]) -> RowMaker[M]:
        description = cursor.description or ()
        columns = [(i, c.name) for i, c in enumerate(description) if c.name in known]

        def make(values: Sequence[Any]) -> M:
            return model(**{name: values[i] for i, name in columns})

        return make

    return for_cursor


def fetch_optional[M: Row](
    conn: Connection, model: type[M], query: Query, params: Params | None = None
) -> M | None:
    """The statement's first row as ``model``, or None when it returned no row."""
    with conn.cursor(row_factory=model_row(model)) as cur:
        return cur.execute(query, params).fetchone()


def fetch_required[M: Row](
    conn: Connection, model: type[M], query: Query, params: Params | None = None
) -> M:
    """The row a statement must return (an upsert's ``RETURNING``, a row known to exist)."""
    row = fetch_optional(conn, model, query, params)
    if row is None:
        raise LookupError(
            f"expected a {model.__name__} row but the statement returned none: "
            "the row it names does not exist (deleted, or a wrong id)"
        )
    return row


def fetch_all[M: Row](
    conn: Connection, model: type[M], query: Query, params: Params | None = None
) -> list[M]:
    """Every row of the statement as ``model``, in the order the query gives."""
    with conn.cursor(row_factory=model_row(model)) as cur:
        return cur.execute(query, params).fetchall()


def upsert[M: Row](
    conn: Connection,
    model: type[M],
    table: LiteralString,
    values: Mapping[LiteralString, Any],
    *,
    key: tuple[LiteralString, ...],
    update: Iterable[LiteralString] | None = None,
) -> M:
    """Insert a row, or on a ``key`` conflict overwrite its ``update`` columns; the row after.

    ``update`` is every column of ``values`` outside the key unless named: a retried
    step then leaves the row a first success would have. Each column is named once,
    here, instead of three times (column list, placeholders, ``EXCLUDED``) per statement.
    """
    columns = list(values)
    changed = [c for c in columns if c not in key] if update is None else list(update)
    query = sql.SQL(
        "INSERT INTO {table} ({columns}) VALUES ({values}) "
        "ON CONFLICT ({key}) DO UPDATE SET {changes} RETURNING *"
    ).format(
        table=sql.Identifier(table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(map(sql.Placeholder, columns)),
        key=sql.SQL(", ").join(map(sql.Identifier, key)),
        changes=sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in changed
        ),
    )
    return fetch_required(conn, model, query, dict(values))
