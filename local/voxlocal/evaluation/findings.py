"""What a check found, and an acta's score: each finding carries the text behind it."""

from __future__ import annotations

from dataclasses import dataclass

from voxcliente.acta.model import Acta


@dataclass(frozen=True)
class Finding:
    """One check's result: ``check`` names it, ``found`` quotes the acta's text (and where)."""

    check: str
    ok: bool
    expected: str
    found: str

    def line(self) -> str:
        mark = "ok" if self.ok else "!!"
        return f"{mark} [{self.check}] {self.expected}: {self.found}"


@dataclass(frozen=True)
class Score:
    """An acta's score: the facts looked for, what it invented, the format rules it broke."""

    facts: tuple[Finding, ...]
    invented: tuple[Finding, ...]
    violations: tuple[Finding, ...]

    @property
    def found(self) -> int:
        return sum(f.ok for f in self.facts)

    @property
    def total(self) -> int:
        return len(self.facts)

    @property
    def perfect(self) -> bool:
        return self.found == self.total and not self.invented and not self.violations

    def problems(self) -> list[Finding]:
        """Missed facts, then inventions, then format violations."""
        return [f for f in self.facts if not f.ok] + [*self.invented, *self.violations]

    def caught_by(self, check: str) -> list[Finding]:
        """The problems a given check reported."""
        return [f for f in self.problems() if f.check == check]


def acta_texts(acta: Acta) -> list[tuple[str, str]]:
    """Every text the acta holds, with where it is ("decisions[1]", "action_items[0].owner")."""
    texts: list[tuple[str, str | None]] = [
        ("meeting_date", acta.meeting_date),
        ("start_time", acta.start_time),
        ("end_time", acta.end_time),
        ("modality", acta.modality),
        ("place", acta.place),
        ("client", acta.client),
    ]
    for i, person in enumerate(acta.participants):
        texts += [
            (f"participants[{i}].name", person.name),
            (f"participants[{i}].role", person.role),
            (f"participants[{i}].organization", person.organization),
        ]
    for i, topic in enumerate(acta.topics):
        texts += [(f"topics[{i}].title", topic.title), (f"topics[{i}].summary", topic.summary)]
    texts += [(f"decisions[{i}]", text) for i, text in enumerate(acta.decisions)]
    for i, item in enumerate(acta.action_items):
        texts += [
            (f"action_items[{i}].task", item.task),
            (f"action_items[{i}].owner", item.owner),
            (f"action_items[{i}].due_date", item.due_date),
        ]
    texts += [(f"open_questions[{i}]", text) for i, text in enumerate(acta.open_questions)]
    upcoming = acta.next_meeting
    if upcoming is not None:
        texts += [
            ("next_meeting.date", upcoming.date),
            ("next_meeting.time", upcoming.time),
            ("next_meeting.modality", upcoming.modality),
            ("next_meeting.purpose", upcoming.purpose),
        ]
    texts += [("title", acta.title), ("summary", acta.summary)]
    return [(where, text) for where, text in texts if text]


def running_texts(acta: Acta) -> list[tuple[str, str]]:
    """The acta's prose, where a passage of the case's ``[[mentions]]`` must be.

    Topics, decisions, open questions, the next meeting's purpose and the
    summary; not the fields (a deadline, a date), which hold a value each.
    """
    kept = ("topics[", "decisions[", "open_questions[", "next_meeting.purpose", "summary")
    return [(where, text) for where, text in acta_texts(acta) if where.startswith(kept)]
