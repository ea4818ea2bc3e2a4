"""Cold starts of the built functions against their floors, interleaved.

For every function of template.yaml, as ``sam build`` left it in ``.aws-sam/build``:

* **import**: ``import app`` in a fresh interpreter that sees only the function's
  code, the built layer and what the Lambda runtime ships
  (:mod:`voxlocal.bench.child`, ``python -I -S -B``), timed inside the child;
* **import + first use**: the same, plus the modules its handler imports lazily
  on its first real invocation (:data:`FIRST_USE`: a provider's SDK, the
  renderers, the secrets provider), in the same interpreter.

Each is set against its **floor**: a bare script, in the same kind of
interpreter, importing what that function cannot do without (boto3, psycopg and
Powertools' Logger, plus what its work needs, :data:`FLOORS`), and the same
first-use modules a bare implementation would need too. Every round starts, for
each function in a shuffled order, its interpreter and its floor's back to back
(which of the two first, at random), and the ratio is the median of these
rounds' ratios: on a shared machine whose load comes in bursts, a function and
its floor timed seconds apart can land in different bursts, and a ratio of
medians then swings by 0.3 between two runs; neighbours share their moment.

Tracing is as deployed (the template's ``Tracing`` parameter, on unless told
otherwise): ``LAMBDA_TASK_ROOT`` is set, so Powertools' Tracer behaves as in AWS.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from voxlocal.bench.rows import Row
from voxlocal.invoke_child import make_runtime_dir

ROOT = Path(__file__).resolve().parents[3]
BUILD = ROOT / ".aws-sam" / "build"
LAYER = BUILD / "CommonLayer" / "python"
CHILD = Path(__file__).resolve().with_name("child.py")

IMPORT_GOAL = 1.15
FIRST_USE_GOAL = 1.3

# Every function's floor: the AWS SDK, the database driver and the logger.
_BASE = "import boto3\nimport psycopg\nfrom aws_lambda_powertools import Logger\nLogger()\n"
_HTTP_API = "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
_BATCH = "from aws_lambda_powertools.utilities.batch import BatchProcessor\n"
# In AWS every function reads its secrets through Powertools Parameters on first use.
_SECRETS = "aws_lambda_powertools.utilities.parameters"

FLOORS: dict[str, str] = {
    "UploadApiFunction": _BASE + _HTTP_API,
    "SubmitFunction": _BASE,
    "WebhookFunction": _BASE,
    "ActaFunction": _BASE + _BATCH,
    "EmailEventsFunction": _BASE,
    "ReconcilerFunction": _BASE,
    "MigrateFunction": _BASE,
}
# What a bare implementation would import on first use. Talking to AssemblyAI
# needs no more than the urllib3 botocore already loaded.
FLOOR_FIRST_USE: dict[str, tuple[str, ...]] = {
    "SubmitFunction": ("puremagic", _SECRETS),
    "ActaFunction": ("openai", "docx", "jinja2", _SECRETS),
}
# What each handler imports lazily on the path of its first real invocation
# (the lazy imports of voxcliente on that path, read from the sources): orjson with
# the first JSON value written (a timeline event), msgspec (assemblyai_json) with
# the first transcript read.
_SETTINGS = ("voxcliente.domain.languages", _SECRETS)
FIRST_USE: dict[str, tuple[str, ...]] = {
    "UploadApiFunction": _SETTINGS,
    "SubmitFunction": (*_SETTINGS, "puremagic", "httpx", "orjson"),
    "WebhookFunction": (*_SETTINGS, "orjson"),
    "ActaFunction": (
        *_SETTINGS,
        "orjson",
        "voxcliente.adapters.assemblyai_json",
        "voxcliente.acta.generation",
        "voxcliente.render",
        "voxcliente.render.docx_writer",
        "openai",
        "docx",
        "jinja2",
    ),
    "EmailEventsFunction": (*_SETTINGS, "orjson"),
    "ReconcilerFunction": (*_SETTINGS, "httpx", "orjson", "voxcliente.adapters.assemblyai_json"),
    "MigrateFunction": _SETTINGS,
}


def child_env(function: str, *, tracing: bool) -> dict[str, str]:
    env = {
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "LAMBDA_TASK_ROOT": str(BUILD / function),
        "POWERTOOLS_SERVICE_NAME": "voxcliente",
        "POWERTOOLS_METRICS_NAMESPACE": "VoxCliente",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
    }
    return env


@dataclass
class Samples:
    """Seconds per fresh interpreter: the import, and the import plus first use."""

    imports: list[float] = field(default_factory=list)
    first_use: list[float] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class Job:
    key: str  # the function, or "floor:<function>"
    function: str
    code: Path | None
    imports: str
    first_use: tuple[str, ...]


def jobs(functions: list[str]) -> list[Job]:
    found: list[Job] = []
    for function in functions:
        found.append(
            Job(function, function, BUILD / function, "import app", FIRST_USE.get(function, ()))
        )
        found.append(
            Job(
                f"floor:{function}",
                function,
                None,
                FLOORS.get(function, _BASE),
                FLOOR_FIRST_USE.get(function, (_SECRETS,)),
            )
        )
    return found


def run(job: Job, runtime: Path, work: Path, *, tracing: bool) -> tuple[float, float] | str:
    """One fresh interpreter: (import s, import + first use s), or what went wrong."""
    output = work / "answer.json"
    output.unlink(missing_ok=True)
    args = [sys.executable, "-I", "-S", "-B", str(CHILD)]
    if job.code is not None:
        args += ["--code", str(job.code)]
    args += ["--layer", str(LAYER), "--runtime", str(runtime), "--output", str(output)]
    args += ["--imports", job.imports, "--first-use", ",".join(job.first_use)]
    proc = subprocess.run(  # noqa: S603 - our own interpreter and child script
        args,
        env=child_env(job.function, tracing=tracing),
        cwd=job.code or work,
        capture_output=True,
        text=True,
        check=False,
    )
    if not output.is_file():
        return f"the interpreter died: {proc.stderr.strip()[-300:]}"
    answer = json.loads(output.read_text(encoding="utf-8"))
    if not answer["ok"]:
        return str(answer["error"])
    return answer["import_s"], answer["import_s"] + answer["first_use_s"]


def measure_samples(
    functions: list[str], *, runs: int, tracing: bool, seed: int = 14
) -> dict[str, Samples]:
    """``runs`` rounds; in each, every function and its floor back to back, in a
    shuffled order. The i-th sample of a function and of its floor share a round."""
    every = jobs(functions)
    samples = {job.key: Samples() for job in every}
    pairs = [every[i : i + 2] for i in range(0, len(every), 2)]
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="voxbench-") as tmp:
        work = Path(tmp)
        runtime = make_runtime_dir(work / "runtime")
        for _ in range(runs):
            rng.shuffle(pairs)
            for pair in pairs:
                if any(samples[job.key].error for job in pair):
                    continue
                for job in rng.sample(pair, len(pair)):
                    result = run(job, runtime, work, tracing=tracing)
                    if isinstance(result, str):
                        samples[job.key].error = result
                        break
                    samples[job.key].imports.append(result[0])
                    samples[job.key].first_use.append(result[1])
    return samples


def spread(values: list[float]) -> str:
    """``median [min-max]`` in milliseconds."""
    return (
        f"{statistics.median(values) * 1000:.0f} ms "
        f"[{min(values) * 1000:.0f}-{max(values) * 1000:.0f}]"
    )


def ratio_row(figure: str, now: list[float], floor: list[float], goal: float) -> Row:
    """The figure against its floor: the median of the rounds' ratios when the samples
    pair up round by round (:func:`measure_samples`), else the ratio of medians."""
    if len(now) == len(floor):
        ratio = statistics.median(mine / bare for mine, bare in zip(now, floor, strict=True))
    else:
        ratio = statistics.median(now) / statistics.median(floor)
    met = ratio <= goal
    if met:
        note = f"{ratio:.2f}x floor: met"
    else:
        over_ms = (ratio - goal) * statistics.median(floor) * 1000
        note = f"{ratio:.2f}x floor: {over_ms:.0f} ms over the goal"
    return Row(figure, spread(now), spread(floor), f"≤ {goal}x floor", met, note)


def rows(samples: dict[str, Samples], functions: list[str]) -> list[Row]:
    table: list[Row] = []
    for function in functions:
        name = function.removesuffix("Function")
        mine, floor = samples[function], samples[f"floor:{function}"]
        if mine.error or floor.error:
            which = "its floor" if floor.error else "the function"
            problem = floor.error or mine.error
            table.append(Row(f"{name}: import", "-", "-", "-", False, f"{which}: {problem}"))
            continue
        table.append(ratio_row(f"{name}: import", mine.imports, floor.imports, IMPORT_GOAL))
        table.append(
            ratio_row(
                f"{name}: import + first use", mine.first_use, floor.first_use, FIRST_USE_GOAL
            )
        )
    return table


def measure(functions: list[str], *, runs: int, tracing: bool) -> list[Row]:
    return rows(measure_samples(functions, runs=runs, tracing=tracing), functions)
