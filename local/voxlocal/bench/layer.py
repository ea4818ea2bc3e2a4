"""The built layer's size, unzipped as Lambda counts it, and its largest packages.

The layer leaves boto3 and its dependencies to the Lambda runtime, which ships
them (layers/common/slim_layer.py); the note says so, or names the runtime's
packages a build shipped anyway.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

# The distributions the Lambda Python runtime ships, which the layer's build leaves
# out (layers/common/slim_layer.py, importable beside voxcliente).
from slim_layer import RUNTIME_PROVIDED
from voxlocal.bench.rows import Row

GOAL_MB = 60.0


def tree_size(path: Path) -> int:
    """Bytes under ``path``, symbolic links not followed."""
    total = 0
    for dirpath, _dirnames, filenames in os.walk(path):
        for name in filenames:
            total += (Path(dirpath) / name).lstat().st_size
    return total


def distribution_of(entry: Path) -> str:
    """A layer entry's distribution: pydantic and pydantic-2.x.dist-info are both pydantic."""
    name = entry.name
    for suffix in (".dist-info", ".data", ".libs"):
        if name.endswith(suffix):
            name = name.removesuffix(suffix).rsplit("-", 1)[0]
    return name.removesuffix(".py").removesuffix("-stubs").lower().replace("-", "_")


def packages(layer: Path) -> dict[str, int]:
    """Bytes per distribution under the layer's ``python/``."""
    sizes: dict[str, int] = {}
    for entry in layer.iterdir():
        size = tree_size(entry) if entry.is_dir() else entry.lstat().st_size
        name = distribution_of(entry)
        sizes[name] = sizes.get(name, 0) + size
    return sizes


def zipped_size(root: Path) -> int:
    """The layer zipped (deflate, as ``sam deploy`` uploads it)."""
    with tempfile.TemporaryDirectory(prefix="voxbench-zip-") as tmp:
        target = Path(tmp) / "layer.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for dirpath, _dirnames, filenames in os.walk(root):
                for name in filenames:
                    path = Path(dirpath) / name
                    archive.write(path, path.relative_to(root))
        return target.stat().st_size


def measure(root: Path, *, top: int = 6) -> list[Row]:
    """``root`` is the built layer (``CommonLayer``, holding ``python/``), .pyc included:
    ``make build`` and ``make package`` ship them."""
    total = tree_size(root)
    bytecode = sum(
        tree_size(Path(dirpath))
        for dirpath, _dirnames, _files in os.walk(root)
        if Path(dirpath).name == "__pycache__"
    )
    sizes = packages(root / "python")
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:top]
    shipped = [name for name in RUNTIME_PROVIDED if name in sizes]
    runtime = (
        f"ships the runtime's own {', '.join(shipped)}"
        if shipped
        else "boto3 & co. from the Lambda runtime"
    )
    mb = total / 1e6
    met = mb <= GOAL_MB
    distance = "met" if met else f"{mb - GOAL_MB:.1f} MB over the goal"
    return [
        Row(
            "layer, unzipped (.pyc included)",
            f"{mb:.1f} MB",
            "what the functions import",
            f"≤ {GOAL_MB:.0f} MB",
            met,
            f"{distance}; zipped {zipped_size(root) / 1e6:.1f} MB, .pyc {bytecode / 1e6:.1f} MB; "
            + runtime,
        ),
        Row(
            "layer, largest packages",
            f"{len(largest)} shown",
            "-",
            "-",
            True,
            ", ".join(f"{name} {size / 1e6:.1f}" for name, size in largest) + " MB",
        ),
    ]
