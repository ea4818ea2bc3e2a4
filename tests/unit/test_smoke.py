"""scripts/smoke.py, the deployers' live check, against the local emulators.

No database. The emulators stand in for AssemblyAI and OpenAI
(``ASSEMBLYAI_BASE_URL`` / ``OPENAI_BASE_URL`` point at them), as in
tests/integration; the skipped path runs with no key at all.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import uuid4

import pytest

from harness import load_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "smoke.py"
SAMPLE = ROOT / "samples" / "client-call-en.mp3"  # the shortest shipped recording
KEY_VARIABLES = (
    "ASSEMBLYAI_API_KEY",
    "ASSEMBLYAI_SECRET_ID",
    "OPENAI_API_KEY",
    "OPENAI_SECRET_ID",
)


@pytest.fixture(scope="module")
def smoke() -> ModuleType:
    return load_script("smoke")


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing that could reach a real account, whatever the developer's shell holds."""
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def run(smoke: ModuleType, *args: str) -> tuple[int, str]:
    stream = io.StringIO()
    code = smoke.main(["--poll-interval", "0.02", *args], stream=stream)
    return int(code), stream.getvalue()


# --- without keys ------------------------------------------------------------------------
def test_without_keys_each_provider_is_skipped_with_how_to_check_it(
    smoke: ModuleType, no_keys: None
) -> None:
    code, output = run(smoke)

    assert code == 0
    assert (
        "AssemblyAI: skipped" in output and "set ASSEMBLYAI_API_KEY to check AssemblyAI" in output
    )
    assert "OpenAI: skipped" in output and "set OPENAI_API_KEY to check OpenAI" in output
    assert output.rstrip().endswith("smoke: nothing checked (no provider key is set)")


def test_the_script_runs_on_its_own_without_keys() -> None:
    """As ``make smoke`` runs it: its own process, nothing on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in {*KEY_VARIABLES, "PYTHONPATH"}}

    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(SCRIPT)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "set ASSEMBLYAI_API_KEY to check AssemblyAI" in done.stdout
    assert "set OPENAI_API_KEY to check OpenAI" in done.stdout
    assert done.stderr == ""


def test_unusable_settings_or_a_missing_file_stop_it_with_one_line(
    smoke: ModuleType, no_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = run(smoke, "--audio", str(ROOT / "no-such-recording.mp3"))
    assert code == 2
    assert output.strip().splitlines() == [
        f"smoke: cannot start: No such file: {ROOT / 'no-such-recording.mp3'}"
    ]

    monkeypatch.setenv("OPENAI_TIMEOUT_S", "soon")
    code, output = run(smoke)
    assert code == 2
    [line] = output.strip().splitlines()
    assert line.startswith("smoke: cannot start: Invalid configuration: OPENAI_TIMEOUT_S")


def test_the_shortest_sample_is_the_default_recording(smoke: ModuleType) -> None:
    assert smoke.shortest_sample() == SAMPLE


# --- with keys, against the emulators ----------------------------------------------------
@pytest.mark.integration
def test_with_both_providers_it_prints_what_each_accepted_and_answered(
    smoke: ModuleType, assemblyai: Any, openai_api: Any
) -> None:
    from voxcliente.settings import get_settings

    # Given AssemblyAI recognises the sample as its stored transcript says
    assemblyai.register_audio(SAMPLE)

    code, output = run(smoke)

    assert code == 0, output
    queued = re.search(r"AssemblyAI: transcript (\S+) queued", output)
    assert queued is not None, output
    final = assemblyai.transcript(queued.group(1))
    assert final["status"] == "completed"
    assert (
        f"AssemblyAI: OK - transcript {queued.group(1)}, "
        f"speech_model_used {final['speech_model_used']}, language {final['language_code']}, "
        f"{final['audio_duration']:g} s of audio, 2 speaker(s)"
    ) in output
    # The request is Submit's, without a webhook: nothing would receive it.
    [submission] = assemblyai.submissions
    assert submission["speech_models"] == list(get_settings().assemblyai_speech_models)
    assert submission["language_detection"] is True and submission["speaker_labels"] is True
    assert not {k for k in submission if k.startswith("webhook")}
    model = get_settings().openai_model
    answered = re.search(
        rf"OpenAI: OK - (\S+) answered \(OPENAI_MODEL {re.escape(model)}\), "
        r"(\d+) input \+ (\d+) output tokens in 1 request\(s\); acta in 'en': '.+'",
        output,
    )
    assert answered is not None, output
    # The emulator validates the model asked for and answers as itself: an emulated
    # acta is never reported as a language model's.
    assert answered.group(1) == "emulator"
    assert int(answered.group(2)) > 0 and int(answered.group(3)) > 0
    assert [r["model"] for r in openai_api.requests] == [model]
    assert output.rstrip().endswith("smoke: OK (AssemblyAI, OpenAI)")


@pytest.mark.integration
def test_an_openai_variable_outside_the_settings_never_reaches_openai(
    smoke: ModuleType, openai_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSEMBLYAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-of-another-project")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_of_another_project")

    code, output = run(smoke)

    assert code == 0, output
    sent = openai_api.request_headers[-1]
    assert "openai-organization" not in sent and "openai-project" not in sent


@pytest.mark.integration
@pytest.mark.parametrize(
    ("language", "pii"), [(None, "false"), ("es", "true")], ids=["detection", "es+pii"]
)
def test_the_request_is_the_one_submit_sends_without_the_webhook(
    smoke: ModuleType,
    assemblyai: Any,
    configure: Any,
    no_openai: None,
    language: str | None,
    pii: str,
) -> None:
    from voxcliente.adapters import assemblyai as assemblyai_api

    configure(ASSEMBLYAI_PII_REDACTION=pii)
    assemblyai.register_audio(SAMPLE)

    # When the smoke check sends its request, and Submit one for the same upload
    code, output = run(smoke, *(["--language", language] if language else []))
    assert code == 0, output
    [sent_by_smoke] = assemblyai.submissions
    assemblyai_api.submit(sent_by_smoke["audio_url"], meeting_id=uuid4(), language_code=language)
    submitted = assemblyai.submissions[-1]

    # Then they are the same but for the webhook
    expected = {k: v for k, v in submitted.items() if not k.startswith("webhook")}
    assert sent_by_smoke == expected


@pytest.mark.integration
def test_an_assemblyai_refusal_is_one_line_and_openai_is_still_checked(
    smoke: ModuleType, assemblyai: Any, openai_api: Any
) -> None:
    assemblyai.script_submit("unauthorized")

    code, output = run(smoke)

    assert code == 1
    assert (
        "AssemblyAI: FAILED - the transcript request was refused (HTTP 401): "
        "Authentication error, API token missing/invalid"
    ) in output
    assert (
        "OpenAI: writing the acta of the stored transcript client-call-en.mp3.transcript.json"
    ) in output
    assert "OpenAI: OK - " in output
    assert output.rstrip().endswith("smoke: FAILED (AssemblyAI)")
    assert "Traceback" not in output


@pytest.mark.integration
def test_a_recording_assemblyai_cannot_transcribe_fails_with_its_reason(
    smoke: ModuleType, assemblyai: Any, no_openai: None
) -> None:
    # The sample is not registered: the emulator cannot transcribe it, and says so.
    code, output = run(smoke)

    assert code == 1
    failed = re.search(r"AssemblyAI: FAILED - transcript \S+ failed: (.+)", output)
    assert failed is not None, output
    assert "ASSEMBLYAI_API_KEY" in failed.group(1)


@pytest.mark.integration
def test_a_transcript_that_never_finishes_times_out_with_one_line(
    smoke: ModuleType, assemblyai: Any, no_openai: None
) -> None:
    assemblyai.register_audio(SAMPLE)
    assemblyai.complete_after_polls = 10**6  # "processing" for ever

    code, output = run(smoke, "--timeout", "0.2")

    assert code == 1
    assert re.search(
        r"AssemblyAI: FAILED - transcript \S+ was still (queued|processing) after 0.2 s "
        r"\(--timeout to wait longer\)",
        output,
    ), output
    assert "  ... processing" in output or "  ... queued" in output


@pytest.mark.integration
def test_an_openai_account_without_credit_fails_with_one_line(
    smoke: ModuleType, openai_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxcliente.settings import reset_settings

    monkeypatch.delenv("ASSEMBLYAI_API_KEY", raising=False)
    monkeypatch.delenv("ASSEMBLYAI_SECRET_ID", raising=False)
    reset_settings()
    openai_api.script("insufficient_quota")

    code, output = run(smoke)

    assert code == 1
    assert "AssemblyAI: skipped" in output
    [line] = [x for x in output.splitlines() if x.startswith("OpenAI: FAILED")]
    assert "run out of credit (insufficient quota)" in line
    assert "Traceback" not in output


@pytest.fixture
def no_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_SECRET_ID", raising=False)
