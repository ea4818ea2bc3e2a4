"""Live smoke check of the providers a deployment uses: AssemblyAI and OpenAI.

With the deployment's settings (the same variables the functions read, through
``voxcliente.settings.load_settings``), it sends one short recording to
AssemblyAI (upload, then a transcript request with the configured speech models,
language detection or ``--language``, and PII redaction, as Submit builds it,
but without a webhook: it polls until the transcript is final) and asks OpenAI
for one acta of that transcript with the configured model, through
``voxcliente.acta.generation.generate_acta``. It prints what each provider accepted
and answered.

A provider without a key (``ASSEMBLYAI_API_KEY`` / ``OPENAI_API_KEY``, or their
``*_SECRET_ID``) is skipped with a note saying so. Without AssemblyAI, OpenAI
writes the acta of the stored transcript beside the sample
(``<audio>.transcript.json``).

Exit status: 0 when every provider with a key passed (or none had one), 1 when
one failed (one line says why), 2 for unusable settings or arguments.

    python scripts/smoke.py                      # the shortest recording in samples/
    python scripts/smoke.py --audio meeting.mp3 --language es --timeout 600

It costs a few cents: a short transcription and one acta.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

ROOT = Path(__file__).resolve().parents[1]
# The layer package, importable as Lambda sees it under /opt/python.
sys.path.insert(0, str(ROOT / "layers" / "common"))

from voxcliente.domain.errors import ConfigurationError, VoxError  # noqa: E402
from voxcliente.settings import Settings, load_settings  # noqa: E402

if TYPE_CHECKING:
    import httpx

    from voxcliente.acta.generation import GenerationResult
    from voxcliente.adapters.assemblyai import TranscriptResult

SAMPLES = ROOT / "samples"
AUDIO_SUFFIXES = frozenset({".mp3", ".m4a", ".wav", ".ogg", ".oga", ".opus", ".flac", ".webm"})
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_POLL_S = 3.0
# How often the waiting line is repeated while the status does not change.
PROGRESS_EVERY_S = 15.0


class SmokeFailure(Exception):
    """One provider failed the check; the message is the one line a person reads."""


class UsageError(Exception):
    """The arguments cannot be used (no such file, no sample)."""


@dataclass
class Output:
    stream: TextIO

    def line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


# --- the recording --------------------------------------------------------------------
def shortest_sample(folder: Path = SAMPLES) -> Path:
    """The smallest audio file in ``folder`` (the shipped samples share one bitrate)."""
    audio = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES]
    if not audio:
        raise UsageError(f"No audio file in {folder}; give one with --audio.")
    return min(audio, key=lambda p: (p.stat().st_size, p.name))


def _recording(given: Path | None) -> Path:
    audio = given or shortest_sample()
    if not audio.is_file():
        raise UsageError(f"No such file: {audio}")
    return audio


def stored_transcript(audio: Path) -> Path:
    """The transcript stored beside ``audio``, or beside the shortest sample."""
    for candidate in (audio, shortest_sample()):
        sidecar = candidate.with_name(candidate.name + ".transcript.json")
        if sidecar.is_file():
            return sidecar
    raise UsageError("No stored transcript (<audio>.transcript.json) to write an acta from.")


# --- AssemblyAI -----------------------------------------------------------------------
def check_assemblyai(
    settings: Settings,
    audio: Path,
    out: Output,
    *,
    language_code: str | None,
    timeout_s: float,
    poll_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> TranscriptResult:
    import httpx

    from voxcliente.adapters import assemblyai

    data = audio.read_bytes()
    try:
        upload_url = assemblyai.upload(data, settings=settings)
    except VoxError as exc:
        raise SmokeFailure(f"the upload of {audio.name} failed: {exc}") from exc
    out.line(
        f"AssemblyAI: upload of {audio.name} ({len(data) // 1024} KB) to "
        f"{settings.assemblyai_base_url} accepted"
    )

    # The body Submit sends, without the webhook (the same builder).
    request = assemblyai.transcript_request(
        upload_url, language_code=language_code, settings=settings
    )
    # The SDK's HTTP client Submit uses: key, base URL and timeout from the settings.
    http = assemblyai._client(settings).http_client
    try:
        response = http.post("/v2/transcript", json=request)
    except httpx.HTTPError as exc:
        raise SmokeFailure(
            f"{settings.assemblyai_base_url} could not be reached to request the transcript "
            f"({type(exc).__name__})"
        ) from exc
    if response.status_code != 200:
        raise SmokeFailure(
            f"the transcript request was refused (HTTP {response.status_code}): "
            # AssemblyAI's ``error`` text, read as Submit reads it.
            f"{assemblyai._error_message(response) or response.reason_phrase}"
        )
    transcript_id = str(response.json().get("id") or "")
    if not transcript_id:
        raise SmokeFailure("the transcript request was accepted without a transcript id")
    language = f"language {language_code}" if language_code else "language detection"
    out.line(
        f"AssemblyAI: transcript {transcript_id} queued "
        f"(speech_models {', '.join(request['speech_models'])}; {language})"
    )

    started = clock()
    last_status, last_note = "", started
    while True:
        try:
            result = assemblyai.fetch(transcript_id, settings=settings)
        except VoxError as exc:
            raise SmokeFailure(f"transcript {transcript_id} could not be read: {exc}") from exc
        if result.done:
            break
        now = clock()
        if result.status != last_status or now - last_note >= PROGRESS_EVERY_S:
            out.line(f"  ... {result.status} ({now - started:.0f} s)")
            last_status, last_note = result.status, now
        if now - started >= timeout_s:
            raise SmokeFailure(
                f"transcript {transcript_id} was still {result.status} after {timeout_s:g} s "
                "(--timeout to wait longer)"
            )
        sleep(poll_s)

    if result.status == "error":
        raise SmokeFailure(f"transcript {transcript_id} failed: {result.error or 'no reason'}")
    speakers = sorted({u.speaker for u in result.utterances})
    duration = f"{result.audio_duration_s:g} s" if result.audio_duration_s is not None else "?"
    out.line(
        f"AssemblyAI: OK - transcript {result.transcript_id}, "
        f"speech_model_used {result.speech_model or '(not reported)'}, "
        f"language {result.language_code or '(not reported)'}, {duration} of audio, "
        f"{len(speakers)} speaker(s), {len(result.text.split())} words"
    )
    return result


# --- OpenAI ---------------------------------------------------------------------------
def check_openai(
    settings: Settings, transcript: TranscriptResult, audio_name: str, out: Output
) -> GenerationResult:
    import openai

    from voxcliente.acta.generation import TranscriptInput, generate_acta
    from voxcliente.adapters.openai_api import openai_client

    answered: list[str] = []

    def record_model(response: httpx.Response) -> None:
        # The model that answered (a dated snapshot of OPENAI_MODEL), from the JSON body.
        if response.status_code == 200 and response.url.path.endswith("/chat/completions"):
            response.read()
            try:
                model = response.json().get("model")
            except (ValueError, AttributeError):
                model = None
            if model:
                answered.append(str(model))

    # The functions' client (every value from the settings), with an HTTP client that
    # records the answering model. The SDK's copy, given organization=None, reads
    # OPENAI_ORG_ID / OPENAI_PROJECT_ID again: keep the functions' (as generate_acta does).
    functions_client = openai_client(settings)
    client = functions_client.with_options(
        http_client=openai.DefaultHttpxClient(event_hooks={"response": [record_model]})
    )
    client.organization = functions_client.organization
    client.project = functions_client.project
    functions_client.close()
    try:
        result = generate_acta(
            TranscriptInput(
                text=transcript.text,
                utterances=transcript.utterances,
                language_code=transcript.language_code,
                audio_duration_s=transcript.audio_duration_s,
                meeting_date=None,
                client_name=None,
                original_filename=audio_name,
            ),
            settings=settings,
            client=client,
        )
    except VoxError as exc:
        raise SmokeFailure(f"no acta from {settings.openai_model}: {exc}") from exc
    finally:
        client.close()
    model = answered[-1] if answered else "(not reported)"
    out.line(
        f"OpenAI: OK - {model} answered (OPENAI_MODEL {settings.openai_model}), "
        f"{result.input_tokens} input + {result.output_tokens} output tokens in "
        f"{result.requests} request(s); acta in '{result.language}': {result.acta.title!r}"
    )
    return result


# --- the run --------------------------------------------------------------------------
def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return (
        text
        if isinstance(exc, SmokeFailure | UsageError | VoxError)
        else f"{type(exc).__name__}: {text}"
    )


@contextmanager
def _layer_logs(*, quiet: bool) -> Iterator[None]:
    """The layer logs JSON (with tracebacks) for CloudWatch; here the summary lines say
    it all, so its logger is silenced for the run (``--debug`` keeps it)."""
    from voxcliente.observability import logger

    previous = logger.log_level
    if quiet:
        logger.setLevel("CRITICAL")
    try:
        yield
    finally:
        logger.setLevel(previous)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="smoke", description="Check the live AssemblyAI and OpenAI accounts."
    )
    parser.add_argument(
        "--audio", type=Path, help="recording to send (default: the shortest in samples/)"
    )
    parser.add_argument(
        "--language", help="language code for AssemblyAI (default: language detection)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds to wait for the transcript (default {DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=DEFAULT_POLL_S,
        help=f"seconds between transcript polls (default {DEFAULT_POLL_S:g})",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the layer's logs and full tracebacks"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, *, stream: TextIO | None = None) -> int:
    args = _parse_args(argv)
    out = Output(stream or sys.stdout)
    try:
        settings = load_settings()
        audio = _recording(args.audio)
    except (ConfigurationError, UsageError) as exc:
        out.line(f"smoke: cannot start: {_one_line(exc)}")
        return 2
    with _layer_logs(quiet=not args.debug):
        outcome = _run(settings, audio, args, out)
    failed = [name for name, result in outcome.items() if result == "failed"]
    passed = [name for name, result in outcome.items() if result == "ok"]
    if failed:
        out.line(f"smoke: FAILED ({', '.join(failed)})")
        return 1
    if passed:
        out.line(f"smoke: OK ({', '.join(passed)})")
    else:
        out.line("smoke: nothing checked (no provider key is set)")
    return 0


def _run(settings: Settings, audio: Path, args: argparse.Namespace, out: Output) -> dict[str, str]:
    """Check each provider that has a key: ``{provider: "ok" | "failed" | "skipped"}``."""
    transcript: TranscriptResult | None = None

    def assemblyai() -> None:
        nonlocal transcript
        transcript = check_assemblyai(
            settings,
            audio,
            out,
            language_code=args.language,
            timeout_s=args.timeout,
            poll_s=args.poll_interval,
        )

    def openai() -> None:
        check_openai(settings, transcript or _stored(audio, out), audio.name, out)

    return {
        "AssemblyAI": _check(
            "AssemblyAI",
            "ASSEMBLYAI",
            bool(settings.assemblyai_api_key or settings.assemblyai_secret_id),
            assemblyai,
            out,
            debug=args.debug,
        ),
        "OpenAI": _check(
            "OpenAI",
            "OPENAI",
            bool(settings.openai_api_key or settings.openai_secret_id),
            openai,
            out,
            debug=args.debug,
        ),
    }


def _check(
    provider: str,
    variable: str,
    has_key: bool,
    check: Callable[[], None],
    out: Output,
    *,
    debug: bool,
) -> str:
    """One provider's check: "ok", "failed" (one line says why) or "skipped" (no key;
    one line says which variable to set)."""
    if not has_key:
        out.line(
            f"{provider}: skipped - {variable}_API_KEY (or {variable}_SECRET_ID) is not set; "
            f"set {variable}_API_KEY to check {provider}."
        )
        return "skipped"
    try:
        check()
    except Exception as exc:  # one line for a person, not a traceback
        if debug:
            raise
        out.line(f"{provider}: FAILED - {_one_line(exc)}")
        return "failed"
    return "ok"


def _stored(audio: Path, out: Output) -> TranscriptResult:
    """The transcript stored beside the recording, for OpenAI without AssemblyAI."""
    from voxcliente.adapters.assemblyai import parse_transcript

    sidecar = stored_transcript(audio)
    transcript = parse_transcript(json.loads(sidecar.read_text(encoding="utf-8")))
    out.line(f"OpenAI: writing the acta of the stored transcript {sidecar.name}")
    return transcript


if __name__ == "__main__":
    sys.exit(main())
