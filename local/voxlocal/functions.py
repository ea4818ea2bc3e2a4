"""Load the functions' handlers from ``functions/<name>/app.py`` as Lambda would."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_function(name: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` under a unique module name.

    Every function has an ``app.py``: importing them by path avoids name clashes.
    """
    path = ROOT / "functions" / name / "app.py"
    if not path.is_file():
        raise FileNotFoundError(f"No function {name!r}: {path.relative_to(ROOT)} does not exist.")
    module_name = f"vox_fn_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
