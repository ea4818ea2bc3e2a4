"""Run a built function in a fresh interpreter that sees only what Lambda would.

The parent (the artifact tests, ``make bench``) starts::

    python -I -S -B invoke_child.py invoke --code <built function dir> --layer <built layer python/>
        --runtime <dir> --event <file.json> --output <result.json>
    python -I -S -B invoke_child.py import --code ... --layer ... --runtime ... --output <file.json>

``-I -S``: no site-packages, no ``PYTHON*`` variables, not even the script's
own directory, so ``sys.path`` is the standard library only. The child then
puts, in Lambda's order, the function's code (``/var/task``), the layer
(``/opt/python``) and the runtime's own packages (boto3 and its
dependencies, which the Lambda Python runtime ships) in front of it. A
dependency missing from the layer fails here with ``ModuleNotFoundError``,
not after a deploy.

This file is also imported by the parent for :func:`command` and
:func:`make_runtime_dir`; at module level it uses the standard library only,
because the child runs it before any other path exists.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# What the Lambda Python runtime provides besides the standard library. The
# layer's own copies, when it has some, come first on the path (as in Lambda).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
# Printed on stderr just before the function's module is imported, so a parent
# reading ``-X importtime`` output can skip what the runner itself imported.
IMPORT_MARKER = "voxlocal-invoke-child: importing the function"
# Modules the webhook must never load (they belong to the acta worker).
HEAVY_MODULES = ("openai", "docx", "jinja2")


# --- the parent's side --------------------------------------------------------------
def make_runtime_dir(target: Path) -> Path:
    """Fill ``target`` with links to this interpreter's copies of the runtime's packages."""
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(
                f"{name} (shipped by the Lambda runtime) is not installed here; "
                "install the development requirements."
            )
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = target / source.name
        if not link.exists():
            link.symlink_to(source, target_is_directory=source.is_dir())
    return target


def command(
    python: str | Path,
    mode: str,
    *,
    code: Path,
    layer: Path,
    runtime: Path,
    output: Path,
    event: Path | None = None,
    handler: str = "app.lambda_handler",
    function_name: str = "local",
    timeout_s: int = 30,
    importtime: bool = False,
) -> list[str]:
    """The argument list that runs this file as an isolated child."""
    # -B: never write __pycache__ into the artifacts (sam build ships none, and
    # Lambda's code and layer directories are read-only, so none is ever written).
    args = [str(python), "-I", "-S", "-B"]
    if importtime:
        args += ["-X", "importtime"]
    args += [
        str(Path(__file__).resolve()),
        mode,
        "--code",
        str(code),
        "--layer",
        str(layer),
        "--runtime",
        str(runtime),
        "--output",
        str(output),
        "--handler",
        handler,
        "--function-name",
        function_name,
        "--timeout",
        str(timeout_s),
    ]
    if event is not None:
        args += ["--event", str(event)]
    return args


def template_functions(template: Path) -> dict[str, dict[str, Any]]:
    """Logical id -> properties (Globals merged in) of every function in a SAM template."""
    import yaml  # the parent's environment only

    class CfnLoader(yaml.SafeLoader):
        """Reads CloudFormation's short tags (``!Ref X``) as ``{"Ref": "X"}``."""

    def any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return {suffix: loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {suffix: loader.construct_sequence(node, deep=True)}
        if isinstance(node, yaml.MappingNode):
            return {suffix: loader.construct_mapping(node, deep=True)}
        raise TypeError(f"unexpected YAML node {node!r}")

    CfnLoader.add_multi_constructor("!", any_tag)  # type: ignore[no-untyped-call]
    data: dict[str, Any] = yaml.load(template.read_text(encoding="utf-8"), Loader=CfnLoader)  # noqa: S506
    defaults: dict[str, Any] = (data.get("Globals") or {}).get("Function") or {}
    return {
        name: {**defaults, **(resource.get("Properties") or {})}
        for name, resource in data["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


# --- the child's side -------------------------------------------------------------------
class LambdaContext:
    """Just enough of Lambda's context object for the handlers and Powertools.

    Defined here, with the standard library only, because the child sees nothing
    but that, the built function and the built layer; :mod:`voxlocal.events`
    re-exports it for the tests and the in-process runner. The remaining time runs
    down from ``timeout_s`` as Lambda's does.
    """

    def __init__(self, function_name: str = "local", timeout_s: int = 900) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def _write(output: Path, payload: dict[str, Any]) -> None:
    output.write_text(json.dumps(payload, default=str), encoding="utf-8")


def _failure(exc: BaseException) -> dict[str, Any]:
    return {
        "ok": False,
        "error": {
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": "".join(traceback.format_exception(exc)),
        },
    }


def _isolate(code: Path, layer: Path, runtime: Path) -> None:
    if not (sys.flags.isolated and sys.flags.no_site):
        raise SystemExit("run this file with python -I -S: it must not see any site-packages")
    paths = [path.resolve() for path in (code, layer, runtime)]
    for path in paths:
        if not path.is_dir():
            raise SystemExit(f"not a directory: {path}")
    sys.path[:0] = [str(path) for path in paths]
    os.chdir(paths[0])


def _import(module: str) -> tuple[Any, float]:
    print(IMPORT_MARKER, file=sys.stderr, flush=True)
    started = time.perf_counter()
    loaded = importlib.import_module(module)
    return loaded, time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mode", choices=("invoke", "import"))
    parser.add_argument("--code", type=Path, required=True)
    parser.add_argument("--layer", type=Path, required=True)
    parser.add_argument("--runtime", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--event", type=Path)
    parser.add_argument("--handler", default="app.lambda_handler")
    parser.add_argument("--function-name", default="local")
    parser.add_argument("--timeout", type=int, default=30)
    args = parser.parse_args(argv)

    _isolate(args.code, args.layer, args.runtime)
    module_name, _, handler_name = args.handler.rpartition(".")
    try:
        module, import_s = _import(module_name)
    except BaseException as exc:
        _write(args.output, _failure(exc))
        return 1
    loaded = {name: name in sys.modules for name in HEAVY_MODULES}
    if args.mode == "import":
        _write(
            args.output,
            {"ok": True, "import_s": import_s, "modules": len(sys.modules), "loaded": loaded},
        )
        return 0

    if args.event is None:
        parser.error("invoke needs --event")
    event = json.loads(args.event.read_text(encoding="utf-8"))
    context = LambdaContext(args.function_name, args.timeout)
    try:
        result = getattr(module, handler_name)(event, context)
    except BaseException as exc:
        _write(args.output, _failure(exc))
        return 1
    _write(args.output, {"ok": True, "result": result, "import_s": import_s, "loaded": loaded})
    return 0


if __name__ == "__main__":
    sys.exit(main())
