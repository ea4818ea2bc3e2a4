"""``make load``: many meetings at once through the real handlers, on a capped database.

    python scripts/load.py [--meetings 200] [--cap 20] [--submit-workers N]
                           [--webhook-workers N] [--acta-workers N]

What it runs, all on this machine (the local stack ``make demo`` runs, voxlocal.stack):
PostgreSQL (``DATABASE_URL``'s server, or a throwaway embedded one) where the
functions connect as a role with ``CONNECTION LIMIT --cap``; moto for S3, SQS
and SES; the AssemblyAI and OpenAI emulators. The meetings' audio is tiny and
registered with the AssemblyAI emulator.

The stages run one after the other, each by a pool of worker threads standing
for the function's execution environments (one database connection each), as
many as its share in ``template.yaml`` (``SubmitReservedConcurrency``,
``WebhookReservedConcurrency``, ``ActaMaxConcurrency``) unless given:

1. every recording is put in the bucket, then its S3 event goes to Submit;
   a failed invocation is retried twice more, as Lambda does for an S3 event
   (``MaximumRetryAttempts: 2``), then counted as sent to the failure queue;
2. AssemblyAI's webhook request for each transcript goes to Webhook; a 5xx is
   retried up to AssemblyAI's 10 attempts, a 4xx ends its delivery;
3. the acta queue is drained by the Acta workers, a failed message coming back
   after its visibility timeout, until the queue is empty.

A background thread samples ``pg_stat_activity`` for the role's connections.
At the end it prints the meetings emailed, failed and lost (not in a terminal
state), duplicate emails (more than one email to a meeting's recipient), the
peak of connections and the wall time. Exit status 1 when a meeting is lost, an
email was sent twice, or the peak went over the cap; 2 when the run could not
start.

The retry pauses of Lambda (1 and 2 minutes) and AssemblyAI are shortened to
``--retry-delay`` seconds: the order of events is kept, not the waiting.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import queue
import secrets
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
# The layer package and the local tools, importable as in the demo.
for _path in (ROOT / "layers" / "common", ROOT / "local"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

# AssemblyAI's attempts at a webhook, as its emulator (the specification here) makes them.
from voxlocal.emulators.assemblyai_server import WEBHOOK_MAX_ATTEMPTS  # noqa: E402

if TYPE_CHECKING:
    from voxlocal.stack import LocalAws

AUDIO = ROOT / "tests" / "fixtures" / "tiny.mp3"
TRANSCRIPT = {
    "text": "Hola. Acordamos enviar la propuesta el lunes y revisar el presupuesto.",
    "audio_duration": 3,
    "language_code": "es",
}
ROLE = "voxcliente_load"
DATABASE = "voxcliente_load"
LAMBDA_ASYNC_ATTEMPTS = 3  # the invocation and MaximumRetryAttempts: 2 (template.yaml)


class LoadError(Exception):
    """Stops the run before it starts, with a message for the person running it."""


# --- a pool of execution environments -------------------------------------------------


@dataclass
class StageResult:
    """What a stage did: calls that succeeded, gave up, and the attempts it took."""

    done: int = 0
    gave_up: list[str] = field(default_factory=list)
    attempts: int = 0
    refused: int = 0  # calls shed because the database had no free connection
    errors: Counter[str] = field(default_factory=Counter)

    def note(self, gave_up_means: str = "given up") -> str:
        text = f"{self.done} done in {self.attempts} invocation(s)"
        retried = self.attempts - self.done - len(self.gave_up)
        if retried:
            text += f", {retried} retried"
        if self.refused:
            text += f" ({self.refused} shed for want of a database connection)"
        if self.gave_up:
            text += f", {len(self.gave_up)} {gave_up_means}"
        if self.errors:
            text += "; errors: " + ", ".join(f"{k} x{n}" for k, n in self.errors.most_common(5))
        return text


# call(item) -> True: done; False: to be retried (a 5xx); raises: retried as well,
# except NotRetried, which ends the item's delivery at once.
Call = Callable[[str], bool]


class NotRetried(Exception):
    """A failure the event source does not retry: the item is given up at once."""


def run_pool(
    items: list[str],
    workers: int,
    make_call: Callable[[], Call],
    *,
    max_attempts: int,
    retry_delay_s: float,
    on_environment_end: Callable[[], None] = lambda: None,
) -> StageResult:
    """Run ``items`` on ``workers`` threads, each an execution environment with its
    own ``make_call()`` (its own handler module and database connection).

    A failed call is offered again after ``retry_delay_s`` (to whichever environment
    is free, as Lambda does), until ``max_attempts``; then the item is given up. A
    call raising :class:`NotRetried` is given up at its first failure.
    Returns when every item is done or given up; each environment then ends
    (``on_environment_end``: closing its connection).
    """
    from voxcliente.adapters.db import server_full
    from voxcliente.domain.errors import TransientError

    result = StageResult()
    pending: queue.Queue[tuple[str, int] | None] = queue.Queue()
    outstanding = len(items)
    lock = threading.Lock()
    finished = threading.Event()
    if not items:
        return result
    for item in items:
        pending.put((item, 1))

    def settle(item: str, attempt: int, ok: bool, error: str | None, final: bool) -> None:
        nonlocal outstanding
        with lock:
            result.attempts += 1
            if error:
                result.errors[error] += 1
            if ok:
                result.done += 1
            elif final or attempt >= max_attempts:
                result.gave_up.append(item)
            else:
                timer = threading.Timer(retry_delay_s, pending.put, args=((item, attempt + 1),))
                timer.daemon = True
                timer.start()
                return
            outstanding -= 1
            if outstanding == 0:
                finished.set()
                for _ in range(workers):
                    pending.put(None)

    def environment() -> None:
        call = make_call()
        try:
            while (job := pending.get()) is not None:
                item, attempt = job
                ok, error, final = False, None, False
                try:
                    ok = call(item)
                except NotRetried as exc:
                    error, final = type(exc).__name__, True
                except TransientError as exc:
                    # Shed by db.connect_error for a full server (SQLSTATE 53300), by
                    # db's own test of the driver error it was raised from.
                    if exc.__cause__ is not None and server_full(exc.__cause__):
                        with lock:
                            result.refused += 1
                    error = type(exc).__name__
                except Exception as exc:  # noqa: BLE001 - a function error: retried like Lambda
                    error = type(exc).__name__
                settle(item, attempt, ok, error, final)
        finally:
            on_environment_end()

    threads = [
        threading.Thread(target=environment, name=f"env-{n}", daemon=True) for n in range(workers)
    ]
    for thread in threads:
        thread.start()
    finished.wait()
    for thread in threads:
        thread.join()
    return result


# --- peak connections -------------------------------------------------------------------


class ConnectionSampler:
    """Samples how many connections ``role`` holds, from the admin's own connection."""

    def __init__(self, admin_url: str, role: str, interval_s: float = 0.01) -> None:
        self.admin_url = admin_url
        self.role = role
        self.interval_s = interval_s
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (self.role,)
                ).fetchone()
                self.peak = max(self.peak, int(row[0]) if row else 0)
                self.samples += 1
                self._stop.wait(self.interval_s)


# --- the local stack ------------------------------------------------------------------------


def _database(stack: contextlib.ExitStack, cap: int) -> tuple[str, str]:
    """(admin URL, the functions' URL): a fresh migrated database, and a role whose
    ``CONNECTION LIMIT`` is the cap (a superuser would not be limited)."""
    import psycopg

    from voxlocal import postgres

    server = stack.enter_context(postgres.server_url())
    try:
        admin_url = postgres.recreate_database(server, DATABASE)
        _capped_role(admin_url, cap)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise LoadError(
            f"The server in DATABASE_URL refused: {exc}. Its role needs CREATEDB and "
            "CREATEROLE (the run makes its own database and a capped role); or unset "
            "DATABASE_URL to use the embedded server."
        ) from exc
    functions_url = str(psycopg.conninfo.make_conninfo(admin_url, user=ROLE))
    return admin_url, functions_url


def _capped_role(admin_url: str, cap: int) -> None:
    import psycopg
    from psycopg import sql

    from voxcliente.adapters.migrations import apply_migrations

    role = sql.Identifier(ROLE)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        apply_migrations(conn, ROOT / "sql")
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone()
        if exists:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (ROLE,),
            )
            conn.execute(sql.SQL("ALTER ROLE {} CONNECTION LIMIT {}").format(role, cap))
        else:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN CONNECTION LIMIT {}").format(role, cap))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        conn.execute(sql.SQL("GRANT ALL ON ALL TABLES IN SCHEMA public TO {}").format(role))
        conn.execute(sql.SQL("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {}").format(role))


def _providers(stack: contextlib.ExitStack) -> tuple[dict[str, str], Any]:
    """The emulators' settings, and the AssemblyAI emulator (it says when a transcript
    is ready and builds the webhook request AssemblyAI would send)."""
    from voxlocal import stack as local

    assemblyai = local.start_assemblyai(stack, api_key="load-assemblyai-key")
    assemblyai.register_audio(AUDIO.read_bytes(), TRANSCRIPT)
    openai = local.start_openai(stack, api_key="load-openai-key")
    return local.provider_environment(assemblyai, openai), assemblyai


# --- the stages ---------------------------------------------------------------------------


def _recipient(n: int) -> str:
    return f"persona{n:04d}@example.com"


def _put_recordings(bucket: str, meetings: int) -> dict[str, dict[str, Any]]:
    """Every recording in inbox/<recipient>/; returns each key's S3 event."""
    from concurrent.futures import ThreadPoolExecutor

    from voxcliente.adapters import aws as vox_aws
    from voxlocal import events

    s3 = vox_aws.client("s3")
    data = AUDIO.read_bytes()

    def put(n: int) -> tuple[str, dict[str, Any]]:
        key = f"inbox/{_recipient(n)}/reunion-{n:04d}.mp3"
        out = s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="audio/mpeg")
        return key, events.s3_put(bucket, key, size=len(data), version_id=out.get("VersionId"))

    with ThreadPoolExecutor(max_workers=16) as pool:
        return dict(pool.map(put, range(meetings)))


def _submit_call(s3_events: dict[str, dict[str, Any]]) -> Call:
    from voxlocal import events
    from voxlocal.functions import load_function

    handler = load_function("submit").lambda_handler

    def call(key: str) -> bool:
        out = handler(s3_events[key], events.LambdaContext("Submit", timeout_s=60))
        return all(r["result"] in ("submitted", "duplicate", "failed") for r in out["results"])

    return call


def _webhook_call(assemblyai: Any) -> Call:
    from voxlocal import events
    from voxlocal.functions import load_function

    handler = load_function("webhook").lambda_handler

    def call(transcript_id: str) -> bool:
        url, headers, body = assemblyai.webhook_request(transcript_id)
        out = handler(
            events.webhook_request_event(url, headers, body),
            events.LambdaContext("Webhook", timeout_s=10),
        )
        status = int(out["statusCode"])
        if 400 <= status < 500:
            raise WebhookRefused(f"HTTP {status}: {out['body']}")
        return status < 300

    return call


class WebhookRefused(NotRetried):
    """A 4xx: AssemblyAI would not try again."""


def _drain_acta_queue(workers: int, queue_url: str, idle_rounds: int = 3) -> StageResult:
    """Acta environments polling the queue (BatchSize 1, as the template's event source)
    until it holds nothing, visible or in flight."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from voxcliente.adapters import aws as vox_aws
    from voxcliente.adapters import db
    from voxlocal import events
    from voxlocal.functions import load_function

    sqs = vox_aws.client("sqs")
    result = StageResult()
    lock = threading.Lock()

    def environment() -> None:
        handler = load_function("acta").lambda_handler
        idle = 0
        try:
            while idle < idle_rounds:
                got = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=1,
                    WaitTimeSeconds=1,
                    AttributeNames=["ApproximateReceiveCount"],
                ).get("Messages", [])
                if not got:
                    idle = idle + 1 if _queue_depth(queue_url) == 0 else 0
                    continue
                idle = 0
                try:
                    out = handler(events.sqs(got), events.LambdaContext("Acta"))
                    failed = bool(out.get("batchItemFailures"))
                except BatchProcessingError:
                    failed = True
                with lock:
                    result.attempts += 1
                    if failed:
                        result.errors["returned to the queue"] += 1
                    else:
                        result.done += 1
                if not failed:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=got[0]["ReceiptHandle"])
        finally:
            db.close_connection()

    threads = [threading.Thread(target=environment, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


# --- the verdict ----------------------------------------------------------------------------


@dataclass
class Verdict:
    meetings: int
    statuses: Counter[str]
    emails_per_recipient: Counter[str]
    peak_connections: int
    cap: int
    wall_s: float

    @property
    def emailed(self) -> int:
        return self.statuses.get("emailed", 0)

    @property
    def failed(self) -> int:
        return self.statuses.get("failed", 0)

    @property
    def lost(self) -> int:
        """Meetings not in a terminal state, and recordings that never got a row."""
        return self.meetings - self.emailed - self.failed

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.emails_per_recipient.values() if n > 1)

    def lines(self) -> list[str]:
        from voxcliente.domain.moves import FINAL_STATUSES

        others = {s: n for s, n in self.statuses.items() if s not in FINAL_STATUSES}
        return [
            f"meetings emailed:     {self.emailed} of {self.meetings}",
            f"meetings failed:      {self.failed}",
            f"meetings lost:        {self.lost}"
            + (f" (still {', '.join(f'{s} x{n}' for s, n in others.items())})" if others else ""),
            f"duplicate emails:     {self.duplicates}",
            f"peak connections:     {self.peak_connections} (cap {self.cap})",
            f"wall time:            {self.wall_s:.1f} s",
        ]

    def problems(self) -> list[str]:
        found = []
        if self.lost:
            found.append(f"{self.lost} meeting(s) not in a terminal state")
        if self.duplicates:
            found.append(f"{self.duplicates} duplicate email(s)")
        if self.peak_connections > self.cap:
            found.append(f"{self.peak_connections} connections, over the cap of {self.cap}")
        return found


def _addresses(destinations: Any) -> list[str]:
    """Recipients of one message as moto keeps them: a list (raw messages) or
    SES's ``{"ToAddresses": [...], ...}``."""
    if isinstance(destinations, dict):
        found = [a for values in destinations.values() for a in values or []]
    else:
        found = list(destinations or [])
    return sorted({str(a).strip().lower() for a in found})


def _verdict(admin_url: str, meetings: int, cap: int, peak: int, started: float) -> Verdict:
    import psycopg

    from voxlocal import stack as local

    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute("SELECT status, count(*) FROM meetings GROUP BY status").fetchall()
    statuses: Counter[str] = Counter({str(s): int(n) for s, n in rows})
    recorded = sum(statuses.values())
    if recorded < meetings:
        statuses["no row"] = meetings - recorded
    emails: Counter[str] = Counter()
    for message in local.sent_messages():
        for address in _addresses(getattr(message, "destinations", None)):
            emails[address] += 1
    return Verdict(meetings, statuses, emails, peak, cap, time.monotonic() - started)


class _MainThreadOnly(io.TextIOBase):
    """stdout for the progress lines (main thread); anything the environments'
    threads print goes to ``side``."""

    def __init__(self, main: TextIO, side: TextIO) -> None:
        self.main = main
        self.side = side

    def write(self, text: str) -> int:
        target = self.main if threading.current_thread() is threading.main_thread() else self.side
        return target.write(text)

    def flush(self) -> None:
        self.main.flush()
        self.side.flush()


# --- the run -----------------------------------------------------------------------------


@dataclass
class Options:
    meetings: int
    cap: int
    submit_workers: int
    webhook_workers: int
    acta_workers: int
    retry_delay_s: float


def _template_share(name: str, fallback: int) -> int:
    from voxlocal import template as cfn

    value = cfn.parameter_default(cfn.load(), name)
    return int(value) if value is not None else fallback


def run(options: Options) -> int:
    from voxlocal import stack as local

    progress = local.Progress()
    started = time.monotonic()
    local.quiet_lambda_environment({})  # fake credentials before anything talks to AWS
    with contextlib.ExitStack() as stack:
        with progress.stage(f"PostgreSQL: a role limited to {options.cap} connections"):
            admin_url, functions_url = _database(stack, options.cap)
        aws = local.start_aws(stack, progress)
        with progress.stage("AssemblyAI and OpenAI emulators"):
            env, assemblyai = _providers(stack)
        env.update(local.function_environment(functions_url, aws, secrets.token_urlsafe(24)))
        local.quiet_lambda_environment(env)
        os.environ.pop("SES_CONFIGURATION_SET", None)

        from voxcliente.adapters import aws as vox_aws
        from voxcliente.settings import reset_settings

        reset_settings()
        vox_aws.reset_clients()
        log_path = ROOT / "out" / "load-functions.log"
        local.functions_log_to(stack, log_path, progress)
        # Powertools prints a full metric set (100 values) even with metrics disabled,
        # and the environments share one Metrics object here: their output joins the log.
        side = stack.enter_context(log_path.open("a", encoding="utf-8"))
        stack.enter_context(contextlib.redirect_stdout(_MainThreadOnly(sys.stdout, side)))
        with ConnectionSampler(admin_url, ROLE) as sampler:
            _stages(options, progress, aws, assemblyai, admin_url)
        verdict = _verdict(admin_url, options.meetings, options.cap, sampler.peak, started)

    print()
    for line in verdict.lines():
        print(line)
    problems = verdict.problems()
    if problems:
        print("make load: FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    return 0


def _stages(
    options: Options, progress: Any, aws: LocalAws, assemblyai: Any, admin_url: str
) -> None:
    from voxcliente.adapters import db

    with progress.stage(f"S3: {options.meetings} recordings dropped in inbox/"):
        s3_events = _put_recordings(aws.bucket, options.meetings)
    with progress.stage(f"Submit: {options.submit_workers} environments"):
        submitted = run_pool(
            list(s3_events),
            options.submit_workers,
            lambda: _submit_call(s3_events),
            max_attempts=LAMBDA_ASYNC_ATTEMPTS,
            retry_delay_s=options.retry_delay_s,
            on_environment_end=db.close_connection,
        )
    progress.note(submitted.note("failed every attempt: in AWS they wait in AsyncFailuresQueue"))
    with progress.stage("AssemblyAI: transcripts ready"):
        transcript_ids = _transcript_ids(admin_url)
        for transcript_id in transcript_ids:
            assemblyai.wait(transcript_id, timeout=60)
    progress.note(f"{len(transcript_ids)} transcript(s)")
    with progress.stage(f"Webhook: {options.webhook_workers} environments"):
        called = run_pool(
            transcript_ids,
            options.webhook_workers,
            lambda: _webhook_call(assemblyai),
            max_attempts=WEBHOOK_MAX_ATTEMPTS,
            retry_delay_s=options.retry_delay_s,
            on_environment_end=db.close_connection,
        )
    progress.note(called.note("refused for good (a 4xx ends AssemblyAI's delivery)"))
    with progress.stage(f"Acta: {options.acta_workers} environments drain the queue"):
        worked = _drain_acta_queue(options.acta_workers, aws.queue_url)
    progress.note(worked.note())
    dead = _queue_depth(aws.dlq_url)
    if dead:
        progress.note(f"{dead} message(s) in the dead-letter queue")


def _transcript_ids(admin_url: str) -> list[str]:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT assemblyai_transcript_id FROM meetings "
            "WHERE assemblyai_transcript_id IS NOT NULL ORDER BY created_at"
        ).fetchall()
    return [str(r[0]) for r in rows]


def _queue_depth(queue_url: str) -> int:
    from voxcliente.adapters import aws as vox_aws

    attrs = vox_aws.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attrs.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make load",
        description="Many meetings at once through the real handlers, with a connection cap.",
    )
    parser.add_argument("--meetings", type=int, default=200, help="recordings dropped at once")
    parser.add_argument("--cap", type=int, default=20, help="connections the functions may hold")
    parser.add_argument("--submit-workers", type=int, help="Submit environments (template share)")
    parser.add_argument("--webhook-workers", type=int, help="Webhook environments")
    parser.add_argument("--acta-workers", type=int, help="Acta environments (ActaMaxConcurrency)")
    parser.add_argument(
        "--retry-delay", type=float, default=0.5, help="seconds before a retry (default 0.5)"
    )
    args = parser.parse_args(argv)
    if args.meetings < 1 or args.cap < 1:
        parser.error("--meetings and --cap must be at least 1")
    options = Options(
        meetings=args.meetings,
        cap=args.cap,
        submit_workers=args.submit_workers or _template_share("SubmitReservedConcurrency", 10),
        webhook_workers=args.webhook_workers or _template_share("WebhookReservedConcurrency", 20),
        acta_workers=args.acta_workers or _template_share("ActaMaxConcurrency", 5),
        retry_delay_s=args.retry_delay,
    )
    try:
        return run(options)
    except LoadError as exc:
        print(f"make load: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
