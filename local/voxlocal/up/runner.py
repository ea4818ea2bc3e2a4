"""Start the whole system on this machine: :func:`start` (``make up`` and the tests).

The pieces are the local stack's (:mod:`voxlocal.stack`): PostgreSQL, moto with
the template's resources, the AssemblyAI and OpenAI emulators (or the real
services when their keys are set), and the functions' real handlers; this module
wires them as the deployed architecture is wired.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxlocal import stack as local
from voxlocal import template as cfn
from voxlocal.auth import DEFAULT_AUDIENCE, DevIssuer
from voxlocal.up import config
from voxlocal.up.invoker import Functions
from voxlocal.up.mailbox import Mailbox
from voxlocal.up.routes import HttpApi, function_timeouts, load_routes
from voxlocal.up.server import Site, make_server
from voxlocal.up.workers import QueueWorker, S3Notifications, Schedule, SesDeliveries, stop_all

ROOT = local.ROOT
WEB_DIR = ROOT / "web"
WEBHOOK_PATH = "/webhooks/assemblyai"
# Without a public URL AssemblyAI cannot call back: the reconciler polls it instead.
POLL_SUBMITTED_AFTER_S = 60
POLL_EVERY_S = 20.0


@dataclass(frozen=True)
class Running:
    """What :func:`start` started, for the person or the test using it."""

    base_url: str  # http://127.0.0.1:<port>, no trailing slash
    moto_endpoint: str
    bucket: str
    queue_url: str
    dlq_url: str
    issuer: DevIssuer
    mailbox: Mailbox
    assemblyai: Any  # the emulator, or None with ASSEMBLYAI_API_KEY
    functions: Functions


class _Quiet(local.Progress):
    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        yield

    def note(self, text: str) -> None:
        pass


def _printer(echo: bool) -> Any:
    def log(line: str) -> None:
        if echo:
            print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

    return log


def _restore_environment(stack: contextlib.ExitStack) -> None:
    """The functions' settings go into ``os.environ`` (as Lambda gives them); the
    caller's environment comes back when the stack closes."""
    saved = dict(os.environ)

    def restore() -> None:
        os.environ.clear()
        os.environ.update(saved)
        _fresh_clients()

    stack.callback(restore)


def _fresh_clients() -> None:
    """Settings and clients read again from ``os.environ``, as a new execution
    environment would. boto3's default session keeps the credentials it first
    resolved: a process that signed with others before (a test session) would
    presign the browser's POST with a key the strict moto does not know."""
    import boto3

    from voxcliente.adapters import aws as vox_aws
    from voxcliente.settings import reset_settings

    boto3.DEFAULT_SESSION = None
    reset_settings()
    vox_aws.reset_clients()


def _start_providers(
    stack: contextlib.ExitStack, progress: local.Progress, env: dict[str, str], public: bool
) -> Any:
    """The emulators, or the real services for the keys that are set."""
    emulator = None
    with progress.stage("AssemblyAI and OpenAI"):
        if os.environ.get("ASSEMBLYAI_API_KEY"):
            env["ASSEMBLYAI_UPLOAD_AUDIO"] = "true"  # AssemblyAI cannot reach moto's bucket
            asr = "the real service (ASSEMBLYAI_API_KEY)"
            if not public:
                # "The URL must be accessible from AssemblyAI's servers" (AssemblyAI,
                # "Webhooks for pre-recorded audio"): loopback is not, so the
                # reconciler's poll of submitted meetings stands in for the webhook.
                env["RECONCILE_SUBMITTED_AFTER_S"] = str(POLL_SUBMITTED_AFTER_S)
                asr += (
                    "; its webhook cannot reach this machine without a public URL "
                    "(PUBLIC_URL=https://... forwarded here), so the reconciler polls "
                    f"AssemblyAI every {POLL_EVERY_S:.0f} s for meetings submitted "
                    f"{POLL_SUBMITTED_AFTER_S} s ago or more"
                )
        else:
            known = [
                audio
                for audio in sorted((ROOT / "samples").iterdir())
                if Path(f"{audio}.transcript.json").is_file()
            ]
            emulator = local.start_assemblyai(stack, audio=known, deliver_webhooks=True)
            env.update(local.provider_environment(assemblyai=emulator))
            names = ", ".join(a.name for a in known)
            asr = (
                f"local EMULATOR (a test double) knowing samples/ {names}; any other "
                "recording ends as AssemblyAI's error for a file it cannot transcribe "
                "(set ASSEMBLYAI_API_KEY to transcribe your own)"
            )
        if os.environ.get("OPENAI_API_KEY"):
            llm = "the real service (OPENAI_API_KEY)"
        else:
            env.update(local.provider_environment(openai=local.start_openai(stack)))
            llm = "local EMULATOR (a test double): the samples' hand-written actas"
    progress.note(f"AssemblyAI: {asr}")
    progress.note(f"OpenAI: {llm}")
    return emulator


def _log_functions_to(stack: contextlib.ExitStack, path: Path, progress: local.Progress) -> None:
    """The functions' logger writes to ``path`` until the stack closes, then to where it
    wrote before (a test session goes on logging after the file is closed)."""
    from voxcliente.observability import logger

    handler: Any = logger.registered_handler
    before = handler.stream
    local.functions_log_to(stack, path, progress)
    stack.callback(handler.setStream, before)  # runs before the file is closed


def start(
    stack: contextlib.ExitStack,
    *,
    port: int = 0,
    database_url: str | None = None,
    moto_port: int = 0,
    visibility_timeout_s: int = 5,
    reconcile_every_s: float = 60.0,
    public_url: str | None = None,
    functions_log: Path | None = None,
    echo: bool = True,
    stop_database: bool = False,
) -> Running:
    """Start everything; it all stops (and ``os.environ`` comes back) when ``stack`` closes.

    ``port``/``moto_port`` 0: any free port. ``database_url``: a server the caller
    runs (migrated here); None: ``DATABASE_URL`` or the embedded server, stopped
    with the stack when ``stop_database``. ``public_url``: where AssemblyAI can
    reach this server (default ``PUBLIC_URL``), only with a real AssemblyAI key.
    ``functions_log``: the functions' log file (default ``out/up/functions.log``).
    ``visibility_timeout_s``: the acta queue's; the template's (30 minutes and more,
    above the Acta function's timeout) would keep a failed message away that long.
    """
    from voxcliente.adapters import aws as vox_aws
    from voxcliente.domain.media import ALLOWED_TYPES
    from voxcliente.settings import get_settings

    progress: local.Progress = local.Progress() if echo else _Quiet()
    log = _printer(echo)
    _restore_environment(stack)
    local.quiet_lambda_environment({})  # fake AWS credentials first: nothing reaches an account

    with progress.stage("HTTP server"):
        # Bound first: its origin goes into the bucket's CORS and the functions' settings.
        server = make_server(port, log)
        stack.callback(server.server_close)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    origins = [base_url, base_url.replace("127.0.0.1", "localhost")]

    if database_url is None:
        database_url = local.start_database(stack, progress, stop_embedded=stop_database)
    else:
        with progress.stage("PostgreSQL"):
            local.migrate(database_url)
        progress.note("the server given, migrated")
    aws = local.start_aws(
        stack,
        progress,
        port=moto_port,
        visibility_timeout_s=visibility_timeout_s,
        web_origins=origins,
        fresh=True,
    )
    issuer = stack.enter_context(DevIssuer())
    template = cfn.load()
    public = (public_url or os.environ.get("PUBLIC_URL") or "").rstrip("/")
    env = local.function_environment(database_url, aws, secrets.token_urlsafe(24))
    env.update(
        {
            "WEBHOOK_URL": f"{public or base_url}{WEBHOOK_PATH}",
            "WEB_ORIGINS": ",".join(origins),
            "AUTH_ISSUER_URL": issuer.issuer,
            "AUTH_AUDIENCE": DEFAULT_AUDIENCE,
            "ACTA_QUEUE_MAX_RECEIVES": str(config.max_receive_count(template)),
        }
    )
    emulator = _start_providers(stack, progress, env, bool(public))
    local.quiet_lambda_environment(env)
    os.environ.pop("SES_CONFIGURATION_SET", None)  # no SNS topic behind it here
    _fresh_clients()
    log_file = functions_log or ROOT / "out" / "up" / "functions.log"
    _log_functions_to(stack, log_file, progress)

    functions = Functions(function_timeouts(template))
    stack.callback(functions.close)
    with progress.stage("The functions' handlers and the HTTP API's routes (template.yaml)"):
        routes = load_routes(template)
        functions.load(*sorted({r.function for r in routes}))
        functions.load("submit", "acta", "reconciler", "email_events")
    mailbox = Mailbox()
    server.api = HttpApi(
        routes,
        functions,
        issuer=issuer.issuer,
        audience=DEFAULT_AUDIENCE,
        cors=config.http_api_cors(template),
        origins=origins,
    )
    settings = get_settings()
    web = config.web_config(settings.max_upload_bytes, ALLOWED_TYPES)
    server.site = Site(WEB_DIR, web, issuer, DEFAULT_AUDIENCE, mailbox)
    serving = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="up-http", daemon=True
    )
    serving.start()
    stack.callback(serving.join, 10)
    stack.callback(server.shutdown)
    progress.note(f"{len(routes)} API routes, the web page, the mailbox and the sign-in")

    s3, sqs = vox_aws.client("s3"), vox_aws.client("sqs")
    prefixes = (settings.inbox_prefix, settings.upload_prefix)
    polling = emulator is None and not public
    loops = [
        S3Notifications(s3, aws.bucket, prefixes, functions, log),
        QueueWorker(
            sqs,
            aws.queue_url,
            _queue_arn(sqs, aws.queue_url),
            "acta",
            functions,
            log,
            batch_size=config.acta_batch_size(template),
        ),
        Schedule(
            "reconciler",
            functions,
            log,
            every_s=min(reconcile_every_s, POLL_EVERY_S) if polling else reconcile_every_s,
        ),
        SesDeliveries(functions, log),
    ]
    for loop in loops:
        loop.start()
    stack.callback(stop_all, loops)
    return Running(
        base_url=base_url,
        moto_endpoint=aws.endpoint,
        bucket=aws.bucket,
        queue_url=aws.queue_url,
        dlq_url=aws.dlq_url,
        issuer=issuer,
        mailbox=mailbox,
        assemblyai=emulator,
        functions=functions,
    )


def _queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])
