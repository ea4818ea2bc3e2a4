"""The evaluation's tables, printed and kept in eval/RESULTS.md.

RESULTS.md has two sections between marker comments: the reference actas
(rewritten by every run) and the models (rewritten only by a run that called
a model), so that checking the references without a key never erases the
last comparison of models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from voxlocal.evaluation.cases import Case
from voxlocal.evaluation.findings import Score
from voxlocal.evaluation.flaws import Flaw
from voxlocal.evaluation.models import Run, Summary, summaries

RESULTS = Path(__file__).resolve().parents[3] / "eval" / "RESULTS.md"
REFERENCE_MODEL = "reference actas (no model)"
_HEADER = """\
# Acta evaluation: results

Written by `make eval` (eval/README.md says what is scored and how). Facts found:
facts of the case present in the acta, out of all of them. Invented: names, dates,
times and amounts absent from the transcript and the meeting details, and strings
the case forbids. Format: rules of the acta standard broken.
"""
_NOT_RUN = """\
## Models

Not measured yet: no model has been run. With `OPENAI_API_KEY` set, `make eval`
runs the real model on every case (`RUNS` times per model, `MODELS` to choose them)
and writes the comparison here.
"""


@dataclass(frozen=True)
class ReferenceResult:
    """A case's reference acta scored, and whether each flawed variant was caught."""

    case: Case
    score: Score
    flaws: list[tuple[Flaw, bool]]

    @property
    def passed(self) -> bool:
        return self.score.perfect and all(caught for _, caught in self.flaws)


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def reference_table(results: list[ReferenceResult]) -> str:
    """Case, covers, facts found, invented, format, flaws caught: one row per transcript."""
    rows = [
        [
            r.case.name,
            ", ".join(r.case.covers),
            f"{r.score.found}/{r.score.total}",
            str(len(r.score.invented)),
            str(len(r.score.violations)),
            f"{sum(caught for _, caught in r.flaws)}/{len(r.flaws)}",
        ]
        for r in results
    ]
    return _table(["case", "covers", "facts found", "invented", "format", "flaws caught"], rows)


def reference_problems(results: list[ReferenceResult]) -> list[str]:
    """Why a reference failed, and which flaws went uncaught (empty when all is well)."""
    lines = []
    for result in results:
        lines += [f"{result.case.name}: reference: {f.line()}" for f in result.score.problems()]
        lines += [
            f"{result.case.name}: flaw {flaw.name} ({flaw.description}) "
            f"not caught by '{flaw.check}'"
            for flaw, caught in result.flaws
            if not caught
        ]
    return lines


def _facts(summary: Summary) -> str:
    if summary.facts is None or summary.found is None:
        return "—"
    if summary.case == "all":
        return f"{summary.facts.mean:.0%} ({summary.facts.low:.0%}-{summary.facts.high:.0%})"
    return f"{summary.found.text()}/{summary.total}"


def model_table(rows: list[Summary]) -> str:
    """Per case and model: mean (min-max) of facts found, invented, format; tokens; cost."""
    body = []
    for s in rows:
        tokens = (
            f"{s.input_tokens.mean:.0f} / {s.output_tokens.mean:.0f}"
            if s.input_tokens and s.output_tokens
            else "—"
        )
        body.append(
            [
                "**all cases**" if s.case == "all" else s.case,
                s.model,
                str(s.runs - s.failed),
                _facts(s),
                s.invented.text() if s.invented else "—",
                s.violations.text() if s.violations else "—",
                tokens,
                s.cost_text(),
                str(s.failed),
            ]
        )
    head = ["case", "model", "runs", "facts found", "invented", "format"]
    head += ["tokens in / out (mean)", "cost USD (total)", "failed"]
    return _table(head, body)


def reference_section(results: list[ReferenceResult], today: date) -> str:
    passed = all(r.passed for r in results)
    verdict = "every reference perfect, every flaw caught" if passed else "FAILED (see below)"
    text = (
        f"## Reference actas\n\nDate: {today.isoformat()}. Model: {REFERENCE_MODEL}. "
        f"Result: {verdict}.\n\n{reference_table(results)}\n"
    )
    problems = reference_problems(results)
    if problems:
        text += "\n" + "\n".join(f"- {line}" for line in problems) + "\n"
    return text


def models_section(
    runs: list[Run], models: list[str], cases: list[Case], count: int, today: date
) -> str:
    snapshots = sorted({r.answered_by for r in runs if r.answered_by})
    failures = [f"- {r.case}, {r.model}, run {r.number}: {r.error}" for r in runs if r.error]
    text = (
        f"## Models\n\nDate: {today.isoformat()}. Models: {', '.join(models)} "
        f"(answered by {', '.join(snapshots) or 'none'}); {count} runs per case. "
        "Values are the mean over the runs, (min-max) when they differ; the cost is "
        "priced from the price table by the model that answered.\n\n"
        f"{model_table(summaries(runs, models, cases))}\n"
    )
    if failures:
        text += "\nFailed requests:\n\n" + "\n".join(failures) + "\n"
    return text


def _between(text: str, name: str) -> str | None:
    match = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.DOTALL)
    return match.group(1) if match else None


def write_results(path: Path, references: str, models: str | None) -> None:
    """RESULTS.md with this run's sections; the models' kept from the file when not rerun."""
    if models is None:
        previous = path.read_text(encoding="utf-8") if path.exists() else ""
        models = _between(previous, "models") or _NOT_RUN
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"{_HEADER}\n<!-- references:start -->\n{references}<!-- references:end -->\n\n"
        f"<!-- models:start -->\n{models}<!-- models:end -->\n",
        encoding="utf-8",
    )
