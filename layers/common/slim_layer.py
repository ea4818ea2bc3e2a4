"""Trim an installed layer (``python/``) to what the functions can import.

``layers/common/Makefile`` runs this after ``pip install --target``; it takes
away, in order:

1. the distributions the Lambda Python runtime already ships
   (:data:`RUNTIME_PROVIDED`: boto3 and its dependencies). They come with
   Powertools' tracer (aws-xray-sdk requires botocore) and with the boto3 pin
   of ``requirements.txt``, which stays there as the version the tests run
   against; in Lambda the runtime's copies are on ``sys.path`` after the layer,
   so shipping ours only shadowed them with a second, 26 MB copy. Each
   distribution goes by its ``RECORD`` (every file pip installed for it);
2. the parts of packages that no function reaches (:data:`UNUSED`): each entry
   says why it is safe. A path listed here that is not found fails the build,
   so an upgrade that moves things is noticed instead of silently shipping them;
3. files no interpreter reads (:data:`NEVER_IMPORTED`): type stubs, Cython
   sources and C headers, console scripts.

Standard library only: ``sam build`` runs it with whatever ``python3.12`` is on
``PATH``: ``python slim_layer.py <layer python dir>``.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

# Import names are not distribution names: python-dateutil installs dateutil.
RUNTIME_PROVIDED = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python_dateutil",
    "six",
    "urllib3",
)

# Paths under python/ (globs allowed) and why nothing imports them.
UNUSED: dict[str, str] = {
    # python-docx only imports lxml.etree (docx/oxml); etree imports none of these.
    "lxml/objectify.*": "lxml.objectify: python-docx uses lxml.etree only",
    "lxml/html": "lxml.html: python-docx uses lxml.etree only",
    "lxml/isoschematron": "lxml.isoschematron: python-docx uses lxml.etree only",
    "lxml/includes": "C headers for building against lxml",
    "lxml/sax.*": "lxml.sax: python-docx uses lxml.etree only",
    "lxml/cssselect.py": "needs the cssselect package, which is not installed",
    "lxml/doctestcompare.py": "doctest helper",
    "lxml/usedoctest.py": "doctest helper",
    # Served only by enable_swagger(); the upload API does not publish its schema.
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/*.js": "Swagger UI assets",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/*.css": "Swagger UI assets",
    # Powertools utilities the functions never import (they use batch,
    # data_classes, parameters and typing; each utility is imported on its own).
    "aws_lambda_powertools/utilities/data_masking": "Powertools utility not used",
    "aws_lambda_powertools/utilities/feature_flags": "Powertools utility not used",
    "aws_lambda_powertools/utilities/idempotency": "Powertools utility not used",
    "aws_lambda_powertools/utilities/kafka": "Powertools utility not used",
    "aws_lambda_powertools/utilities/streaming": "Powertools utility not used",
    "aws_lambda_powertools/utilities/validation": "Powertools utility not used",
    "aws_lambda_powertools/utilities/circuit_breaker": "Powertools utility not used",
    "aws_lambda_powertools/utilities/auth_alpha": "Powertools utility not used",
    # OpenAI API families the acta worker never calls (it calls chat.completions).
    # The client imports each family on first access to its attribute
    # (client.beta, client.admin, ...), and openai/__init__ only names them for type
    # checkers, so `import openai` and the chat path never load these (9 MB with .pyc).
    "openai/resources/beta": "OpenAI Assistants/threads API (client.beta), not called",
    "openai/types/beta": "types of client.beta, not called",
    "openai/resources/admin": "OpenAI organisation admin API (client.admin), not called",
    "openai/types/admin": "types of client.admin, not called",
    "openai/resources/realtime": "OpenAI Realtime API (client.realtime), not called",
    "openai/types/realtime": "types of client.realtime, not called",
    "openai/resources/live": "OpenAI live sessions (client.live), not called",
    "openai/types/live": "types of client.live, not called",
    # pydantic 1's API, kept inside pydantic 2 for migrations; only `pydantic.v1`
    # imports it and nothing here does.
    "pydantic/v1": "pydantic 1 compatibility package, never imported",
    "wrapt-stubs": "type stubs",
}

# File patterns (anywhere) that no interpreter reads.
NEVER_IMPORTED = ("*.pyi", "*.pyx", "*.pxd", "*.pxi", "*.h", "py.typed")
NEVER_IMPORTED_DIRS = ("bin",)


def remove(path: Path) -> int:
    """Delete a file or a tree; the bytes it held."""
    if path.is_dir() and not path.is_symlink():
        size = sum(p.lstat().st_size for p in path.rglob("*") if not p.is_dir())
        shutil.rmtree(path)
        return size
    size = path.lstat().st_size
    path.unlink()
    return size


def dist_info(layer: Path, distribution: str) -> Path | None:
    for candidate in layer.glob("*.dist-info"):
        name = candidate.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        if name.lower().replace("-", "_").replace(".", "_") == distribution:
            return candidate
    return None


def drop_distribution(layer: Path, distribution: str) -> int:
    """Remove every file pip recorded for ``distribution``; 0 if it is not installed."""
    info = dist_info(layer, distribution)
    if info is None:
        return 0
    removed = 0
    with (info / "RECORD").open(encoding="utf-8", newline="") as record:
        for row in csv.reader(record):
            path = (layer / row[0]).resolve()
            if path.is_relative_to(layer.resolve()) and path.exists():
                removed += remove(path)
    # What the RECORD named leaves empty package directories behind.
    for directory in sorted(
        (p for p in layer.iterdir() if p.is_dir()), key=lambda p: len(p.parts), reverse=True
    ):
        for sub in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if sub.is_dir() and not any(sub.iterdir()):
                sub.rmdir()
        if not any(directory.iterdir()):
            directory.rmdir()
    if info.exists():
        removed += remove(info)
    return removed


def slim(layer: Path) -> dict[str, int]:
    """Trim ``layer`` in place; bytes removed per reason."""
    removed: dict[str, int] = {}
    for distribution in RUNTIME_PROVIDED:
        removed[f"runtime's own {distribution}"] = drop_distribution(layer, distribution)
    for pattern, reason in UNUSED.items():
        matches = list(layer.glob(pattern))
        if not matches:
            raise SystemExit(
                f"slim_layer: nothing matches {pattern!r} ({reason}) in {layer}: the package "
                "changed; check what it imports now and update UNUSED in slim_layer.py."
            )
        removed[reason] = removed.get(reason, 0) + sum(remove(path) for path in matches)
    for pattern in NEVER_IMPORTED:
        removed[pattern] = sum(remove(path) for path in list(layer.rglob(pattern)))
    for name in NEVER_IMPORTED_DIRS:
        if (layer / name).is_dir():
            removed[f"{name}/"] = remove(layer / name)
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layer", type=Path, help="the layer's python/ directory")
    args = parser.parse_args(argv)
    removed = slim(args.layer)
    total = sum(removed.values())
    print(f"slim_layer: removed {total / 1e6:.1f} MB from {args.layer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
