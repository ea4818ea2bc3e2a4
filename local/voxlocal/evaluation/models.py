"""The real model's actas, scored: each case, each model, several runs.

The acta is written by the product's own ``generate_acta`` (the same
instructions, the same strict schema, the same client and retries) with only
the model changed, so what is measured is what a user would receive. A model
does not answer the same way twice: every case is run ``runs`` times per model
and the spread (min-max) is reported with the mean. Tokens are the ones the
responses report; the cost is priced from ``voxcliente.domain.prices`` (the
settings' price table) by the model the response names.

A failed request is reported (case, model, error) and the run goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from voxcliente.acta.generation import generate_acta
from voxcliente.domain.prices import openai_token_prices
from voxcliente.settings import Settings
from voxlocal.evaluation.cases import Case
from voxlocal.evaluation.checks import score_acta
from voxlocal.evaluation.findings import Score

MILLION = Decimal(1_000_000)
# The settings' default model and the next one up in the price table.
ALTERNATIVES = {"gpt-4.1-mini": "gpt-4.1", "gpt-4.1": "gpt-4.1-mini"}


def default_models(settings: Settings) -> list[str]:
    """The model the product uses (OPENAI_MODEL) and one alternative to compare it with."""
    default = settings.openai_model
    return [default, ALTERNATIVES.get(default, "gpt-4.1-mini")]


@dataclass(frozen=True)
class Run:
    """One acta written by one model for one case (or the error that stopped it)."""

    case: str
    model: str  # as asked for
    number: int
    score: Score | None
    answered_by: str = ""  # the model the response names (a dated snapshot)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal | None = Decimal(0)  # None: the price table has no such model
    seconds: float = 0.0
    error: str = ""


def cost_usd(
    settings: Settings, model: str, input_tokens: int, output_tokens: int
) -> Decimal | None:
    """What the tokens cost at the price table's rates; None if the model is not in it."""
    prices = openai_token_prices(settings.price_table, model)
    if prices is None:
        return None
    return (input_tokens * prices["input"] + output_tokens * prices["output"]) / MILLION


def _one(case: Case, model: str, number: int, settings: Settings) -> Run:
    started = time.monotonic()
    try:
        result = generate_acta(case.transcript_input(), settings=settings)
    except Exception as exc:  # reported, and the evaluation goes on
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        return Run(
            case.name,
            model,
            number,
            None,
            seconds=time.monotonic() - started,
            error=f"{type(exc).__name__}: {message}",
        )
    return Run(
        case=case.name,
        model=model,
        number=number,
        score=score_acta(case, result.acta),
        answered_by=result.model,
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        cost_usd=cost_usd(settings, result.model, result.input_tokens, result.output_tokens),
        seconds=time.monotonic() - started,
    )


def progress_line(run: Run, index: int, count: int, runs: int) -> str:
    """What is printed after each request."""
    head = f"[{index}/{count}] {run.model} {run.case} run {run.number}/{runs}"
    if run.score is None:
        return f"{head}: FAILED ({run.seconds:.1f} s) {run.error}"
    cost = (
        "cost unknown (model not in the price table)"
        if run.cost_usd is None
        else f"USD {run.cost_usd:.4f}"
    )
    score = run.score
    return (
        f"{head}: facts {score.found}/{score.total}, invented {len(score.invented)}, "
        f"format {len(score.violations)}; {run.input_tokens} in / {run.output_tokens} out "
        f"tokens, {cost}; {run.seconds:.1f} s ({run.answered_by})"
    )


def run_models(
    cases: list[Case],
    models: list[str],
    runs: int,
    settings: Settings,
    say: Callable[[str], None] = print,
) -> list[Run]:
    """Every case ``runs`` times with every model, a progress line per request."""
    count = len(cases) * len(models) * runs
    done: list[Run] = []
    for model in models:
        chosen = settings.model_copy(update={"openai_model": model})
        for case in cases:
            for number in range(1, runs + 1):
                run = _one(case, model, number, chosen)
                done.append(run)
                say(progress_line(run, len(done), count, runs))
    return done


@dataclass(frozen=True)
class Spread:
    """Mean and range of one measure over the runs that succeeded."""

    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Spread | None:
        return cls(sum(values) / len(values), min(values), max(values)) if values else None

    def text(self, digits: int = 1) -> str:
        if self.low == self.high:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ({self.low:g}-{self.high:g})"


@dataclass(frozen=True)
class Summary:
    """One case and model (or a model over every case, ``case`` = "all")."""

    case: str
    model: str
    runs: int
    failed: int
    facts: Spread | None  # facts found, as a share of the facts (0-1)
    found: Spread | None  # facts found, counted
    total: int
    invented: Spread | None
    violations: Spread | None
    input_tokens: Spread | None
    output_tokens: Spread | None
    cost_usd: Decimal | None  # summed; None if any run's model had no price

    def cost_text(self) -> str:
        return "n/a" if self.cost_usd is None else f"{self.cost_usd:.4f}"


def summarise(runs: list[Run], case: str, model: str) -> Summary:
    ok = [r for r in runs if r.score is not None]
    scores = [r.score for r in ok if r.score is not None]
    costs = [r.cost_usd for r in ok]
    return Summary(
        case=case,
        model=model,
        runs=len(runs),
        failed=len(runs) - len(ok),
        facts=Spread.of([s.found / s.total if s.total else 1.0 for s in scores]),
        found=Spread.of([float(s.found) for s in scores]),
        total=max((s.total for s in scores), default=0),
        invented=Spread.of([float(len(s.invented)) for s in scores]),
        violations=Spread.of([float(len(s.violations)) for s in scores]),
        input_tokens=Spread.of([float(r.input_tokens) for r in ok]),
        output_tokens=Spread.of([float(r.output_tokens) for r in ok]),
        cost_usd=None
        if any(c is None for c in costs)
        else sum((c for c in costs if c is not None), Decimal(0)),
    )


def summaries(runs: list[Run], models: list[str], cases: list[Case]) -> list[Summary]:
    """Per case and model, in case order, then each model over every case."""
    rows = [
        summarise([r for r in runs if r.case == case.name and r.model == model], case.name, model)
        for case in cases
        for model in models
    ]
    rows += [summarise([r for r in runs if r.model == model], "all", model) for model in models]
    return rows
