"""Deliberately flawed copies of a case's reference acta: do the checks catch them?

Each flaw is a mistake a model makes, written into a copy of the correct acta
by code, so every case gets every flaw that applies to it (a case without
decisions cannot lose one). Each names the check that must report it
(:attr:`Flaw.check`, a :attr:`~voxlocal.evaluation.findings.Finding.check`);
the evaluation fails if that check stays silent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from voxcliente.acta.model import Acta
from voxlocal.evaluation import mentions
from voxlocal.evaluation.cases import Case
from voxlocal.evaluation.checks import Source
from voxlocal.evaluation.facts import same_name
from voxlocal.evaluation.meeting_flaws import (
    invented_start_time,
    next_modality_as_this,
    next_time_as_start,
    unclear_date_dropped,
)
from voxlocal.evaluation.spanish import contains, fold

Data = dict[str, Any]


@dataclass(frozen=True)
class Flaw:
    name: str
    description: str
    check: str  # the check that must report it
    acta: Acta


def _year(case: Case) -> int:
    return case.meeting_date.year if case.meeting_date else 2027


def _fields(data: Data) -> list[tuple[Any, Any]]:
    """(container, key) of every text a flaw may rewrite: due dates first."""
    found: list[tuple[Any, Any]] = []
    found += [(item, "due_date") for item in data["action_items"] if item["due_date"]]
    if data["next_meeting"] and data["next_meeting"]["date"]:
        found.append((data["next_meeting"], "date"))
    found += [(data["decisions"], i) for i in range(len(data["decisions"]))]
    found += [(topic, "summary") for topic in data["topics"]]
    return found


def completed_date(case: Case, data: Data) -> str | None:
    """A partial date completed with a year or month that was never said."""
    source = Source.of(case)
    month = mentions.MONTHS[(case.meeting_date or date(2027, 1, 1)).month - 1]
    for holder, key in _fields(data):
        text: str = holder[key]
        for found in mentions.dates(text):
            parts = dict(found.value)
            if "day" not in parts or "year" in parts:
                continue
            addition = f" de {_year(case)}" if "month" in parts else f" de {month}"
            longer = found.text + addition
            if source.has_date(mentions.dates(longer)[0].value):
                continue
            holder[key] = text.replace(found.text, longer, 1)
            return f"{found.text!r} written {longer!r}"
    return None


def invented_date(case: Case, data: Data) -> str | None:
    """A full date nobody said, as the first task's deadline (or in the summary)."""
    source = Source.of(case)
    for day in range(17, 29):
        said = f"{day} de noviembre de {_year(case) + 3}"
        if not source.has_date(mentions.dates(said)[0].value):
            break
    if data["action_items"]:
        data["action_items"][0]["due_date"] = f"antes del {said}"
    else:
        data["summary"] += f" Se revisará antes del {said}."
    return f"deadline 'antes del {said}'"


def _item(data: Data, keywords: tuple[str, ...]) -> Data | None:
    return next(
        (i for i in data["action_items"] if all(contains(i["task"], k) for k in keywords)), None
    )


def wrong_owner(case: Case, data: Data) -> str | None:
    """A task given to another participant than the one who took it on."""
    for task in case.action_items:
        item = _item(data, task.task)
        if not task.owner or item is None:
            continue
        other = next(
            (p["name"] for p in data["participants"] if not same_name(p["name"], task.owner)), None
        )
        if other is None:
            return None
        item["owner"] = other
        return f"{item['task']!r} given to {other} instead of {task.owner}"
    return None


def unowned_task_assigned(case: Case, data: Data) -> str | None:
    """A task nobody took on, given to a participant (as if raising it meant owning it)."""
    for task in case.action_items:
        item = _item(data, task.task)
        if not task.owner and item is not None and data["participants"]:
            item["owner"] = data["participants"][0]["name"]
            return f"{item['task']!r} given to {item['owner']}"
    return None


def missing_decision(case: Case, data: Data) -> str | None:
    """The first decision of the case left out."""
    if not case.decisions:
        return None
    wanted = case.decisions[0].all
    kept = [d for d in data["decisions"] if not all(contains(d, s) for s in wanted)]
    if len(kept) == len(data["decisions"]):
        return None
    data["decisions"] = kept
    return f"the decision with {list(wanted)} left out"


_FIGURE = re.compile(r"\d[\d.,]*")


def pre_correction_amount(case: Case, data: Data) -> str | None:
    """An agreed figure replaced by one the case forbids there (the offer, the slip)."""
    for decision in case.decisions:
        said = next((s for s in decision.all if _FIGURE.fullmatch(s)), None)
        wrong = next((s for s in decision.none if _FIGURE.fullmatch(s)), None)
        if said is None or wrong is None:
            continue
        for i, sentence in enumerate(data["decisions"]):
            if said in sentence:
                data["decisions"][i] = sentence.replace(said, wrong, 1)
                return f"{said!r} written {wrong!r} in a decision"
    return None


def forbidden_text(case: Case, data: Data) -> str | None:
    """A string the case forbids anywhere, said in the discussion."""
    if not case.forbidden_anywhere or not data["topics"]:
        return None
    data["topics"][0]["summary"] += f" Se mencionó {case.forbidden_anywhere[0]}."
    return f"{case.forbidden_anywhere[0]!r} in the discussion"


def decision_phrase(case: Case, data: Data) -> str | None:
    """A decision written as a narration ("Ambas partes acordaron ...")."""
    for i, sentence in enumerate(data["decisions"]):
        if fold(sentence).startswith("se acuerda "):
            data["decisions"][i] = "Ambas partes acordaron " + sentence[len("Se acuerda ") :]
            return f"{data['decisions'][i]!r}"
    return None


def next_meeting_as_decision(case: Case, data: Data) -> str | None:
    """The next meeting listed as a decision."""
    upcoming = data["next_meeting"]
    if not upcoming or not upcoming["date"]:
        return None
    data["decisions"].append(f"Se acuerda celebrar la próxima reunión el {upcoming['date']}.")
    return f"{data['decisions'][-1]!r}"


def decision_added(case: Case, data: Data) -> str | None:
    """A decision in a meeting that took none."""
    if not case.no_decisions:
        return None
    data["decisions"].append("Se acuerda revisar la propuesta.")
    return "'Se acuerda revisar la propuesta.'"


_NAMES = ("Rodrigo Valdés", "Teresa Lozano", "Hugo Sanmartín", "Irene Castell")


def invented_name(case: Case, data: Data) -> str | None:
    """A person nobody named, in the discussion."""
    source = Source.of(case)
    name = next((n for n in _NAMES if not set(fold(n).split()) & source.words), None)
    if name is None:
        return None
    data["summary"] += f" Asistió también {name}."
    return f"{name!r} in the summary"


def invented_amount(case: Case, data: Data) -> str | None:
    """An agreed amount changed to one nobody said (or one added)."""
    for i, sentence in enumerate(data["decisions"]):
        found = mentions.amounts(sentence)
        number = re.match(r"[\d.,]+", found[0].text) if found else None
        if number and number.group() in sentence:
            data["decisions"][i] = sentence.replace(number.group(), "23.750", 1)
            return f"{number.group()!r} written '23.750' in a decision"
    data["summary"] += " El presupuesto es de 23.750 euros."
    return "'23.750 euros' in the summary"


def participant_article(case: Case, data: Data) -> str | None:
    """'el Participante C': an article before a speaker label."""
    label = next((p["speaker_label"] for p in data["participants"] if p["speaker_label"]), "A")
    unnamed = f"Participante {label}"
    for topic in data["topics"]:
        if unnamed in topic["summary"]:
            topic["summary"] = topic["summary"].replace(unnamed, f"el {unnamed}", 1)
            return f"'el {unnamed}'"
    data["summary"] += f" El {unnamed} tomó nota."
    return f"'El {unnamed}'"


def honorific(case: Case, data: Data) -> str | None:
    """'el Sr. Ortega' where the transcript never said so."""
    for person in data["participants"]:
        words = person["name"].split()
        if len(words) < 2 or re.search(r"\b(?:Sr|Sra|Señor|Señora)\.?\s", case.text):
            continue
        for topic in data["topics"]:
            if person["name"] in topic["summary"]:
                topic["summary"] = topic["summary"].replace(
                    person["name"], f"el Sr. {words[-1]}", 1
                )
                return f"'el Sr. {words[-1]}'"
    return None


def owner_first_name(case: Case, data: Data) -> str | None:
    """An owner named otherwise than in the participants (first name only)."""
    for item in data["action_items"]:
        if item["owner"] and len(item["owner"].split()) > 1:
            item["owner"] = item["owner"].split()[0]
            return f"owner {item['owner']!r}"
    return None


def task_not_infinitive(case: Case, data: Data) -> str | None:
    """A task written as a future sentence ("Se deberá enviar ...")."""
    if not data["action_items"]:
        return None
    task = data["action_items"][0]["task"]
    data["action_items"][0]["task"] = "Se deberá " + task[:1].lower() + task[1:]
    return repr(data["action_items"][0]["task"])


def deadline_phrase(case: Case, data: Data) -> str | None:
    """'fecha no precisada' as a deadline where none was said (it must be null)."""
    for item in data["action_items"]:
        if item["due_date"] is None:
            item["due_date"] = "fecha no precisada"
            return f"{item['task']!r} due 'fecha no precisada'"
    return None


def time_not_hhmm(case: Case, data: Data) -> str | None:
    """The next meeting's time written '10 h' instead of hh:mm."""
    upcoming = data["next_meeting"]
    clock = mentions.clock(upcoming["time"]) if upcoming and upcoming["time"] else None
    if upcoming is None or clock is None:
        return None
    upcoming["time"] = f"{clock[0]} h"
    return f"time {upcoming['time']!r}"


def numeric_date(case: Case, data: Data) -> str | None:
    """The meeting's full date written with figures ('06/04/2027')."""
    if case.meeting_date is None or not data["meeting_date"]:
        return None
    data["meeting_date"] = case.meeting_date.strftime("%d/%m/%Y")
    return f"meeting date {data['meeting_date']!r}"


FLAWS: dict[str, tuple[Callable[[Case, Data], str | None], str]] = {
    "completed_date": (completed_date, "date"),
    "invented_date": (invented_date, "date"),
    "wrong_owner": (wrong_owner, "action_item"),
    "unowned_task_assigned": (unowned_task_assigned, "action_item"),
    "missing_decision": (missing_decision, "decision"),
    "pre_correction_amount": (pre_correction_amount, "decision"),
    "forbidden_text": (forbidden_text, "forbidden"),
    "decision_phrase": (decision_phrase, "decision_phrase"),
    "next_meeting_as_decision": (next_meeting_as_decision, "next_meeting_decision"),
    "decision_added": (decision_added, "no_decisions"),
    "invented_name": (invented_name, "name"),
    "invented_amount": (invented_amount, "amount"),
    "participant_article": (participant_article, "participant_article"),
    "honorific": (honorific, "honorific"),
    "owner_first_name": (owner_first_name, "owner_name"),
    "task_not_infinitive": (task_not_infinitive, "task_infinitive"),
    "deadline_phrase": (deadline_phrase, "due_date_null"),
    "time_not_hhmm": (time_not_hhmm, "time_format"),
    "numeric_date": (numeric_date, "date_format"),
    "next_modality_as_this": (next_modality_as_this, "meeting"),
    "next_time_as_start": (next_time_as_start, "meeting"),
    "invented_start_time": (invented_start_time, "time"),
    "unclear_date_dropped": (unclear_date_dropped, "mention"),
}


def flaws(case: Case) -> list[Flaw]:
    """Every flaw that applies to the case, each in its own copy of the reference acta."""
    made = []
    for name, (write, check) in FLAWS.items():
        data = case.reference.model_dump(mode="json")
        description = write(case, data)
        if description is not None:
            made.append(Flaw(name, description, check, Acta.model_validate(data)))
    return made
