"""The flows: one per function, none importing another, and the acta's time budget."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from voxcliente.acta.attempts import FINISH_RESERVE_S
from voxcliente.flows import acta
from voxcliente.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ROOT / "layers" / "common" / "voxcliente" / "flows"


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_every_function_has_its_flow_and_no_flow_imports_another() -> None:
    functions = {p.parent.name for p in (ROOT / "functions").glob("*/app.py")}
    flows = {p.stem for p in FLOWS.glob("*.py") if p.stem != "__init__"}
    assert functions == flows
    for name in functions:
        app = ROOT / "functions" / name / "app.py"
        assert f"voxcliente.flows.{name}" in _imported(app), f"{app} does not use its flow"
        others = {f"voxcliente.flows.{other}" for other in flows - {name}}
        assert not _imported(FLOWS / f"{name}.py") & others, f"flows/{name}.py imports a flow"


def test_the_acta_budget_is_what_the_invocation_has_left_minus_the_reserve() -> None:
    settings = load_settings({})
    assert acta.generation_budget_s(Context(600_000), settings) == 600 - FINISH_RESERVE_S
    # Nothing left: no time for OpenAI (the generation fails as transient, and retries).
    assert acta.generation_budget_s(Context(60_000), settings) == 0.0


@pytest.mark.parametrize("timeout_s", [300, 900])
def test_without_a_context_the_budget_follows_the_acta_timeout(timeout_s: int) -> None:
    settings = load_settings({"ACTA_CLAIM_TIMEOUT_S": str(timeout_s)})
    assert acta.generation_budget_s(None, settings) == timeout_s - FINISH_RESERVE_S


def test_generation_without_a_budget_uses_the_same_default_as_the_flow() -> None:
    from voxcliente.acta.attempts import default_budget_s

    settings = load_settings({"ACTA_CLAIM_TIMEOUT_S": "600"})
    assert default_budget_s(settings) == acta.generation_budget_s(None, settings) == 480
