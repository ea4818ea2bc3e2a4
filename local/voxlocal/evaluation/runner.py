"""``make eval``: score the reference actas and their flaws; with a key, the real models.

Without ``OPENAI_API_KEY`` nothing is sent anywhere: every case's reference
acta must score perfectly (all facts found, none invented, no format rule
broken) and every flawed variant of it must be caught by the check it
targets; the exit status says whether they were. With a key, each case is
also written by each model ``--runs`` times through the product's own
``generate_acta`` and scored the same way (a model's score does not change
the exit status: it is a measurement, not a test; a model none of whose
requests succeeded does, since then nothing was measured).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from voxcliente.settings import get_settings
from voxlocal.evaluation.cases import CASES_DIR, Case, CaseError, load_cases
from voxlocal.evaluation.checks import score_acta
from voxlocal.evaluation.flaws import flaws
from voxlocal.evaluation.models import default_models, run_models, summaries
from voxlocal.evaluation.report import (
    RESULTS,
    ReferenceResult,
    model_table,
    models_section,
    reference_problems,
    reference_section,
    reference_table,
    write_results,
)


def evaluate_references(cases: list[Case]) -> list[ReferenceResult]:
    """Each reference scored, and each of its flawed variants caught or not."""
    results = []
    for case in cases:
        caught = [(f, bool(score_acta(case, f.acta).caught_by(f.check))) for f in flaws(case)]
        results.append(ReferenceResult(case, score_acta(case, case.reference), caught))
    return results


def _models(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give model names separated by commas")
    return names


def _runs(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: a whole number of runs, 1 or more")
    return int(value)


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(
        prog="make eval", description="Score acta quality on the evaluation cases."
    )
    options.add_argument("--cases", type=Path, default=CASES_DIR, help="the cases' directory")
    options.add_argument("--results", type=Path, default=RESULTS, help="where RESULTS.md goes")
    options.add_argument("--runs", type=_runs, default=3, help="runs per case and model (3)")
    options.add_argument(
        "--models", type=_models, help="models to compare (default: OPENAI_MODEL and one other)"
    )
    options.add_argument(
        "--no-models", action="store_true", help="score the references only, even with a key"
    )
    return options


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(
    argv: list[str] | None = None, *, today: date | None = None, say: Callable[[str], None] = print
) -> int:
    args = parser().parse_args(argv)
    today = today or datetime.now(UTC).date()
    try:
        cases = load_cases(args.cases)
    except CaseError as exc:
        say(f"The evaluation cannot start: {exc}")
        return 2
    results = evaluate_references(cases)
    say(f"Reference actas and their flawed variants ({len(cases)} cases):\n")
    say(reference_table(results))
    problems = reference_problems(results)
    for line in problems:
        say(f"  {line}")
    failed = bool(problems)

    settings = get_settings()
    measured = None
    if settings.openai_api_key and not args.no_models:
        models = args.models or default_models(settings)
        asked = ", ".join(models)
        say(f"\nOPENAI_API_KEY is set: {len(cases)} cases x {args.runs} runs with {asked}.")
        runs = run_models(cases, models, args.runs, settings, say)
        say("\n" + model_table(summaries(runs, models, cases)))
        measured = models_section(runs, models, cases, args.runs, today)
        for model in models:
            if not any(r.score is not None for r in runs if r.model == model):
                say(f"No request to {model} succeeded: nothing was measured for it.")
                failed = True
    else:
        say(
            "\nOPENAI_API_KEY is not set: only the reference actas were scored (no model "
            "was called, nothing was paid). Set it to compare models."
        )
    write_results(args.results, reference_section(results, today), measured)
    say(f"\nResults written to {_shown(args.results)}.")
    if problems:
        say("FAILED: a reference acta broke a check or a flaw went uncaught (listed above).")
    return 1 if failed else 0
