"""The meeting's state machine: every move starts from active states and reaches a known one."""

from __future__ import annotations

import re
from pathlib import Path

from voxcliente.domain import moves
from voxcliente.domain.models import ACTIVE_STATUSES, MEETING_STATUSES

ROOT = Path(__file__).resolve().parents[2]


def _named_moves() -> dict[str, moves.Move]:
    return {name: m for name, m in vars(moves).items() if isinstance(m, moves.Move)}


def test_every_move_leaves_an_active_state_for_a_known_one() -> None:
    assert _named_moves(), "no moves found"
    for name, move in _named_moves().items():
        assert move.expected, name
        assert set(move.expected) <= set(ACTIVE_STATUSES), f"{name} leaves a final state"
        assert move.to in MEETING_STATUSES, name
        assert move.to not in move.expected, name


def test_events_are_unique_and_failure_moves_carry_the_code() -> None:
    events = [m.event for m in _named_moves().values()]
    assert len(events) == len(set(events))
    assert moves.failed("no_speech") == moves.Move("no_speech", ACTIVE_STATUSES, "failed")
    assert moves.failed("x", ("received",)).expected == ("received",)


def test_the_database_allows_exactly_these_states() -> None:
    """sql/ holds the states in a CHECK constraint: the same list as the code's."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "sql").glob("*.sql")))
    check = re.search(r"status\s+IN\s*\(([^)]*'received'[^)]*)\)", text)
    assert check is not None, "no CHECK on meetings.status in sql/"
    assert tuple(re.findall(r"'([a-z_]+)'", check.group(1))) == MEETING_STATUSES
