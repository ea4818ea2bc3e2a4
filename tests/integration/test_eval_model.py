"""`make eval` with a key, against the local OpenAI emulator (no key, no network).

The emulator is told to answer a case's reference acta, so the with-key path
runs whole: the product's generate_acta, the scoring, the tokens, the cost
(0 for the emulator), the progress lines and RESULTS.md, and a failed request
reported without stopping the run.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from voxcliente.acta import generation
from voxlocal.emulators.openai_server import OpenAIEmulator
from voxlocal.evaluation.cases import CASES_DIR, load_case, load_cases
from voxlocal.evaluation.checks import score_acta
from voxlocal.evaluation.runner import main

pytestmark = pytest.mark.integration

# A case that checks THIS meeting's details and a passage of the running text, so that a
# model's acta goes through every kind of fact the cases can name.
CASE = next(c.path for c in load_cases(CASES_DIR) if c.meeting and c.mentions)


@pytest.fixture
def cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One shipped case, alone in a directory of cases."""
    monkeypatch.setattr(generation, "_sleep", lambda _seconds: None)
    shutil.copytree(CASE, tmp_path / "cases" / CASE.name)
    return tmp_path / "cases"


def test_a_model_run_is_scored_counted_and_priced(
    openai_api: OpenAIEmulator, cases: Path, tmp_path: Path
) -> None:
    reference = load_case(CASE).reference.model_dump(mode="json")
    for _ in range(4):  # two runs of each of two models
        openai_api.answer_next(reference)
    said: list[str] = []
    results = tmp_path / "RESULTS.md"
    argv = ["--cases", str(cases), "--results", str(results), "--runs", "2"]
    argv += ["--models", "gpt-4.1-mini,gpt-4.1"]
    assert main(argv, today=date(2027, 4, 7), say=said.append) == 0

    assert [body["model"] for body in openai_api.requests] == ["gpt-4.1-mini"] * 2 + ["gpt-4.1"] * 2
    progress = [line for line in said if line.startswith("[")]
    assert len(progress) == 4
    assert progress[0].startswith(f"[1/4] gpt-4.1-mini {CASE.name} run 1/2: facts ")
    case = load_case(CASE)
    total = score_acta(case, case.reference).total
    scored = f"facts {total}/{total}, invented 0, format 0;"
    assert all(scored in line and "USD 0.0000" in line for line in progress), progress
    assert all(line.endswith("(emulator)") for line in progress)
    written = results.read_text(encoding="utf-8")
    assert (
        "Date: 2027-04-07. Models: gpt-4.1-mini, gpt-4.1 (answered by emulator); 2 runs" in written
    )
    assert f"| {CASE.name} | gpt-4.1-mini | 2 |" in written
    assert "| **all cases** | gpt-4.1 | 2 | 100% (100%-100%) | 0.0 | 0.0 |" in written
    assert "0.0000 | 0 |" in written  # cost and no failure


def test_a_failed_request_is_reported_and_the_run_goes_on(
    openai_api: OpenAIEmulator, cases: Path, tmp_path: Path
) -> None:
    openai_api.script("refusal")
    for _ in range(2):  # the refused request takes its answer too
        openai_api.answer_next(load_case(CASE).reference.model_dump(mode="json"))
    said: list[str] = []
    argv = ["--cases", str(cases), "--results", str(tmp_path / "R.md"), "--runs", "2"]
    assert main([*argv, "--models", "gpt-4.1-mini"], say=said.append) == 0

    progress = [line for line in said if line.startswith("[")]
    assert progress[0].startswith(f"[1/2] gpt-4.1-mini {CASE.name} run 1/2: FAILED")
    assert "ProviderError" in progress[0]
    assert ", invented 0, format 0;" in progress[1]
    written = (tmp_path / "R.md").read_text(encoding="utf-8")
    assert f"- {CASE.name}, gpt-4.1-mini, run 1: ProviderError" in written


def test_a_model_with_no_successful_request_fails_the_run(
    openai_api: OpenAIEmulator, cases: Path, tmp_path: Path
) -> None:
    said: list[str] = []
    argv = ["--cases", str(cases), "--results", str(tmp_path / "R.md"), "--runs", "1"]
    assert main([*argv, "--models", "no-such-model"], say=said.append) == 1
    assert "No request to no-such-model succeeded: nothing was measured for it." in said
