"""How close to the floor: ``make bench`` (``RUNS=N`` fresh interpreters per figure).

One table, every figure beside its floor and its goal, met or the distance left:

* each built function's cold import, and import plus the modules its first
  invocation imports, against a bare script importing what that function needs
  (:mod:`voxlocal.bench.cold`: fresh interpreters, interleaved rounds);
* SQL statements per handler and per meeting, counted by the server, and the
  webhook's requests per second against a ``SELECT 1`` + ``INSERT`` floor
  (:mod:`voxlocal.bench.sql`);
* our own time per meeting of 10 min, 1 h, 3 h and 10 h, emulator waits excluded
  (:mod:`voxlocal.bench.meetings`);
* the built layer's size and its largest packages (:mod:`voxlocal.bench.layer`).

The table is also written to ``bench/RESULTS.md`` with the machine it ran on.
``--detail`` adds each function's slowest imports (``-X importtime``). This
script asserts nothing: it measures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "local"), str(ROOT / "layers" / "common")]

from voxlocal.bench import cold, layer, report  # noqa: E402
from voxlocal.bench.rows import Row  # noqa: E402
from voxlocal.invoke_child import (  # noqa: E402
    IMPORT_MARKER,
    command,
    make_runtime_dir,
    template_functions,
)

RESULTS = ROOT / "bench" / "RESULTS.md"
SECTIONS = ("cold", "sql", "meetings", "layer")


def slowest_imports(function: str, *, tracing: bool, top: int = 6) -> str:
    """The modules costing most (cumulative) in one ``-X importtime`` import of ``function``."""
    with tempfile.TemporaryDirectory(prefix="voxbench-") as tmp:
        work = Path(tmp)
        output = work / "answer.json"
        args = command(
            sys.executable,
            "import",
            code=cold.BUILD / function,
            layer=cold.LAYER,
            runtime=make_runtime_dir(work / "runtime"),
            output=output,
            function_name=function,
            importtime=True,
        )
        proc = subprocess.run(
            args,
            env=cold.child_env(function, tracing=tracing),
            cwd=cold.BUILD / function,
            capture_output=True,
            text=True,
            check=False,
        )
        if not json.loads(output.read_text(encoding="utf-8")).get("ok"):
            return "failed to import"
    lines = proc.stderr.splitlines()
    lines = lines[lines.index(IMPORT_MARKER) + 1 :] if IMPORT_MARKER in lines else lines
    found: list[tuple[int, str]] = []
    for line in lines:
        if line.startswith("import time:") and "self [us]" not in line:
            _self, cumulative, name = line.removeprefix("import time:").split("|", 2)
            found.append((int(cumulative), name.strip()))
    return ", ".join(f"{name} {us / 1000:.0f}" for us, name in sorted(found, reverse=True)[:top])


def optional_rows(section: str, runs: int) -> list[Row]:
    """The SQL and per-meeting figures, each from its own module's ``measure(runs)``."""
    import importlib

    try:
        measure: Callable[[int], list[Row]] = importlib.import_module(
            f"voxlocal.bench.{section}"
        ).measure
        return measure(runs)
    except Exception as exc:  # noqa: BLE001 - one section failing leaves the others' figures
        return [Row(section, "-", "-", "-", False, f"not measured: {type(exc).__name__}: {exc}")]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per figure")
    parser.add_argument("--sql-runs", type=int, default=5, help="runs of the database figures")
    parser.add_argument("--no-tracing", action="store_true", help="POWERTOOLS_TRACE_DISABLED")
    parser.add_argument("--only", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--detail", action="store_true", help="each function's slowest imports")
    parser.add_argument(
        "--no-write",
        action="store_true",
        help=f"leave {RESULTS.name} alone (always so with --only)",
    )
    args = parser.parse_args()
    # The handlers run in process for the database figures: Powertools' "no metrics to
    # publish" warning is not a figure.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    sections = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}: use {', '.join(SECTIONS)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    tracing = not args.no_tracing

    if not (cold.BUILD / "template.yaml").is_file() or not cold.LAYER.is_dir():
        print("No built artifacts in .aws-sam/build: run `make build` first.", file=sys.stderr)
        return 1
    functions = [f for f in template_functions(ROOT / "template.yaml") if (cold.BUILD / f).is_dir()]

    how = (
        f"Cold starts: {args.runs} rounds of paired fresh interpreters "
        f"(python -I -S -B, the built function, layer and runtime packages only), tracing "
        f"{'on, as deployed' if tracing else 'off'}; database figures: {args.sql_runs} runs."
    )
    print(f"VoxCliente against its floors. {how}\nMachine: {report.machine()}\n", flush=True)
    rows: list[Row] = []
    if "cold" in sections:
        rows += cold.measure(functions, runs=args.runs, tracing=tracing)
    for section in ("sql", "meetings"):
        if section in sections:
            rows += optional_rows(section, args.sql_runs)
    if "layer" in sections:
        rows += layer.measure(cold.BUILD / "CommonLayer")
    print(report.text_table(rows))

    if args.detail:
        print("\nSlowest imports (-X importtime, cumulative ms, one run each):")
        for function in functions:
            print(f"  {function}: {slowest_imports(function, tracing=tracing)}")
    if args.only and not args.no_write:
        # A partial table would replace the whole last run: only a full run is kept.
        print(f"\n{RESULTS.relative_to(ROOT)} left alone: --only measures part of the table.")
    elif not args.no_write:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(report.results_markdown(rows, how=how), encoding="utf-8")
        print(f"\nWritten to {RESULTS.relative_to(ROOT)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
