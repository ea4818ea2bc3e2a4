"""``make demo``: the whole pipeline on this machine, from an audio file to the email.

    python -m voxlocal.demo [--audio FILE] [--transcript FILE] [--email ADDRESS] [--out DIR]

What runs where:
* PostgreSQL: the server named by ``DATABASE_URL``, else the project's embedded
  server (data kept in ``.local-data/postgres``); migrations are applied.
* AWS: moto's server on 127.0.0.1 (S3, SQS, SES, SNS), with the bucket, the
  queues and the sender identity that ``template.yaml`` declares.
* AssemblyAI and OpenAI: the real services when ``ASSEMBLYAI_API_KEY`` /
  ``OPENAI_API_KEY`` are set, otherwise local emulators (test doubles that
  speak their HTTP APIs). The AssemblyAI emulator listens to nothing: it answers
  with the transcript given as ``--transcript`` (``TRANSCRIPT=``, plain text or
  AssemblyAI's JSON: :mod:`voxlocal.demo_transcript`) or stored beside the audio
  as ``<audio>.transcript.json``. With neither and no key the demo stops before
  anything is uploaded and says what to give it.

All of it comes from the local stack (:mod:`voxlocal.stack`), which ``make
services``, ``make load`` and the tests share; this module is the run itself,
and :mod:`voxlocal.demo_report` what it leaves behind.

The functions run through their real handlers with the event shapes AWS sends:
S3 event -> Submit -> AssemblyAI -> webhook request -> Webhook -> SQS -> Acta
-> SES -> EmailEvents. For each meeting, ``out/<meeting id>/`` receives the
email as SES got it (``message.eml``), its HTML (``acta.html``, or
``notice.html`` for a failure notice), ``acta.docx``, ``transcript.txt`` and
``meeting.json`` (row, timeline, usage and cost). Exit status 0 when the email
(the acta or a failure notice) was sent; the embedded PostgreSQL is stopped
when the demo ends, however it ends.
"""

from __future__ import annotations

import argparse
import contextlib
import mimetypes
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from voxlocal import demo_report, demo_transcript, events
from voxlocal import stack as local
from voxlocal.stack import Progress

ROOT = local.ROOT
DEFAULT_AUDIO = ROOT / "samples" / "reunion-textiles-andinos.mp3"
DEFAULT_EMAIL = "ana.mendez@example.com"
TRANSCRIPT_WAIT_S = 3 * 3600


class DemoError(Exception):
    """Stops the demo with a message for the person running it."""


def _start_providers(
    stack: contextlib.ExitStack,
    progress: Progress,
    audio: Path,
    transcript: tuple[dict[str, Any] | None, str],
    env: dict[str, str],
) -> Any:
    """Real AssemblyAI/OpenAI when their keys are set, emulators otherwise.

    Returns the AssemblyAI emulator, or None for the real service.
    """
    emulator = None
    answer, source = transcript
    with progress.stage("AssemblyAI and OpenAI"):
        if answer is None:
            # moto's bucket is not reachable from AssemblyAI: send the bytes instead.
            env["ASSEMBLYAI_UPLOAD_AUDIO"] = "true"
            asr = "the real service (ASSEMBLYAI_API_KEY)"
        else:
            emulator = local.start_assemblyai(stack)
            emulator.register_audio(audio, answer)
            asr = f"local EMULATOR (a test double) answering with {source}"
            env.update(local.provider_environment(assemblyai=emulator))
        if os.environ.get("OPENAI_API_KEY"):
            llm = "the real service (OPENAI_API_KEY)"
        else:
            env.update(local.provider_environment(openai=local.start_openai(stack)))
            llm = (
                "local EMULATOR (a test double, writes nothing itself): the hand-written "
                "acta of a shipped sample (samples/<name>.acta.json), else a minimal "
                "demonstration acta; model 'emulator', cost 0"
            )
    progress.note(f"AssemblyAI: {asr}")
    progress.note(f"OpenAI: {llm}")
    return emulator


def _transcribe_and_call_back(meeting_id: str, emulator: Any, progress: Progress) -> None:
    """Wait for AssemblyAI, then deliver the webhook request it would send."""
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
    from voxcliente.adapters import repository as repo
    from voxcliente.adapters.db import transaction
    from voxlocal.functions import load_function

    with progress.stage("EmailEvents (SES delivery notification)"):
        with transaction() as tx:
            deliveries = repo.list_deliveries(tx, UUID(meeting_id))
        sent = [d.ses_message_id for d in deliveries if d.ses_message_id is not None]
        if sent:  # the latest email SES accepted
            load_function("email_events").lambda_handler(
                events.sns(events.ses_event("Delivery", sent[-1], recipient)),
                events.LambdaContext("EmailEvents"),
            )


def run(audio: Path, recipient: str, out_dir: Path, transcript_file: Path | None = None) -> int:
    progress = Progress()
    if not audio.is_file():
        raise DemoError(f"No such audio file: {audio}")
    try:
        transcript = demo_transcript.transcript_for(audio, transcript_file)
    except demo_transcript.TranscriptError as exc:
        raise DemoError(str(exc)) from exc
    local.quiet_lambda_environment({})  # fake credentials first: nothing reaches an account

    with contextlib.ExitStack() as stack:
        leftover = _embedded_server_running()
        # The embedded server stops when the demo ends (a leftover one included):
        # nothing keeps running once the command returns.
        database_url = local.start_database(stack, progress, stop_embedded=True)
        if leftover is not None:
            progress.note(
                f"an embedded PostgreSQL left running by an earlier run (pid {leftover}) "
                "was used; it is stopped with this one"
            )
        aws = local.start_aws(stack, progress)
        env = local.function_environment(database_url, aws, secrets.token_urlsafe(24))
        emulator = _start_providers(stack, progress, audio, transcript, env)
        local.quiet_lambda_environment(env)
        os.environ.pop("SES_CONFIGURATION_SET", None)

        from voxcliente.adapters import aws as vox_aws
        from voxcliente.settings import get_settings, reset_settings
        from voxlocal.functions import load_function

        reset_settings()
        vox_aws.reset_clients()
        local.functions_log_to(stack, out_dir / "functions.log", progress)
        key = f"{get_settings().inbox_prefix}{recipient}/{audio.name}"
        with progress.stage(f"S3 put s3://{aws.bucket}/{key}"):
            content_type = mimetypes.guess_type(audio.name)[0] or "application/octet-stream"
            data = audio.read_bytes()
            put = vox_aws.client("s3").put_object(
                Bucket=aws.bucket, Key=key, Body=data, ContentType=content_type
            )
        from voxcliente.domain.errors import TransientError

        try:
            with progress.stage("Submit (S3 event)"):
                event = events.s3_put(
                    aws.bucket, key, size=len(data), version_id=put.get("VersionId")
                )
                out = load_function("submit").lambda_handler(event, events.LambdaContext("Submit"))
                [result] = out["results"]
        except TransientError as exc:
            from voxcliente.flows.reconciler import RECEIVED_GRACE_S

            raise DemoError(
                f"{exc.message} Nothing was sent for transcription.\n"
                "The meeting stays 'received' with its claim released: the state in which "
                "the reconciler submits it again (in AWS, Lambda's retry of the S3 event "
                "does it first). Its audio lived in this run's S3 (moto) only, so here: "
                "check the network and the key (or unset ASSEMBLYAI_API_KEY and give "
                "TRANSCRIPT=), then run the same `make demo` again, which uploads it anew. "
                "A reconciler run on the same database (`make up` runs one every minute) "
                f"takes the stranded one up {RECEIVED_GRACE_S // 60} minutes later and, "
                "its audio gone, ends it failed (file_missing) with a notice instead of "
                "leaving it at 'received'."
            ) from exc
        meeting_id = result["meeting_id"]
        progress.note(f"meeting {meeting_id}: {result['result']}")
        if result["result"] == "submitted":
            _transcribe_and_call_back(meeting_id, emulator, progress)
        with progress.stage("Acta worker (SQS)"):
            handled = _drain_queue(vox_aws.client("sqs"), aws.queue_url, load_function("acta"))
        progress.note(f"{handled} message(s) processed")
        _explain_unfinished(meeting_id)

        sent = [
            m for m in local.sent_messages() if recipient.lower() in str(m.destinations).lower()
        ]
        raw: bytes | None = None
        if sent:
            data_sent = sent[-1].raw_data
            raw = data_sent.encode() if isinstance(data_sent, str) else data_sent
            _notify_delivery(meeting_id, recipient, progress)
        with progress.stage("Writing out/"):
            target = demo_report.write_outputs(out_dir, meeting_id, raw)
        return demo_report.summary(target, meeting_id, raw, progress)


def _explain_unfinished(meeting_id: str) -> None:
    """A meeting the worker could not finish (a provider unreachable): say which, and stop."""
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
        f"OpenAI ({host}) could not be reached, so no acta was written.\n"
        f"The meeting {meeting_id} is kept as '{meeting.status}' with its transcript in "
        "the database, which is how it continues: the reconciler queues it again once the "
        f"worker's claim times out ({settings.acta_claim_timeout_s // 60} minutes) and the "
        "acta is written and emailed then. "
        "`make up` runs the reconciler every minute on the same database; `make demo` "
        "again starts a new meeting. Check the network and OPENAI_API_KEY, or unset "
        "OPENAI_API_KEY to use the local emulator."
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
    parser.add_argument(
        "--transcript",
        type=Path,
        help="what was said, for the local AssemblyAI emulator: plain text "
        "('Name: text' lines, or paragraphs) or AssemblyAI's transcript JSON",
    )
    parser.add_argument("--email", default=DEFAULT_EMAIL, help="who receives the acta")
    parser.add_argument("--out", type=Path, default=ROOT / "out", help="output directory")
    args = parser.parse_args(argv)
    transcript = args.transcript.resolve() if args.transcript else None
    try:
        return run(args.audio.resolve(), args.email.strip(), args.out.resolve(), transcript)
    except (DemoError, local.StackError) as exc:
        print(f"\nmake demo: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nmake demo: interrupted; everything it started is stopped.", file=sys.stderr)
        return 130


def _embedded_server_running() -> int | None:
    """The pid of an embedded PostgreSQL an earlier run left running, if any (the
    ``postmaster.pid`` of a live process; None with ``DATABASE_URL``)."""
    from voxlocal import postgres

    if postgres.given_url():
        return None
    try:
        text = (local.EMBEDDED_DATA_DIR / "postmaster.pid").read_text(encoding="utf-8")
        pid = int(text.splitlines()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None  # no file, a stale one (a crash), or not ours to signal
    return pid


if __name__ == "__main__":
    raise SystemExit(main())
