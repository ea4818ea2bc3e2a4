"""layers/common/slim_layer.py: what the layer's build leaves out, on a fake layer."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import slim_layer
from voxlocal.invoke_child import RUNTIME_PACKAGES

LAYER_SOURCE = Path(slim_layer.__file__).resolve().parent


def _file(root: Path, relative: str, size: int = 10) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def _distribution(root: Path, name: str, version: str, files: list[str]) -> None:
    for relative in files:
        _file(root, relative)
    info = root / f"{name}-{version}.dist-info"
    info.mkdir()
    record = [*files, f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("".join(f"{line},sha256=x,10\n" for line in record))


@pytest.fixture
def layer(tmp_path: Path) -> Path:
    root = tmp_path / "python"
    _distribution(root, "botocore", "1.44.8", ["botocore/__init__.py", "botocore/data/s3.json"])
    _distribution(root, "python_dateutil", "2.9.0", ["dateutil/__init__.py", "dateutil/tz/tz.py"])
    _distribution(root, "six", "1.17.0", ["six.py"])
    _distribution(root, "httpx", "0.28.1", ["httpx/__init__.py", "httpx/_client.py"])
    for pattern in slim_layer.UNUSED:
        _file(root, pattern.replace("*", "cpython-312-x86_64-linux-gnu.so"))
    _file(root, "lxml/etree.cpython-312-x86_64-linux-gnu.so")
    _file(root, "lxml/etree.pyx")
    _file(root, "openai/resources/chat/completions.py")
    _file(root, "pydantic_core/core_schema.pyi")
    _file(root, "bin/openai")
    _file(root, "voxcliente/__init__.py")
    return root


def test_the_runtimes_own_packages_and_the_unused_parts_go(layer: Path) -> None:
    botocore_bytes = 20 + (layer / "botocore-1.44.8.dist-info" / "RECORD").stat().st_size
    removed = slim_layer.slim(layer)

    left = sorted(str(p.relative_to(layer)) for p in layer.rglob("*") if p.is_file())
    # What a function imports stays, with its distribution's record.
    assert left == [
        "httpx-0.28.1.dist-info/RECORD",
        "httpx/__init__.py",
        "httpx/_client.py",
        "lxml/etree.cpython-312-x86_64-linux-gnu.so",
        "openai/resources/chat/completions.py",
        "voxcliente/__init__.py",
    ]
    # Packages emptied by their RECORD leave no directory behind.
    assert not (layer / "botocore").exists() and not (layer / "dateutil").exists()
    assert removed["runtime's own botocore"] == botocore_bytes


def test_a_listed_part_that_is_gone_fails_the_build(layer: Path) -> None:
    # A new release that moved lxml.html (say) must be looked at, not shipped blindly.
    for path in layer.glob("lxml/html*"):
        path.unlink()
    with pytest.raises(SystemExit, match=r"lxml/html.*update UNUSED"):
        slim_layer.slim(layer)


def test_every_package_the_runtime_ships_is_left_out() -> None:
    # voxlocal.invoke_child puts these (import names) where Lambda has its own:
    # each must be one the build leaves out (distribution names).
    distributions = {"dateutil": "python_dateutil"}
    left_out = set(slim_layer.RUNTIME_PROVIDED)
    assert {distributions.get(name, name) for name in RUNTIME_PACKAGES} == left_out


def test_nothing_the_functions_import_is_listed_as_unused() -> None:
    # The modules the handlers import from these packages, directly or through
    # python-docx, openai's chat path and Powertools' event handler.
    imported = [
        "lxml/etree",
        "openai/resources/chat",
        "openai/types/chat",
        "openai/types/shared",
        "aws_lambda_powertools/utilities/batch",
        "aws_lambda_powertools/utilities/data_classes",
        "aws_lambda_powertools/utilities/parameters",
        "aws_lambda_powertools/utilities/parser",
        "aws_lambda_powertools/utilities/typing",
        "aws_lambda_powertools/event_handler/graphql_appsync",
        "aws_lambda_powertools/event_handler/events_appsync",
        "pydantic/_internal",
    ]
    for pattern in slim_layer.UNUSED:
        prefix = pattern.split("*", 1)[0].removesuffix(".")
        clashes = [module for module in imported if module.startswith(prefix)]
        assert clashes == [], f"{pattern} would remove {clashes}"


def test_the_layer_build_is_self_contained() -> None:
    # sam build runs the Makefile from a copy of layers/common: everything it
    # uses must be there, and the script must need nothing but the standard library.
    makefile = (LAYER_SOURCE / "Makefile").read_text()
    assert "build-CommonLayer:" in makefile
    assert '"$(SOURCE)slim_layer.py"' in makefile
    assert '"$(SOURCE)requirements.txt"' in makefile
    spec = importlib.util.find_spec("slim_layer")
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).read_text()
    imports = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from "))
    }
    assert imports <= {"__future__", "argparse", "csv", "shutil", "sys", "pathlib"}
