"""voxlocal.bench.layer: the layer's size row names the runtime's packages a build shipped."""

from __future__ import annotations

from pathlib import Path

from voxlocal.bench import layer


def _layer(tmp_path: Path, *entries: str) -> Path:
    python = tmp_path / "CommonLayer" / "python"
    for entry in entries:
        path = python / entry
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 1000)
    return python.parent


def test_a_layer_without_the_runtimes_sdk_says_so(tmp_path: Path) -> None:
    root = _layer(tmp_path, "openai/__init__.py", "voxcliente/__init__.py")
    size, largest = layer.measure(root, top=1)
    assert size.now == "0.0 MB" and size.met
    assert size.note.endswith("boto3 & co. from the Lambda runtime")
    assert largest.note.startswith(("openai 0.0", "voxcliente 0.0"))


def test_a_layer_shipping_botocore_names_it(tmp_path: Path) -> None:
    root = _layer(tmp_path, "botocore/__init__.py", "botocore-1.44.8.dist-info/RECORD")
    size, _largest = layer.measure(root)
    assert size.note.endswith("ships the runtime's own botocore")
