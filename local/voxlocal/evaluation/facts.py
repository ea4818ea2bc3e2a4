"""Facts found: is each fact the case lists in the acta, where it belongs?

One finding per fact: each participant (name; speaker label, role and
organisation when the case gives them), each decision (all its strings in one
decision sentence, none of its ``none`` strings there), each action item (its
keywords in the task, the owner the same name after folding, the due date as
stated or null), each open question, each passage the case requires of the
running text (a date not made out: "fecha no precisada"), each detail of THIS
meeting the case gives (so that the next meeting's modality or time written
into this one's fields is caught), each field of the next meeting (or no next
meeting at all), and "no decision" for a meeting that took none.
"""

from __future__ import annotations

from voxcliente.acta.model import Acta, ActionItem
from voxlocal.evaluation.cases import Case, Decision, Person, Task
from voxlocal.evaluation.findings import Finding, running_texts
from voxlocal.evaluation.mentions import clock
from voxlocal.evaluation.spanish import collapse, contains, fold


def same_name(left: str | None, right: str | None) -> bool:
    """Two names alike after folding case, accents and whitespace."""
    return left is not None and right is not None and collapse(fold(left)) == collapse(fold(right))


def _participant(person: Person, acta: Acta) -> Finding:
    expected = f"participant {person.name}"
    match = next((p for p in acta.participants if same_name(p.name, person.name)), None)
    if match is None:
        listed = ", ".join(p.name for p in acta.participants) or "none"
        return Finding("participant", False, expected, f"not among the participants ({listed})")
    wrong = []
    if person.label and match.speaker_label != person.label:
        wrong.append(f"speaker label {match.speaker_label!r}, expected {person.label!r}")
    if person.role and not contains(match.role or "", person.role):
        wrong.append(f"role {match.role!r}, expected {person.role!r}")
    if person.organization and not contains(match.organization or "", person.organization):
        wrong.append(f"organization {match.organization!r}, expected {person.organization!r}")
    seen = f"{match.name} [{match.speaker_label}], {match.role}, {match.organization}"
    return Finding("participant", not wrong, expected, "; ".join(wrong) or seen)


def _decision(decision: Decision, acta: Acta) -> Finding:
    expected = f"a decision with {list(decision.all)}"
    if decision.none:
        expected += f" and none of {list(decision.none)}"
    holding = [d for d in acta.decisions if all(contains(d, s) for s in decision.all)]
    for sentence in holding:
        wrong = [s for s in decision.none if contains(sentence, s)]
        if not wrong:
            return Finding("decision", True, expected, repr(sentence))
    if holding:
        wrong = [s for s in decision.none if contains(holding[0], s)]
        return Finding("decision", False, expected, f"{holding[0]!r} also holds {wrong}")
    closest = max(
        acta.decisions, key=lambda d: sum(contains(d, s) for s in decision.all), default=None
    )
    seen = f"closest: {closest!r}" if closest else "the acta has no decision"
    return Finding("decision", False, expected, f"no decision holds them all; {seen}")


def _item_problems(task: Task, item: ActionItem) -> list[str]:
    wrong = []
    if not task.owner and item.owner is not None:
        wrong.append(f"owner {item.owner!r}, expected none (null)")
    elif task.owner and not same_name(item.owner, task.owner):
        wrong.append(f"owner {item.owner!r}, expected {task.owner!r}")
    if not task.due_date and item.due_date is not None:
        wrong.append(f"due date {item.due_date!r}, expected none (null)")
    elif task.due_date and not contains(item.due_date or "", task.due_date):
        wrong.append(f"due date {item.due_date!r}, expected {task.due_date!r}")
    return wrong


def _action_item(task: Task, acta: Acta) -> Finding:
    owner, due = task.owner or None, task.due_date or None
    expected = f"a task with {list(task.task)}, owner {owner!r}, due {due!r}"
    holding = [i for i in acta.action_items if all(contains(i.task, s) for s in task.task)]
    if not holding:
        listed = "; ".join(repr(i.task) for i in acta.action_items) or "none"
        return Finding("action_item", False, expected, f"no task holds them all (tasks: {listed})")
    for item in holding:
        if not _item_problems(task, item):
            return Finding(
                "action_item", True, expected, f"{item.task!r}, {item.owner}, {item.due_date}"
            )
    first = holding[0]
    problems = "; ".join(_item_problems(task, first))
    return Finding("action_item", False, expected, f"{first.task!r}: {problems}")


def _open_question(strings: tuple[str, ...], acta: Acta) -> Finding:
    expected = f"an open question with {list(strings)}"
    for question in acta.open_questions:
        if all(contains(question, s) for s in strings):
            return Finding("open_question", True, expected, repr(question))
    listed = "; ".join(repr(q) for q in acta.open_questions) or "none"
    return Finding("open_question", False, expected, f"not found (open questions: {listed})")


def _mention(strings: tuple[str, ...], acta: Acta) -> Finding:
    expected = f"running text with {list(strings)}"
    for where, text in running_texts(acta):
        if all(contains(text, s) for s in strings):
            return Finding("mention", True, expected, f"{where}: {text!r}")
    partial = [w for w, t in running_texts(acta) if any(contains(t, s) for s in strings)]
    seen = f"some of them only in {', '.join(partial)}" if partial else "none of them"
    return Finding("mention", False, expected, f"no passage holds them all ({seen})")


def _field(check: str, label: str, want: str, have: str | None, *, clock_time: bool) -> Finding:
    """One field against the case: ``want`` occurs in it, or "" and it is null."""
    ok = have is None if not want else contains(have or "", want)
    if clock_time and want and have:  # "9:00" and "09:00" are one time
        ok = ok or clock(want) == clock(have) is not None
    expected = f"{label} {want!r}" if want else f"{label} null"
    return Finding(check, ok, expected, repr(have))


def _this_meeting(case: Case, acta: Acta) -> list[Finding]:
    if case.meeting is None:
        return []
    found = []
    for field in ("modality", "start_time", "end_time", "place"):
        want: str | None = getattr(case.meeting, field)
        if want is not None:
            have: str | None = getattr(acta, field)
            label = f"this meeting's {field}"
            found.append(_field("meeting", label, want, have, clock_time=field.endswith("time")))
    return found


def _next_meeting(case: Case, acta: Acta) -> list[Finding]:
    upcoming = acta.next_meeting
    if case.next_meeting is None:
        stated = upcoming is not None and any((upcoming.date, upcoming.time, upcoming.modality))
        seen = f"{upcoming.date}, {upcoming.time}, {upcoming.modality}" if upcoming else "null"
        return [Finding("next_meeting", not stated, "no next meeting (null)", seen)]
    return [
        _field(
            "next_meeting",
            f"next meeting {field}",
            getattr(case.next_meeting, field),
            getattr(upcoming, field) if upcoming else None,
            clock_time=field == "time",
        )
        for field in ("date", "time", "modality")
    ]


def facts_found(case: Case, acta: Acta) -> list[Finding]:
    """Every fact of the case, found or not, in the case's order."""
    found = [_participant(p, acta) for p in case.participants]
    found += [_decision(d, acta) for d in case.decisions]
    found += [_action_item(t, acta) for t in case.action_items]
    found += [_open_question(q, acta) for q in case.open_questions]
    found += [_mention(m, acta) for m in case.mentions]
    found += _this_meeting(case, acta)
    found += _next_meeting(case, acta)
    if case.no_decisions:
        seen = "; ".join(repr(d) for d in acta.decisions) or "none"
        found.append(Finding("no_decisions", not acta.decisions, "no decision at all", seen))
    return found
