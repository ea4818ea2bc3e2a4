"""``make demo``: the whole pipeline on this machine, from an audio file to the email.

    python -m voxlocal.demo [--audio FILE] [--email ADDRESS] [--out DIR]

What runs where:
* PostgreSQL: the server named by ``DATABASE_URL``, else the project's embedded
  server (data kept in ``.local-data/postgres``); migrations are applied.
* AWS: moto's server on 127.0.0.1 (S3, SQS, SES, SNS), with the bucket, the
  queues and the sender identity that ``template.yaml`` declares.
* AssemblyAI and OpenAI: the real services when ``ASSEMBLYAI_API_KEY`` /
  ``OPENAI_API_KEY`` are set, otherwise local emulators (test doubles that
  speak their HTTP APIs). The AssemblyAI emulator answers with the transcript
  stored beside the audio as ``<audio>.transcript.json``.

The functions run through their real handlers with the event shapes AWS sends:
S3 event -> Submit -> AssemblyAI -> webhook request -> Webhook -> SQS -> Acta
-> SES -> EmailEvents. For each meeting, ``out/<meeting id>/`` receives the
email as SES got it (``message.eml``), ``acta.html``, ``acta.docx``,
``transcript.txt`` and ``meeting.json`` (row, timeline, usage and cost).
Exit status 0 when the email (the acta or a failure notice) was sent.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import json
import mimetypes
import os
import secrets
import sys
import time
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from voxlocal import events, postgres
from voxlocal import template as cfn

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_AUDIO = ROOT / "samples" / "reunion-textiles-andinos.mp3"
DEFAULT_EMAIL = "ana.mendez@example.com"
REGION = "us-east-1"
# Where AssemblyAI would call us in AWS; locally the runner delivers the request itself.
LOCAL_WEBHOOK_URL = "https://voxcliente.invalid/webhooks/assemblyai"
TRANSCRIPT_WAIT_S = 3 * 3600


class DemoError(Exception):
    """Stops the demo with a message for the person running it."""


class Progress:
    """One line per stage, with how long it took."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.count = 0

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.count += 1
        print(f"[{self.count:>2}] {name} ...", end="", flush=True)
        begun = time.monotonic()
        try:
            yield
        except BaseException:
            print(" failed", flush=True)
            raise
        print(f" {time.monotonic() - begun:6.2f} s", flush=True)

    def note(self, text: str) -> None:
        print(f"     {text}", flush=True)


def quiet_lambda_environment(env: dict[str, str]) -> None:
    """The environment the template's Globals give the functions, plus local endpoints."""
    os.environ.update(
        {
            "POWERTOOLS_SERVICE_NAME": "voxcliente",
            "POWERTOOLS_METRICS_NAMESPACE": "VoxCliente",
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "ERROR"),
            "POWERTOOLS_METRICS_DISABLED": "1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            **env,
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)


def aws_resources(endpoint: str) -> dict[str, str]:
    """Create in moto what template.yaml declares for the pipeline."""
    import boto3

    template = cfn.load()
    session = boto3.session.Session(region_name=REGION)
    s3 = session.client("s3", endpoint_url=endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    ses = session.client("ses", endpoint_url=endpoint)
    sns = session.client("sns", endpoint_url=endpoint)

    buckets = cfn.resources_of_type(template, "AWS::S3::Bucket")
    if "AudioBucket" not in buckets:
        raise DemoError("template.yaml declares no AudioBucket.")
    bucket = "voxcliente-audio-local"
    s3.create_bucket(Bucket=bucket)
    # Versioned: every run of the demo is a new upload, hence a new meeting,
    # even with the same file (the database persists between runs).
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    queues = cfn.resources_of_type(template, "AWS::SQS::Queue")
    if "ActaQueue" not in queues or "ActaDeadLetterQueue" not in queues:
        raise DemoError("template.yaml declares no ActaQueue with its ActaDeadLetterQueue.")
    acta_props = queues["ActaQueue"].get("Properties") or {}
    dlq_url = sqs.create_queue(QueueName="voxcliente-acta-dlq-local")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = acta_props.get("RedrivePolicy") or {}
    queue_url = sqs.create_queue(
        QueueName="voxcliente-acta-local",
        Attributes={
            # Short locally: a failed message comes back in seconds, not minutes.
            "VisibilityTimeout": "5",
            "RedrivePolicy": json.dumps(
                {
                    "deadLetterTargetArn": dlq_arn,
                    "maxReceiveCount": int(redrive.get("maxReceiveCount", 4)),
                }
            ),
        },
    )["QueueUrl"]

    sender = str(cfn.parameter_default(template, "SenderEmail") or "actas@voxcliente.example")
    if "@" not in sender:
        sender = "actas@voxcliente.example"
    ses.verify_email_identity(EmailAddress=sender)
    for name in cfn.resources_of_type(template, "AWS::SNS::Topic"):
        sns.create_topic(Name=f"voxcliente-{name}-local")
    return {"bucket": bucket, "queue_url": queue_url, "dlq_url": dlq_url, "sender": sender}


def sent_messages() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def _parts(raw: bytes) -> tuple[str | None, dict[str, bytes]]:
    message: Message = email.message_from_bytes(raw)
    html: str | None = None
    attachments: dict[str, bytes] = {}
    for part in message.walk():
        name = part.get_filename()
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        if name:
            attachments[name] = payload
        elif part.get_content_type() == "text/html" and html is None:
            html = payload.decode(part.get_content_charset() or "utf-8")
    return html, attachments


def _write_outputs(out_dir: Path, meeting_id: str, raw: bytes | None) -> Path:
    from voxcliente.adapters import repository as repo
    from voxcliente.adapters.db import transaction

    target = out_dir / meeting_id
    target.mkdir(parents=True, exist_ok=True)
    with transaction() as tx:
        from uuid import UUID

        uid = UUID(meeting_id)
        meeting = repo.get_meeting(tx, uid)
        timeline = repo.list_events(tx, uid)
        usage = repo.list_usage(tx, uid)
        acta = repo.get_acta(tx, uid)
        deliveries = tx.execute(
            "SELECT kind, recipient, status, ses_message_id, sent_at, delivered_at "
            "FROM email_deliveries WHERE meeting_id = %s ORDER BY created_at",
            (uid,),
        ).fetchall()
    document = {
        "meeting": meeting.model_dump(mode="json") if meeting else None,
        "timeline": [e.model_dump(mode="json") for e in timeline],
        "usage": [u.model_dump(mode="json") for u in usage],
        "total_cost_usd": str(meeting.total_cost_usd) if meeting else None,
        "acta": acta.model_dump(mode="json") if acta else None,
        "email_deliveries": deliveries,
    }
    (target / "meeting.json").write_text(
        json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    if raw is not None:
        (target / "message.eml").write_bytes(raw)
        html, attachments = _parts(raw)
        if html is not None:
            (target / "acta.html").write_text(html, encoding="utf-8")
        for name, data in attachments.items():
            if name.endswith(".docx"):
                (target / "acta.docx").write_bytes(data)
            elif name.endswith(".txt"):
                (target / "transcript.txt").write_bytes(data)
    return target


def start_database(stack: contextlib.ExitStack, progress: Progress) -> str:
    """DATABASE_URL, or the embedded server; migrated either way."""
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


def start_aws(stack: contextlib.ExitStack, progress: Progress) -> dict[str, str]:
    import logging

    from voxlocal.aws_doubles import StrictMotoServer, strict_ses

    with progress.stage("AWS emulated by moto (S3, SQS, SES, SNS) from template.yaml"):
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log
        # As strict as AWS where moto is not: presigned POST policies are enforced,
        # SES refuses an unverified sender and a message over 40 MB.
        stack.enter_context(strict_ses())
        moto = StrictMotoServer(
            {os.environ["AWS_ACCESS_KEY_ID"]: os.environ["AWS_SECRET_ACCESS_KEY"]},
            ip_address="127.0.0.1",
            port=0,
        )
        moto.start()
        stack.callback(moto.stop)
        host, port = moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        aws = {**aws_resources(endpoint), "endpoint": endpoint}
    progress.note(f"moto server at {endpoint}: bucket {aws['bucket']}, acta queue + DLQ")
    return aws


def _start_providers(
    stack: contextlib.ExitStack, progress: Progress, audio: Path, env: dict[str, str]
) -> Any:
    """Real AssemblyAI/OpenAI when their keys are set, emulators otherwise.

    Returns the AssemblyAI emulator, or None for the real service.
    """
    sidecar = Path(f"{audio}.transcript.json")
    emulator = None
    with progress.stage("AssemblyAI and OpenAI"):
        if os.environ.get("ASSEMBLYAI_API_KEY"):
            # moto's bucket is not reachable from AssemblyAI: send the bytes instead.
            env["ASSEMBLYAI_UPLOAD_AUDIO"] = "true"
            asr = "the real service (ASSEMBLYAI_API_KEY)"
        else:
            from voxlocal.emulators.assemblyai_server import AssemblyAIEmulator

            emulator = stack.enter_context(AssemblyAIEmulator(api_key="local-assemblyai-key"))
            # Without a sidecar the emulator answers as AssemblyAI does for a file it
            # cannot transcribe.
            if sidecar.is_file():
                emulator.register_audio(audio, sidecar)
                asr = f"local EMULATOR (a test double) answering with {sidecar.name}"
            else:
                asr = (
                    "local EMULATOR (a test double); no .transcript.json beside the audio, "
                    "so it answers AssemblyAI's error for a file it cannot transcribe"
                )
            env["ASSEMBLYAI_BASE_URL"] = emulator.base_url
            env["ASSEMBLYAI_API_KEY"] = emulator.api_key
        if os.environ.get("OPENAI_API_KEY"):
            llm = "the real service (OPENAI_API_KEY)"
        else:
            from voxlocal.emulators.openai_server import OpenAIEmulator

            oai = stack.enter_context(OpenAIEmulator(api_key="local-openai-key"))
            env["OPENAI_BASE_URL"] = oai.base_url
            env["OPENAI_API_KEY"] = oai.api_key
            llm = "local EMULATOR (a test double): a structured acta derived from the transcript"
    progress.note(f"AssemblyAI: {asr}")
    progress.note(f"OpenAI: {llm}")
    return emulator


def _transcribe_and_call_back(meeting_id: str, emulator: Any, progress: Progress) -> None:
    """Wait for AssemblyAI, then deliver the webhook request it would send."""
    from uuid import UUID

    from voxcliente.adapters import assemblyai
    from voxcliente.adapters import repository as repo
    from voxcliente.adapters.db import transaction
    from voxcliente.settings import get_settings
    from voxlocal.functions import load_function

    settings = get_settings()
    webhook_url = assemblyai.webhook_url_for(UUID(meeting_id), settings)
    with transaction() as tx:
        meeting = repo.get_meeting(tx, UUID(meeting_id))
    transcript_id = str(meeting.assemblyai_transcript_id) if meeting else ""
    with progress.stage("AssemblyAI transcription"):
        status = _wait_for_transcript(transcript_id, emulator, progress)
    progress.note(f"transcript {transcript_id}: {status}")
    with progress.stage("Webhook (the request AssemblyAI sends)"):
        reply = load_function("webhook").lambda_handler(
            events.webhook_request_event(
                webhook_url,
                {settings.webhook_auth_header: settings.get_webhook_secret()},
                {"transcript_id": transcript_id, "status": status},
            ),
            events.LambdaContext("Webhook"),
        )
    progress.note(f"HTTP {reply['statusCode']} {reply['body']}")


def _notify_delivery(meeting_id: str, recipient: str, progress: Progress) -> None:
    """What SES's configuration set would publish once the email is delivered."""
    from uuid import UUID

    from voxcliente.adapters.db import transaction
    from voxlocal.functions import load_function

    with progress.stage("EmailEvents (SES delivery notification)"):
        with transaction() as tx:
            row = tx.execute(
                "SELECT ses_message_id FROM email_deliveries WHERE meeting_id = %s "
                "AND ses_message_id IS NOT NULL ORDER BY created_at DESC LIMIT 1",
                (UUID(meeting_id),),
            ).fetchone()
        if row:
            load_function("email_events").lambda_handler(
                events.sns(events.ses_event("Delivery", row["ses_message_id"], recipient)),
                events.LambdaContext("EmailEvents"),
            )


def run(audio: Path, recipient: str, out_dir: Path) -> int:
    progress = Progress()
    if not audio.is_file():
        raise DemoError(f"No such audio file: {audio}")
    quiet_lambda_environment({})  # fake credentials first: nothing may reach a real account

    with contextlib.ExitStack() as stack:
        database_url = start_database(stack, progress)
        aws = start_aws(stack, progress)
        env = {
            "DATABASE_URL": database_url,
            "AWS_ENDPOINT_URL": aws["endpoint"],
            "AUDIO_BUCKET": aws["bucket"],
            "ACTA_QUEUE_URL": aws["queue_url"],
            "WEBHOOK_URL": LOCAL_WEBHOOK_URL,
            "WEBHOOK_SECRET": secrets.token_urlsafe(24),
            "SES_FROM": f"VoxCliente <{aws['sender']}>",
        }
        if "host=/" in database_url or "@/" in database_url:
            env["DB_SSLMODE"] = "disable"  # a Unix socket: no TLS to negotiate
        emulator = _start_providers(stack, progress, audio, env)
        quiet_lambda_environment(env)
        os.environ.pop("SES_CONFIGURATION_SET", None)

        from voxcliente.adapters import aws as vox_aws
        from voxcliente.settings import get_settings, reset_settings
        from voxlocal.functions import load_function

        reset_settings()
        vox_aws.reset_clients()
        functions_log_to(stack, out_dir / "functions.log", progress)
        key = f"{get_settings().inbox_prefix}{recipient}/{audio.name}"
        with progress.stage(f"S3 put s3://{aws['bucket']}/{key}"):
            content_type = mimetypes.guess_type(audio.name)[0] or "application/octet-stream"
            data = audio.read_bytes()
            put = vox_aws.client("s3").put_object(
                Bucket=aws["bucket"], Key=key, Body=data, ContentType=content_type
            )
        from voxcliente.domain.errors import TransientError

        try:
            with progress.stage("Submit (S3 event)"):
                event = events.s3_put(
                    aws["bucket"], key, size=len(data), version_id=put.get("VersionId")
                )
                out = load_function("submit").lambda_handler(event, events.LambdaContext("Submit"))
                [result] = out["results"]
        except TransientError as exc:
            raise DemoError(
                f"{exc.message} The meeting is recorded as 'received' with its claim "
                "released: Lambda's retry of the S3 event (or a new `make demo`) submits "
                "it. Check the network, the key, or unset ASSEMBLYAI_API_KEY to use the "
                "local emulator."
            ) from exc
        meeting_id = result["meeting_id"]
        progress.note(f"meeting {meeting_id}: {result['result']}")
        if result["result"] == "submitted":
            _transcribe_and_call_back(meeting_id, emulator, progress)
        with progress.stage("Acta worker (SQS)"):
            handled = _drain_queue(vox_aws.client("sqs"), aws["queue_url"], load_function("acta"))
        progress.note(f"{handled} message(s) processed")
        _explain_unfinished(meeting_id)

        sent = [m for m in sent_messages() if recipient.lower() in str(m.destinations).lower()]
        raw: bytes | None = None
        if sent:
            data_sent = sent[-1].raw_data
            raw = data_sent.encode() if isinstance(data_sent, str) else data_sent
            _notify_delivery(meeting_id, recipient, progress)
        with progress.stage("Writing out/"):
            target = _write_outputs(out_dir, meeting_id, raw)
        return _summary(target, meeting_id, raw, progress)


def functions_log_to(stack: contextlib.ExitStack, path: Path, progress: Progress) -> None:
    """The functions' JSON log lines (what CloudWatch would hold) go to a file, so the
    terminal shows the stages and one clear line if something stops them."""
    import warnings

    from voxcliente.observability import logger

    path.parent.mkdir(parents=True, exist_ok=True)
    stream = stack.enter_context(path.open("a", encoding="utf-8"))
    handler: Any = logger.registered_handler
    handler.setStream(stream)
    # Metrics are disabled locally; Powertools warns at every invocation anyway.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    progress.note(f"function logs (errors and warnings): {rel}")


def _explain_unfinished(meeting_id: str) -> None:
    """A meeting the worker could not finish (a provider unreachable): say which, and stop."""
    from uuid import UUID

    from voxcliente.adapters import repository as repo
    from voxcliente.adapters.db import transaction
    from voxcliente.settings import get_settings

    with transaction() as tx:
        meeting = repo.get_meeting(tx, UUID(meeting_id))
    if meeting is None or meeting.status not in ("transcribed", "generating"):
        return
    settings = get_settings()
    host = urlsplit(settings.openai_base_url).netloc
    raise DemoError(
        f"OpenAI ({host}) could not be reached, so no acta was written. The meeting "
        f"{meeting_id} is kept as '{meeting.status}' with its transcript: the reconciler "
        "queues it again. Check the network and OPENAI_API_KEY, or unset OPENAI_API_KEY "
        "to use the local emulator."
    )


def _wait_for_transcript(transcript_id: str, emulator: Any, progress: Progress) -> str:
    from voxcliente.adapters import assemblyai

    if emulator is not None:
        return str(emulator.wait(transcript_id, timeout=60)["status"])
    deadline = time.monotonic() + TRANSCRIPT_WAIT_S
    last_note = time.monotonic()
    while time.monotonic() < deadline:
        result = assemblyai.fetch(transcript_id)
        if result.done:
            return result.status
        if time.monotonic() - last_note > 15:
            progress.note(
                f"still {result.status} after {time.monotonic() - progress.started:.0f} s"
            )
            last_note = time.monotonic()
        time.sleep(3)
    raise DemoError(f"AssemblyAI did not finish transcript {transcript_id} in time.")


def _drain_queue(sqs: Any, queue_url: str, acta: Any, max_rounds: int = 20) -> int:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    handled = 0
    for _ in range(max_rounds):
        got = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        if not got:
            return handled
        try:
            out = acta.lambda_handler(events.sqs(got), events.LambdaContext("Acta"))
            failed = {f["itemIdentifier"] for f in out.get("batchItemFailures", [])}
        except BatchProcessingError:
            failed = {m["MessageId"] for m in got}
        for message in got:
            handled += 1
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return handled


def _summary(target: Path, meeting_id: str, raw: bytes | None, progress: Progress) -> int:
    meeting_doc = json.loads((target / "meeting.json").read_text(encoding="utf-8"))
    meeting = meeting_doc["meeting"] or {}
    rel = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
    print()
    acta = (meeting_doc.get("acta") or {}).get("content")
    if acta:
        print(f"Acta: {acta.get('title')}")
        print(f"  {acta.get('summary')}")
    print(f"Meeting {meeting_id}: {meeting.get('status')}", end="")
    if meeting.get("status") == "failed":
        print(f" ({meeting.get('error_code')}: {meeting.get('error_message')})")
    else:
        print()
    print(
        f"Cost: USD {meeting_doc.get('total_cost_usd')}; timeline: "
        + " -> ".join(
            e["to_status"] for e in meeting_doc["timeline"] if e["from_status"] != e["to_status"]
        )
    )
    print(f"Output: {rel}/ ({', '.join(sorted(p.name for p in target.iterdir()))})")
    print(f"Total {time.monotonic() - progress.started:.1f} s")
    if raw is None:
        print("No email was sent: see meeting.json for where the meeting stopped.", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make demo",
        description="Run the whole VoxCliente pipeline on this machine and keep the email.",
    )
    parser.add_argument(
        "--audio",
        type=Path,
        default=DEFAULT_AUDIO,
        help="audio or video file (default: the shipped Spanish sample)",
    )
    parser.add_argument("--email", default=DEFAULT_EMAIL, help="who receives the acta")
    parser.add_argument("--out", type=Path, default=ROOT / "out", help="output directory")
    args = parser.parse_args(argv)
    try:
        return run(args.audio.resolve(), args.email.strip(), args.out.resolve())
    except DemoError as exc:
        print(f"\nmake demo: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
