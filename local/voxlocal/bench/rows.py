"""One line of ``make bench``'s table: a figure, where it stands, and how far from its goal."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """``now`` and ``floor`` as printed (units included); ``met`` whether ``now`` reaches
    ``goal``; ``note`` what was measured and how, or the distance left."""

    figure: str
    now: str
    floor: str
    goal: str
    met: bool
    note: str = ""
