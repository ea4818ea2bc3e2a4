"""Flaws in THIS meeting's details and in the running text, added to :data:`flaws.FLAWS`.

The issue names the confusion: the next meeting's modality or time written
into this meeting's fields. A start time nobody said is the other invention
these fields invite; and a date mentioned but not made out must stay "fecha
no precisada" in the text, not vanish.
"""

from __future__ import annotations

from typing import Any

from voxlocal.evaluation.cases import Case
from voxlocal.evaluation.checks import Source
from voxlocal.evaluation.mentions import clock
from voxlocal.evaluation.spanish import contains, fold

Data = dict[str, Any]


def next_modality_as_this(case: Case, data: Data) -> str | None:
    """The next meeting's modality written as this meeting's."""
    want = case.meeting.modality if case.meeting else None
    upcoming = data["next_meeting"]
    said = upcoming["modality"] if upcoming else None
    if want is None or not said or (want and contains(said, want)):
        return None
    data["modality"] = said
    return f"this meeting's modality {said!r} (the next meeting's)"


def next_time_as_start(case: Case, data: Data) -> str | None:
    """The next meeting's time written as this meeting's start."""
    want = case.meeting.start_time if case.meeting else None
    upcoming = data["next_meeting"]
    said = upcoming["time"] if upcoming else None
    if want is None or not said or (want and clock(want) == clock(said)):
        return None
    data["start_time"] = said
    return f"this meeting's start {said!r} (the next meeting's time)"


def invented_start_time(case: Case, data: Data) -> str | None:
    """A start time nobody said."""
    source = Source.of(case)
    invented = next(
        f"{hour:02d}:{minute:02d}"
        for hour in (11, 7, 5, 3)
        for minute in (40, 50, 35)
        if not source.has_time((hour, minute))
    )
    data["start_time"] = invented
    return f"start time {invented!r}"


def unclear_date_dropped(case: Case, data: Data) -> str | None:
    """A date mentioned but not made out left unsaid: its "fecha no precisada" gone everywhere."""
    if not case.mentions:
        return None
    strings = case.mentions[0]
    last = strings[-1]
    holders: list[tuple[Any, Any]] = [(topic, "summary") for topic in data["topics"]]
    holders += [(data["open_questions"], i) for i in range(len(data["open_questions"]))]
    holders += [(data["decisions"], i) for i in range(len(data["decisions"]))]
    holders.append((data, "summary"))
    changed = False
    for holder, key in holders:
        text: str = holder[key]
        at = fold(text).find(fold(last))
        if at >= 0:
            holder[key] = text[:at] + "una fecha" + text[at + len(last) :]
            changed = True
    return f"{last!r} written 'una fecha' wherever it was" if changed else None
