"""The security scan's ground rules, checked without running checkov.

`make scan` runs checkov on template.yaml and the nested templates; a finding
is either fixed or skipped next to its resource with the reason written down
(``Metadata: checkov: skip: [{id, comment}]``). These tests keep the second
half honest: no skip without a reason a reviewer can weigh, and the scan wired
into `make test`, offline.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from voxlocal import template as cfn

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [ROOT / "template.yaml", *sorted((ROOT / "templates").glob("*.yaml"))]


def _skips(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(logical id, skip) for every checkov skip of a template."""
    found: list[tuple[str, dict[str, Any]]] = []
    for name, resource in (cfn.load(path).get("Resources") or {}).items():
        checkov = (resource.get("Metadata") or {}).get("checkov") or {}
        found.extend((name, skip) for skip in checkov.get("skip") or [])
    return found


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_skip_names_one_check_and_says_why(path: Path) -> None:
    for name, skip in _skips(path):
        assert set(skip) == {"id", "comment"}, (name, skip)
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip["id"])
        reason = " ".join(str(skip["comment"]).split())
        # A sentence someone can weigh, not "n/a" or "false positive".
        assert len(reason) >= 60 and reason.endswith("."), (name, skip["id"], reason)
    ids = [(name, skip["id"]) for name, skip in _skips(path)]
    assert len(ids) == len(set(ids)), "a check skipped twice on one resource"


def test_what_is_skipped_is_what_the_template_decided() -> None:
    """The skips are the ones the template's comments argue for: a new skip is a
    decision to review, so it shows up here."""
    skipped = {(name, skip["id"]) for path in TEMPLATES for name, skip in _skips(path)}
    functions = {
        "UploadApiFunction",
        "AccountApiFunction",
        "SubmitFunction",
        "WebhookFunction",
        "ActaFunction",
        "EmailEventsFunction",
        "ReconcilerFunction",
        "MigrateFunction",
    }
    expected = {
        *(
            (secret, "CKV_AWS_149")
            for secret in ("AssemblyAiSecret", "OpenAiSecret", "WebhookSecret")
        ),
        ("AudioBucket", "CKV_AWS_18"),
        ("ActaQueue", "CKV_AWS_27"),
        ("ActaDeadLetterQueue", "CKV_AWS_27"),
        *((function, "CKV_AWS_116") for function in functions),
        *((function, "CKV_AWS_173") for function in functions),
        ("ActaFunction", "CKV_AWS_115"),
        ("Db", "CKV_AWS_157"),
        ("Db", "CKV_AWS_118"),
        ("Db", "CKV_AWS_161"),
        # The web page: static files only, on CloudFront's default certificate.
        ("WebBucket", "CKV_AWS_18"),
        ("WebDistribution", "CKV_AWS_68"),
        ("WebDistribution", "CKV_AWS_86"),
        ("WebDistribution", "CKV_AWS_174"),
    }
    assert skipped == expected
    # What protects personal data or bounds cost is fixed, never skipped: the key on
    # logs and topics, concurrency limits (but Acta's, bounded by its event source),
    # the bucket's encryption, versioning and public access block.
    never = {"CKV_AWS_158", "CKV_AWS_26", "CKV_AWS_19", "CKV_AWS_21", "CKV_AWS_53"}
    assert not {check for _, check in skipped} & never
    assert [n for n, c in skipped if c == "CKV_AWS_115"] == ["ActaFunction"]


def test_make_test_runs_the_scan_offline_after_validate() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (test_line,) = [line for line in makefile.splitlines() if re.match(r"test: .*## ", line)]
    steps = test_line.split("##")[0].split(":", 1)[1].split()
    # The static checks first, the scan right after validate; pytest last (after the
    # build and whatever the browser tests need installed).
    assert steps[:4] == ["lint", "typecheck", "validate", "scan"]
    assert steps[-1] == "unit" and "build" in steps
    (scan,) = re.findall(r"^scan: .*\n((?:\t.*\n)+)", makefile, re.M)
    assert "--config-file .checkov.yaml" in scan
    assert "-f template.yaml" in scan and "templates/*.yaml" in scan
    # No update check and no policy download: CI reaches only the package registries.
    assert "CKV_SKIP_PACKAGE_UPDATE_CHECK=true" in scan
    config = yaml.safe_load((ROOT / ".checkov.yaml").read_text(encoding="utf-8"))
    assert config["framework"] == ["cloudformation"]
    assert config["skip-download"] is True
    assert "soft-fail" not in config, "a failure must fail make test"
    pins = (ROOT / "requirements-scan.txt").read_text(encoding="utf-8")
    assert re.search(r"^checkov==\d+\.\d+\.\d+$", pins, re.M)
