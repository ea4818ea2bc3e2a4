"""PostgreSQL access with psycopg 3: one connection per execution environment.

Lambda runs one invocation at a time per execution environment, so a single
connection, opened on first use and kept across warm invocations, is all a
function needs (and all the database should have to hold for it). It is
thread-local so that tests may play two environments from two threads.

* ``prepare_threshold=None``: no server-side prepared statements, which RDS
  Proxy would otherwise pin the session for.
* TLS mode (and the RDS CA bundle) and a statement timeout come from settings.
* A connection the server dropped (idle timeout, failover, proxy recycling) is
  noticed without a round trip: a server that ends a session says so on the
  socket, which is read (not waited for) before the connection is handed out;
  and a transaction whose ``BEGIN`` fails on a connection kept from an earlier
  invocation is begun again, once, on a new one (nothing had been sent yet).
  Anything lost later surfaces as :class:`TransientError` for the caller's retry.
* :func:`session` runs statements in autocommit, one transaction each, where one
  statement is the whole change (no ``BEGIN``/``COMMIT`` round trips);
  :func:`transaction` brackets several that must commit together.
* A server with no free connection (SQLSTATE 53300: ``max_connections``, the
  reserved slots, or a role's ``CONNECTION LIMIT``) or one that does not answer
  within ``DB_CONNECT_TIMEOUT_S`` sheds the invocation with
  :class:`TransientError`: the webhook answers 503 (AssemblyAI retries), Submit
  raises (Lambda retries the S3 event), the worker's message returns to the
  queue. Nothing is recorded as failed for it. How many connections exist at
  most is set by each function's reserved concurrency (template.yaml).
"""

from __future__ import annotations

import json
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import set_json_dumps, set_json_loads

from voxcliente.domain.errors import TransientError
from voxcliente.observability import logger
from voxcliente.settings import Settings, get_settings

Connection = psycopg.Connection[DictRow]

_local = threading.local()


def connect(settings: Settings | None = None) -> Connection:
    """Open a new autocommit connection configured from settings."""
    cfg = settings or get_settings()
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "prepare_threshold": None,
        "row_factory": dict_row,
        "connect_timeout": cfg.db_connect_timeout_s,
        "sslmode": cfg.db_sslmode,
        "options": f"-c statement_timeout={cfg.db_statement_timeout_ms}",
        "application_name": "voxcliente",
    }
    if cfg.db_sslrootcert:
        kwargs["sslrootcert"] = cfg.db_sslrootcert
    try:
        try:
            conn = psycopg.connect(cfg.get_database_conninfo(), **kwargs)
        except psycopg.OperationalError as exc:
            if not cfg.db_secret_id or "password authentication failed" not in str(exc):
                raise
            # RDS rotated the password since the secret was cached: read it again once.
            logger.info("database password refused; re-reading the secret")
            conn = psycopg.connect(cfg.get_database_conninfo(refresh=True), **kwargs)
    except psycopg.OperationalError as exc:
        raise connect_error(exc, cfg.db_connect_timeout_s) from exc
    set_json_dumps(dump_json, conn)
    set_json_loads(load_json, conn)
    return conn


# JSON and JSONB values are written and read with orjson on our connections: a
# 10-hour transcript's utterances are some 1 MB of JSON, which json.dumps wrote in
# 11 ms and orjson writes in 1. What orjson does not write as json.dumps would is
# left to json.dumps (so it succeeds, or fails, as before): a type it would
# serialise by itself where json refuses (datetime, dataclass, a subclass of str,
# int, dict or list) reaches ``default`` and is handed back; a key that is not a
# string, an integer beyond 64 bits, a cycle raise orjson's TypeError. Two
# values still differ, both ones PostgreSQL refused before: NaN and infinity
# (json.dumps wrote NaN, which jsonb rejects; orjson writes null) and a UUID or
# plain Enum (json.dumps refused them; orjson writes their value). The text may
# differ (orjson writes UTF-8 where json escapes, ``1e-05`` as ``1e-5``): jsonb
# keeps the same value. orjson is imported on the first JSON value, not at the
# connection: cold starts that write none do not load it.
def dump_json(value: Any) -> str | bytes:
    """A value as JSON for a parameter: orjson, or json for what orjson would not
    write as it does (see above)."""
    import orjson

    try:
        return orjson.dumps(
            value,
            option=orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_PASSTHROUGH_SUBCLASS,
            default=_not_orjson,
        )
    except TypeError:
        return json.dumps(value)


def load_json(data: str | bytes) -> Any:
    """A JSON column's value: orjson, or json for what orjson refuses (NaN, lone
    surrogates). An integer beyond 64 bits, which jsonb may hold, becomes the
    nearest float with orjson: nothing we store comes near one."""
    import orjson

    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def _not_orjson(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is left to json.dumps")


# SQLSTATE 53300 (too_many_connections) as the server words it: max_connections
# reached, the last slots reserved (superuser_reserved_connections, and on RDS
# the rds_reserved role), a role's or a database's CONNECTION LIMIT. A refusal
# during the connection start-up reaches libpq as text only: psycopg's
# OperationalError then has no ``sqlstate`` (PostgreSQL's postinit.c and
# proc.c hold these messages).
_SERVER_FULL = (
    "too many clients already",
    "too many connections for",
    "remaining connection slots are reserved",
)


def server_full(exc: BaseException) -> bool:
    """Whether the server refused a connection because it had none free."""
    if getattr(exc, "sqlstate", None) == "53300":
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _SERVER_FULL)


def connect_error(exc: psycopg.OperationalError, timeout_s: float) -> TransientError:
    """The domain error for a connection that could not be opened: always transient.

    A full server or a connect timeout is load to shed (the caller's retry comes
    later), logged as a warning; anything else (DNS, network, credentials being
    rotated) is logged with its traceback.
    """
    if server_full(exc):
        logger.warning(
            "database has no free connection; shedding this invocation to a retry",
            extra={"db_error": str(exc).strip().splitlines()[-1]},
        )
        return TransientError(
            "The database has no free connection right now (too many connections); "
            "retry later. Lower the functions' reserved concurrency or use RDS Proxy "
            "if this persists."
        )
    if isinstance(exc, psycopg.errors.ConnectionTimeout):
        logger.warning(
            "database connection timed out; shedding this invocation to a retry",
            extra={"connect_timeout_s": timeout_s},
        )
        return TransientError(
            f"The database did not accept a connection within {timeout_s:g} s; retry later."
        )
    logger.exception("database connection failed")
    return TransientError("The database could not be reached.")


def _ended_by_server(conn: Connection) -> bool:
    """Whether the server ended this idle session (or the socket is gone), read from
    what is already on the socket: no round trip. An idle session is sent nothing
    (the functions never LISTEN) unless the server is closing it: a FATAL notice
    such as "terminating connection due to administrator command", then end of
    file. Anything waiting there counts as the end; at worst a reconnect."""
    if conn.closed or conn.broken:
        return True
    try:
        # poll, not select: select refuses descriptors past FD_SETSIZE (1024).
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def get_connection() -> Connection:
    """The connection of this execution environment, opened or reopened as needed."""
    conn: Connection | None = getattr(_local, "conn", None)
    if conn is not None and _ended_by_server(conn):
        logger.info("database connection lost; reconnecting")
        close_connection()
        conn = None
    _local.opened_now = conn is None
    if conn is None:
        conn = connect()
        _local.conn = conn
    return conn


def close_connection() -> None:
    """Close this environment's connection (tests; the next use reopens it)."""
    conn: Connection | None = getattr(_local, "conn", None)
    _local.conn = None
    if conn is not None and not conn.closed:
        try:
            conn.close()
        except psycopg.Error:  # already gone: nothing to release
            logger.debug("closing a dead connection failed")


def _unavailable(exc: psycopg.OperationalError) -> TransientError:
    logger.exception("database operation failed")
    close_connection()
    return TransientError("The database is unavailable right now.")


def _begun(conn: Connection) -> Any:
    """``conn.transaction()`` entered (``BEGIN`` sent). A kept connection that fails
    to begin is replaced once: the server never saw anything of this transaction."""
    tx = conn.transaction()
    try:
        tx.__enter__()
    except psycopg.OperationalError:
        if getattr(_local, "opened_now", False) or not conn.broken:
            raise
        logger.info("database connection lost before BEGIN; reconnecting")
        close_connection()
        conn = get_connection()
        tx = conn.transaction()
        tx.__enter__()
    return conn, tx


@contextmanager
def transaction() -> Iterator[Connection]:
    """A transaction on this environment's connection: commit on success, roll back on error.

    A connection failure surfaces as :class:`TransientError` so that callers
    (the webhook's 5xx, Lambda's retry) treat it as worth retrying.
    """
    try:
        conn, tx = _begun(get_connection())
    except psycopg.OperationalError as exc:
        raise _unavailable(exc) from exc
    try:
        yield conn
    except BaseException as error:
        try:
            if tx.__exit__(type(error), error, error.__traceback__):
                return  # psycopg.Rollback: rolled back on purpose
        except psycopg.OperationalError as exc:
            raise _unavailable(exc) from error
        if isinstance(error, psycopg.OperationalError):
            raise _unavailable(error) from error
        raise
    try:
        tx.__exit__(None, None, None)
    except psycopg.OperationalError as exc:
        raise _unavailable(exc) from exc


@contextmanager
def session() -> Iterator[Connection]:
    """This environment's connection in autocommit: each statement its own transaction.

    For a block whose one write is a single statement (or that only reads), so that
    no ``BEGIN``/``COMMIT`` pair is sent around it. Connection failures surface as
    :class:`TransientError`, as in :func:`transaction`.
    """
    conn = get_connection()
    try:
        yield conn
    except psycopg.OperationalError as exc:
        raise _unavailable(exc) from exc


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def transaction_retried[T](
    work: Callable[[Connection], T],
    *,
    tries: int = 3,
    pause_s: float = 0.2,
    what: str,
    single_statement: bool = False,
) -> T:
    """``work(tx)`` in a transaction, retried on a new connection when the database is
    lost (``TransientError``): for a commit that must not be lost after something was
    paid for or sent (an acta written, an email SES accepted). Raises the last error.

    ``single_statement``: ``work`` sends one statement, which autocommit makes its own
    transaction (:func:`session`), without a ``BEGIN``/``COMMIT`` pair around it."""
    for attempt in range(1, tries + 1):
        try:
            with session() if single_statement else transaction() as tx:
                return work(tx)
        except TransientError:
            logger.warning(f"{what} failed; retrying", extra={"try": attempt})
            if attempt == tries:
                raise
            close_connection()
            _pause(pause_s * attempt)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
