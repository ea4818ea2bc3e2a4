"""One cold start, timed inside a fresh interpreter that sees only what Lambda would.

Started by :mod:`voxlocal.bench.cold` as::

    python -I -S -B child.py --layer <built layer python/> --runtime <dir> --output <file.json>
        [--code <built function dir>] --imports "import app" --first-use "httpx,puremagic"

``-I -S``: no site-packages and not even this file's directory on ``sys.path``; the
child puts, in Lambda's order, the function's code, the layer and the runtime's
own packages in front of the standard library (as ``voxlocal.invoke_child`` does).
``--imports`` is executed and timed (the function's ``import app``, or a floor's
bare script); then every module of ``--first-use`` is imported and timed: what the
handler imports lazily on its first real invocation. Standard library only.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", type=Path)
    parser.add_argument("--layer", type=Path, required=True)
    parser.add_argument("--runtime", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--imports", required=True)
    parser.add_argument("--first-use", default="")
    args = parser.parse_args()
    if not (sys.flags.isolated and sys.flags.no_site):
        raise SystemExit("run this file with python -I -S: it must not see any site-packages")
    paths = [p.resolve() for p in (args.code, args.layer, args.runtime) if p is not None]
    sys.path[:0] = [str(p) for p in paths]
    os.chdir(paths[0])

    answer: dict[str, object]
    try:
        started = time.perf_counter()
        exec(compile(args.imports, "<imports>", "exec"), {"__name__": "__bench__"})  # noqa: S102
        imported = time.perf_counter()
        for name in filter(None, args.first_use.split(",")):
            importlib.import_module(name)
        done = time.perf_counter()
    except BaseException as exc:  # reported to the parent, which names the function
        answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    else:
        answer = {
            "ok": True,
            "import_s": imported - started,
            "first_use_s": done - imported,
            "modules": len(sys.modules),
        }
    args.output.write_text(json.dumps(answer), encoding="utf-8")
    return 0 if answer["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
