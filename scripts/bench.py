"""Cold-start figures of the built functions: ``make bench`` (``RUNS=N`` to change N).

For every function of template.yaml, as ``sam build`` left it in ``.aws-sam/build``:

* the time to import its ``app`` module in a fresh interpreter that sees only
  the function's code, the built layer and what the Lambda runtime ships
  (``python -I -S -B``, as the artifact tests run it): median, min and max over
  N interpreters, measured inside the child around the import; and the whole
  process's wall time, measured outside;
* the same import with the artifacts precompiled to ``.pyc`` (a temporary
  copy): what shipping bytecode would save, since Lambda's code and layer
  directories are read-only and ``sam build`` ships none;
* with ``-X importtime`` once: the modules that cost the most;
* which heavy libraries (openai, docx, jinja2) each import loads (the webhook
  must load none);
* the layer's unzipped size and its biggest packages.

Tracing is on, as in AWS (the template sets ``Tracing: Active``; Powertools
then imports and patches the X-Ray SDK at import time); ``--no-tracing`` turns
it off. This script prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "local"))

from voxlocal.invoke_child import (  # noqa: E402
    HEAVY_MODULES,
    IMPORT_MARKER,
    command,
    make_runtime_dir,
    template_functions,
)

BUILD = ROOT / ".aws-sam" / "build"
LAYER_ROOT = BUILD / "CommonLayer"
LAYER = LAYER_ROOT / "python"


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
    }
    if not tracing:
        env["POWERTOOLS_TRACE_DISABLED"] = "1"
    return env


def run_import(
    function: str,
    code: Path,
    layer: Path,
    runtime: Path,
    work: Path,
    *,
    tracing: bool,
    importtime: bool = False,
) -> tuple[dict[str, Any], float, str]:
    """One fresh interpreter importing the function: (child's answer, wall seconds, stderr)."""
    output = work / f"{function}.json"
    args = command(
        sys.executable,
        "import",
        code=code,
        layer=layer,
        runtime=runtime,
        output=output,
        function_name=function,
        importtime=importtime,
    )
    started = time.perf_counter()
    proc = subprocess.run(
        args,
        env=child_env(function, tracing=tracing),
        cwd=code,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    answer: dict[str, Any] = (
        json.loads(output.read_text(encoding="utf-8"))
        if output.is_file()
        else {"ok": False, "error": {"type": "died", "message": proc.stderr[-500:]}}
    )
    return answer, wall, proc.stderr


def importtime_top(stderr: str, top: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The largest (module, µs) by cumulative and by self time after the runner's marker."""
    lines = stderr.splitlines()
    if IMPORT_MARKER in lines:
        lines = lines[lines.index(IMPORT_MARKER) + 1 :]
    rows: list[tuple[str, int, int]] = []
    for line in lines:
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            self_us, cumulative_us, name = line.removeprefix("import time:").split("|", 2)
            rows.append((name.strip(), int(self_us), int(cumulative_us)))
        except ValueError:
            continue
    by_cumulative = [(n, c) for n, _, c in sorted(rows, key=lambda r: -r[2])[:top]]
    by_self = [(n, s) for n, s, _ in sorted(rows, key=lambda r: -r[1])[:top]]
    return by_cumulative, by_self


def tree_size(path: Path) -> tuple[int, int]:
    """(bytes, files) under path, symbolic links not followed."""
    total = files = 0
    for dirpath, _dirnames, filenames in os.walk(path):
        for name in filenames:
            total += (Path(dirpath) / name).lstat().st_size
            files += 1
    return total, files


def distribution_of(entry: Path) -> str:
    """Group a layer entry with its distribution (pydantic, pydantic-2.x.dist-info -> pydantic)."""
    name = entry.name
    for suffix in (".dist-info", ".data", ".libs"):
        if name.endswith(suffix):
            name = name.removesuffix(suffix).rsplit("-", 1)[0]
    return name.removesuffix(".py").removesuffix("-stubs").lower().replace("-", "_")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f}"


def precompiled_copy(functions: list[str], target: Path) -> tuple[Path, Path]:
    """A copy of the built layer and functions with .pyc files beside the sources."""
    shutil.copytree(LAYER, target / "layer", symlinks=True)
    for function in functions:
        shutil.copytree(BUILD / function, target / function, symlinks=True)
    compileall.compile_dir(target, quiet=1, workers=0)
    return target / "layer", target


def measure(
    functions: list[str], *, runs: int, top: int, tracing: bool, pyc: bool
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="voxbench-") as tmp:
        work = Path(tmp)
        runtime = make_runtime_dir(work / "runtime")
        pyc_layer, pyc_root = precompiled_copy(functions, work / "pyc") if pyc else (None, None)
        for function in functions:
            imports: list[float] = []
            walls: list[float] = []
            pyc_imports: list[float] = []
            answer: dict[str, Any] = {}
            for _ in range(runs):
                answer, wall, _stderr = run_import(
                    function, BUILD / function, LAYER, runtime, work, tracing=tracing
                )
                if not answer.get("ok"):
                    break
                imports.append(answer["import_s"])
                walls.append(wall)
                if pyc_layer is not None and pyc_root is not None:
                    pyc_answer, _, _ = run_import(
                        function, pyc_root / function, pyc_layer, runtime, work, tracing=tracing
                    )
                    if pyc_answer.get("ok"):
                        pyc_imports.append(pyc_answer["import_s"])
            if not answer.get("ok"):
                error = answer.get("error", {})
                results[function] = {"error": f"{error.get('type')}: {error.get('message')}"}
                continue
            _, _, stderr = run_import(
                function, BUILD / function, LAYER, runtime, work, tracing=tracing, importtime=True
            )
            results[function] = {
                "imports": imports,
                "walls": walls,
                "pyc": pyc_imports,
                "modules": answer["modules"],
                "loaded": answer["loaded"],
                "top": importtime_top(stderr, top),
            }

    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per function")
    parser.add_argument("--top", type=int, default=5, help="modules shown from -X importtime")
    parser.add_argument("--no-tracing", action="store_true", help="POWERTOOLS_TRACE_DISABLED=1")
    parser.add_argument("--no-pyc", action="store_true", help="skip the precompiled comparison")
    args = parser.parse_args()
    tracing = not args.no_tracing

    if not (BUILD / "template.yaml").is_file() or not LAYER.is_dir():
        print("No built artifacts in .aws-sam/build: run `make build` first.", file=sys.stderr)
        return 1
    functions = [f for f in template_functions(ROOT / "template.yaml") if (BUILD / f).is_dir()]

    print(
        f"VoxCliente cold start, from .aws-sam/build only: {args.runs} fresh interpreters "
        f"per function (python -I -S -B), Python {sys.version.split()[0]}, "
        f"tracing {'on (as in AWS)' if tracing else 'off'}\n"
    )
    results = measure(functions, runs=args.runs, top=args.top, tracing=tracing, pyc=not args.no_pyc)
    print_report(results, top=args.top)
    return 0


def print_report(results: dict[str, dict[str, Any]], *, top: int) -> None:
    header = (
        f"{'function':<22}{'import median':>14}{'min':>8}{'max':>8}"
        f"{'process median':>16}{'with .pyc':>11}{'modules':>9}   heavy imports"
    )
    print(header)
    print("-" * len(header))
    for function, r in results.items():
        if "error" in r:
            print(f"{function:<22}  FAILED to import: {r['error']}")
            continue
        heavy = ", ".join(name for name, yes in r["loaded"].items() if yes) or "none"
        pyc = ms(statistics.median(r["pyc"])) + " ms" if r["pyc"] else "      -   "
        print(
            f"{function:<22}{ms(statistics.median(r['imports']))} ms"
            f"{ms(min(r['imports']))}{ms(max(r['imports']))}"
            f"{ms(statistics.median(r['walls']))} ms{'':>3}{pyc:>11}{r['modules']:>9}   {heavy}"
        )

    print(f"\nSlowest imports (-X importtime, one run each; top {top}, ms):")
    for function, r in results.items():
        if "error" in r:
            continue
        by_cumulative, by_self = r["top"]
        print(f"  {function}")
        print("    cumulative: " + ", ".join(f"{n} {us / 1000:.0f}" for n, us in by_cumulative))
        print("    self:       " + ", ".join(f"{n} {us / 1000:.0f}" for n, us in by_self))

    webhook = results.get("WebhookFunction", {})
    if "loaded" in webhook:
        print("\nWebhook handler import loads (it must load none of these):")
        for name in HEAVY_MODULES:
            state = "IMPORTED" if webhook["loaded"][name] else "not imported"
            print(f"  {name:<8} {state}")

    total, files = tree_size(LAYER_ROOT)
    print(f"\nLayer .aws-sam/build/CommonLayer unzipped: {total / 1e6:.1f} MB in {files} files")
    groups: dict[str, int] = {}
    for entry in LAYER.iterdir():
        size = tree_size(entry)[0] if entry.is_dir() else entry.lstat().st_size
        groups[distribution_of(entry)] = groups.get(distribution_of(entry), 0) + size
    print("Biggest packages:")
    for name, size in sorted(groups.items(), key=lambda item: -item[1])[:10]:
        print(f"  {name:<24}{size / 1e6:7.1f} MB  {100 * size / total:4.1f}%")
    print("\n(Figures only; the Lambda limit is 250 MB unzipped for code and layers together.)")


if __name__ == "__main__":
    sys.exit(main())
