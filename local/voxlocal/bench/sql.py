"""SQL statements per meeting, counted by the server, and the webhook's requests per second.

How statements are counted: the bench starts its own embedded PostgreSQL
(:mod:`voxlocal.postgres`; ``DATABASE_URL`` is not used, its log is not ours to
read) with ``log_line_prefix = '%a|'`` and, on the bench database only,
``log_statement = 'all'``. The server then writes one ``LOG:  statement:`` (simple
protocol: ``BEGIN``, ``COMMIT``) or ``LOG:  execute`` (extended protocol: every
statement with parameters) line per statement it receives, prefixed with the
client's ``application_name`` (the functions connect as ``voxcliente``). Each
handler runs alone; the lines the log gained meanwhile are its statements. So a
statement the code sends is counted whether or not anyone expected it, and one it
does not send is not, whatever the code looks like.

A meeting is the path most meetings take, through each function's real Lambda
handler with the event AWS sends: Submit (S3 event) -> Webhook (AssemblyAI's
``completed``) -> Acta (the SQS message: transcript, acta, email) -> EmailEvents
(SES's Delivery). Every invocation comes after the connection sat idle (as in AWS,
where invocations of one function are seconds or minutes apart), so a connection
check made before use, if the code made one, would be counted.

The webhook's rate: its Lambda handler called in a loop on one thread, in process,
against the same PostgreSQL, each request a distinct submitted meeting whose
transcript completed (the queue is a stand-in that records the message: SQS's own
round trip is not ours). The floor is what any such request must at least cost: a
``SELECT 1`` and an ``INSERT`` on one connection opened as the functions open theirs.
The two take turns every 50 requests and a run's ratio is the floor's time over the
handler's for the same number of requests; the row gives the median of the runs'.
"""

from __future__ import annotations

import contextlib
import io
import re
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxlocal.bench.meetings import DATABASE, Stack, run_meeting, sample, stack
from voxlocal.bench.rows import Row

HANDLERS = ("Submit", "Webhook", "Acta", "EmailEvents")
GOAL_PER_MEETING = 25
GOAL_RATE_RATIO = 0.5

# "voxcliente|LOG:  statement: BEGIN" / "voxcliente|LOG:  execute <unnamed>: SELECT ..."
_STATEMENT = re.compile(r"^voxcliente\|LOG:  (?:statement|execute [^:]*): (.*)$")


@dataclass
class Statements:
    """What one handler sent: every statement, and how many were transaction brackets
    (``BEGIN``/``COMMIT``/``ROLLBACK``) or connection checks (``SELECT 1``)."""

    total: int = 0
    brackets: int = 0
    pings: int = 0
    texts: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.total += 1
        word = text.strip().upper()
        if word in ("BEGIN", "COMMIT", "ROLLBACK"):
            self.brackets += 1
        elif word == "SELECT 1":
            self.pings += 1
        self.texts.append(text.strip())


class ServerLog:
    """The embedded server's log, read from where the last read stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size

    def skip(self) -> None:
        self.offset = self.path.stat().st_size

    def statements(self) -> Statements:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            data = log.read()
        self.offset += len(data)
        found = Statements()
        for line in data.decode("utf-8", "replace").splitlines():
            match = _STATEMENT.match(line)
            if match:
                found.add(match.group(1))
        return found


@contextlib.contextmanager
def statements_logged(bench: Stack) -> Iterator[ServerLog]:
    """The server logs every statement of the bench database (new connections on)."""
    import psycopg
    from psycopg import sql

    from voxcliente.adapters import db

    database = sql.Identifier(DATABASE)
    with psycopg.connect(bench.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} SET log_statement = 'all'").format(database))
    db.close_connection()
    try:
        yield ServerLog(bench.log_path)
    finally:
        with psycopg.connect(bench.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} RESET log_statement").format(database))
        db.close_connection()


def count_statements(bench: Stack, *, name: str = "reunion.mp3") -> dict[str, Statements]:
    """Each handler's statements for one meeting of the shipped sample."""
    counted: dict[str, Statements] = {}
    with statements_logged(bench) as log:
        audio, transcript = sample()
        status = run_meeting(bench, audio, transcript, name=name, around=_counting(log, counted))
    if status != "emailed":
        raise RuntimeError(f"the bench meeting ended {status!r}, not emailed")
    return counted


def _counting(
    log: ServerLog, counted: dict[str, Statements]
) -> Callable[[str, Callable[[], Any]], Any]:

    def around(handler: str, call: Callable[[], Any]) -> Any:
        time.sleep(0.01)  # every invocation finds its connection idle
        log.skip()
        try:
            return call()
        finally:
            counted[handler] = log.statements()

    return around


# --- the webhook's rate ------------------------------------------------------------------
CHUNK = 50  # requests in a row before the other side's turn


@dataclass
class Rate:
    """One run: the handler's and the floor's requests per second, the handler's p99, and
    their ratio over the same stretch of time (floor time / handler time)."""

    handler: float
    floor: float
    p99_ms: float
    ratio: float


def webhook_rate(bench: Stack, requests: int) -> Rate:
    """The handler and its floor over ``requests`` distinct meetings each, taking turns
    every :data:`CHUNK` requests: on a shared machine whose load comes in bursts, a
    burst then slows both sides alike instead of one of them (a run of 400 handler
    requests then 400 floor ones swung the ratio by 0.2 between runs)."""
    import psycopg

    from voxcliente.adapters import assemblyai, db, sqs
    from voxcliente.settings import get_settings
    from voxlocal import events
    from voxlocal.functions import load_function

    settings = get_settings()
    run = secrets.token_hex(4)
    with psycopg.connect(bench.database_url, autocommit=True) as conn:
        rows = conn.execute(
            """
            INSERT INTO meetings (s3_bucket, s3_key, s3_version_id, original_filename,
                                  recipient_email, status, submitted_at, assemblyai_transcript_id)
            SELECT 'b', 'inbox/rate/' || %s || '/' || g, '', 'r.mp3', 'a@example.com',
                   'submitted', now(), 'rate-' || %s || '-' || g
            FROM generate_series(1, %s) g
            RETURNING id, assemblyai_transcript_id
            """,
            (run, run, requests),
        ).fetchall()
    secret = {settings.webhook_auth_header: settings.get_webhook_secret()}
    hooks = [
        events.webhook_request_event(
            assemblyai.webhook_url_for(mid, settings),
            secret,
            {"transcript_id": tid, "status": "completed"},
        )
        for mid, tid in rows
    ]
    handler = load_function("webhook").lambda_handler
    context = events.LambdaContext("Webhook")
    queued: list[Any] = []
    times: list[float] = []
    real_enqueue = sqs.enqueue

    def enqueue(meeting_id: Any, kind: Any, **_: Any) -> str:
        queued.append((meeting_id, kind))
        return "bench"

    floor_conn = db.connect()
    handler_s = floor_s = 0.0
    sqs.enqueue = enqueue
    try:
        # Metrics, if on, are EMF lines on stdout; the bench prints only its table.
        with contextlib.redirect_stdout(io.StringIO()):
            for first in range(0, requests, CHUNK):
                started = time.perf_counter()
                for hook in hooks[first : first + CHUNK]:
                    t0 = time.perf_counter()
                    reply = handler(hook, context)
                    times.append(time.perf_counter() - t0)
                    if reply["statusCode"] != 200:
                        raise RuntimeError(
                            f"webhook answered {reply['statusCode']}: {reply['body']}"
                        )
                handler_s += time.perf_counter() - started
                floor_s += floor_time(floor_conn, first, len(hooks[first : first + CHUNK]))
    finally:
        sqs.enqueue = real_enqueue
        floor_conn.close()
    if len(queued) != requests:
        raise RuntimeError(f"{len(queued)} actas queued for {requests} webhooks")
    return Rate(requests / handler_s, requests / floor_s, _p99(times) * 1000, floor_s / handler_s)


def floor_time(conn: Any, first: int, requests: int) -> float:
    """Seconds for ``requests`` floor requests: ``SELECT 1`` then one ``INSERT`` each, on
    one connection set up as the functions' (:func:`voxcliente.adapters.db.connect`:
    autocommit, no prepared statements, the same TLS and statement timeout)."""
    started = time.perf_counter()
    for i in range(first, first + requests):
        conn.execute("SELECT 1")
        conn.execute(
            "INSERT INTO meeting_events (meeting_id, to_status, event) "
            "SELECT id, 'submitted', %s FROM meetings LIMIT 1",
            (f"floor-{i}",),
        )
    return time.perf_counter() - started


def _p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


# --- the table's rows --------------------------------------------------------------------
def measure(runs: int = 5) -> list[Row]:
    """The SQL rows of ``make bench``: statements per handler and per meeting (one
    meeting: the count does not vary), and the webhook's rate (median of ``runs``)."""
    with stack() as bench:
        counted = count_statements(bench)
        rates = [webhook_rate(bench, 400) for _ in range(max(runs, 1))]
    return [*statement_rows(counted), rate_row(rates)]


def statement_rows(counted: dict[str, Statements]) -> list[Row]:
    per = " / ".join(f"{h} {counted[h].total}" for h in HANDLERS if h in counted)
    total = sum(s.total for s in counted.values())
    brackets = sum(s.brackets for s in counted.values())
    pings = sum(s.pings for s in counted.values())
    return [
        Row(
            figure="SQL statements per meeting (counted by the server)",
            now=f"{total} ({per})",
            floor="-",
            goal=f"<= {GOAL_PER_MEETING}, no idle ping",
            met=total <= GOAL_PER_MEETING and pings == 0,
            note=f"{brackets} BEGIN/COMMIT, {pings} connection checks"
            + ("" if total <= GOAL_PER_MEETING else f"; {total - GOAL_PER_MEETING} over"),
        )
    ]


def rate_row(rates: list[Rate]) -> Row:
    rate = statistics.median(r.handler for r in rates)
    floor = statistics.median(r.floor for r in rates)
    p99 = statistics.median(r.p99_ms for r in rates)
    ratio = statistics.median(r.ratio for r in rates)
    low, high = min(r.ratio for r in rates), max(r.ratio for r in rates)
    return Row(
        figure="webhook, in-process, real PostgreSQL, 1 thread",
        now=f"{rate:,.0f} req/s (p99 {p99:.1f} ms)",
        floor=f"SELECT 1 + INSERT: {floor:,.0f} req/s",
        goal=f">= {GOAL_RATE_RATIO}x floor",
        met=ratio >= GOAL_RATE_RATIO,
        note=f"{ratio:.2f}x floor [{low:.2f}-{high:.2f}], median of {len(rates)} runs' ratios"
        f" (400 requests each, taking turns with the floor every {CHUNK})",
    )


def main() -> None:
    with stack() as bench:
        counted = count_statements(bench)
        rates = [webhook_rate(bench, 400) for _ in range(3)]
    for handler, found in counted.items():
        print(f"{handler}: {found.total} ({found.brackets} BEGIN/COMMIT, {found.pings} pings)")
        for text in found.texts:
            print("    " + " ".join(text.split())[:150])
    for row in [*statement_rows(counted), rate_row(rates)]:
        print(row)


if __name__ == "__main__":
    main()
