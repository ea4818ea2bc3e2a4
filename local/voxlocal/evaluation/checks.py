"""The deterministic checks of an acta against its case: facts, inventions, format.

* Facts found: :mod:`voxlocal.evaluation.facts`.
* Facts invented: every person name, date, time and amount the acta mentions
  must be supported by the transcript or the meeting details the uploader gave
  (file name, client, date): :mod:`voxlocal.evaluation.mentions` says what
  "supported" means for each. The case's ``[forbidden]`` strings count here too.
* Format rules (docs/acta-standard.md): decisions start with "Se acuerda";
  full dates in the long format ("3 de marzo de 2027", never "03/03/2027");
  "Participante C" without an article; "Sr."/"Sra." only when the transcript
  says so; tasks start with an infinitive ("Enviar", "Enviarle"); owners named
  as in the participants; times as hh:mm; a deadline not said is null, not
  "fecha no precisada"; the next meeting is not a decision.

Every finding quotes the acta's text and says where it is, so that a person
can see why without rerunning anything.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from voxcliente.acta.model import Acta
from voxcliente.locales import all_locales
from voxlocal.evaluation import mentions
from voxlocal.evaluation.cases import Case
from voxlocal.evaluation.facts import facts_found
from voxlocal.evaluation.findings import Finding, Score, acta_texts
from voxlocal.evaluation.spanish import contains, fold, words

_WHOLE_NAMES = (".name", ".owner", ".organization")
_INFINITIVE = re.compile(r"^[a-z]+(?:ar|er|ir)(?:me|te|se|nos|os|le|les|lo|la|los|las){0,2}$")
_ARTICLE = re.compile(r"(?i:\b(?:el|la|del|al)\s+participante)\s+[A-Z]\b")
_HONORIFIC = re.compile(r"\b(Sr|Sra|Señor|Señora|Don|Doña)\.?\s+([A-ZÁÉÍÓÚÑ][\w]+)")
_SAME_GENDER = {"sr": "sr|senor|don", "senor": "sr|senor|don", "don": "sr|senor|don"}
_SAME_GENDER |= {"sra": "sra|senora|dona", "senora": "sra|senora|dona", "dona": "sra|senora|dona"}
_HHMM = re.compile(r"^\d{2}:\d{2}$")
_MEETING_AGAIN = ("proxima reunion", "nueva reunion", "reunirse de nuevo", "volver a reunirse")


_SOURCES: dict[tuple[object, ...], Source] = {}


class Source:
    """What the acta may take facts from: the transcript and the meeting details."""

    @classmethod
    def of(cls, case: Case) -> Source:
        """The case's source, read once (every flawed variant is checked against it)."""
        key = (case.path, case.text, tuple(case.details), case.duration_s, case.meeting_date)
        if key not in _SOURCES:
            _SOURCES[key] = cls(case)
        return _SOURCES[key]

    def __init__(self, case: Case) -> None:
        text = " ".join([case.text, *case.details])
        self.words = words(text) | {"participante"}
        self.dates: list[mentions.DateParts] = [m.value for m in mentions.dates(text)]
        if case.meeting_date is not None:
            self.dates.append(mentions.date_parts(case.meeting_date))
        self.amounts = {m.value for m in mentions.amounts(text)}
        stated = {m.value for m in mentions.times(case.text)}
        # The end of the meeting: a start said in the recording plus its duration.
        minutes = round(case.duration_s / 60)
        self.times = stated | {_plus(time, minutes) for time in stated}

    def has_date(self, parts: mentions.DateParts) -> bool:
        return any(parts <= known for known in self.dates)

    def has_time(self, value: mentions.Time) -> bool:
        hour, minute = value
        return any((h, minute) in self.times for h in (hour, (hour + 12) % 24, (hour - 12) % 24))


def _plus(time: tuple[int, int], minutes: int) -> tuple[int, int]:
    moment = datetime(2000, 1, 1, *time) + timedelta(minutes=minutes)
    return moment.hour, moment.minute


def _invented_in(where: str, text: str, source: Source) -> list[Finding]:
    found = []
    for date in mentions.dates(text):
        if not source.has_date(date.value):
            found.append(
                Finding("date", False, "a date the transcript states", f"{where}: {date.text!r}")
            )
    for time in mentions.times(text):
        if not source.has_time(time.value):
            found.append(
                Finding("time", False, "a time the transcript states", f"{where}: {time.text!r}")
            )
    for amount in mentions.amounts(text):
        if amount.value not in source.amounts:
            found.append(
                Finding(
                    "amount", False, "an amount the transcript states", f"{where}: {amount.text!r}"
                )
            )
    for name in mentions.names(text, whole=where.endswith(_WHOLE_NAMES)):
        unknown = [w for w in name.value if w not in source.words]
        if unknown:
            found.append(
                Finding(
                    "name",
                    False,
                    "a name the transcript states",
                    f"{where}: {name.text!r} ({', '.join(unknown)} never said)",
                )
            )
    return found


def facts_invented(case: Case, acta: Acta) -> list[Finding]:
    """Names, dates, times and amounts absent from the transcript; forbidden strings."""
    source = Source.of(case)
    found: list[Finding] = []
    texts = acta_texts(acta)
    for where, text in texts:
        found += _invented_in(where, text, source)
        found += [
            Finding("forbidden", False, f"never {needle!r}", f"{where}: {text!r}")
            for needle in case.forbidden_anywhere
            if contains(text, needle)
        ]
    for i, decision in enumerate(acta.decisions):
        found += [
            Finding(
                "forbidden", False, f"no decision with {needle!r}", f"decisions[{i}]: {decision!r}"
            )
            for needle in case.forbidden_decisions
            if contains(decision, needle)
        ]
    unique: dict[tuple[str, str], Finding] = {}
    for finding in found:
        unique.setdefault((finding.check, finding.found.split(": ", 1)[-1]), finding)
    return list(unique.values())


# --- format ------------------------------------------------------------------------------


def _decision_rules(case: Case, acta: Acta) -> list[Finding]:
    agreement = all_locales()[case.language].prompt.agreement
    upcoming = acta.next_meeting.date if acta.next_meeting else None
    found = []
    for i, decision in enumerate(acta.decisions):
        where = f"decisions[{i}]: {decision!r}"
        if not fold(decision).startswith(fold(agreement)):
            found.append(Finding("decision_phrase", False, f"starts with {agreement!r}", where))
        folded = fold(decision)
        restates = upcoming is not None and "reuni" in folded and contains(decision, upcoming)
        if restates or any(
            phrase in folded for phrase in _MEETING_AGAIN if "en la " + phrase not in folded
        ):
            found.append(
                Finding("next_meeting_decision", False, "the next meeting is not a decision", where)
            )
    return found


def _task_rules(acta: Acta) -> list[Finding]:
    names = {p.name for p in acta.participants}
    unknown = {
        fold(all_locales()["es"].prompt.unknown_date),
        "sin fecha",
        "no definida",
        "no precisada",
    }
    found = []
    for i, item in enumerate(acta.action_items):
        first = fold(item.task).split(maxsplit=1)[0].strip("¡¿\"'«(") if item.task.strip() else ""
        if not _INFINITIVE.match(first):
            found.append(
                Finding(
                    "task_infinitive",
                    False,
                    "a task starts with an infinitive",
                    f"action_items[{i}].task: {item.task!r}",
                )
            )
        if item.owner is not None and item.owner not in names:
            found.append(
                Finding(
                    "owner_name",
                    False,
                    f"an owner named as in participants {sorted(names)}",
                    f"action_items[{i}].owner: {item.owner!r}",
                )
            )
        if item.due_date is not None and any(phrase in fold(item.due_date) for phrase in unknown):
            found.append(
                Finding(
                    "due_date_null",
                    False,
                    "a deadline not said is null",
                    f"action_items[{i}].due_date: {item.due_date!r}",
                )
            )
    return found


def _text_rules(case: Case, acta: Acta) -> list[Finding]:
    transcript = fold(case.text)
    found = []
    for where, text in acta_texts(acta):
        for date in mentions.dates(text):
            if mentions.is_numeric_date(date):
                found.append(
                    Finding(
                        "date_format", False, "dates in the long format", f"{where}: {date.text!r}"
                    )
                )
        for match in _ARTICLE.finditer(text):
            found.append(
                Finding(
                    "participant_article",
                    False,
                    "'Participante X' without an article",
                    f"{where}: {match.group()!r}",
                )
            )
        for match in _HONORIFIC.finditer(text):
            title, name = _SAME_GENDER[fold(match.group(1))], re.escape(fold(match.group(2)))
            said = rf"\b(?:{title})\.?\s+{name}\b"
            if not re.search(said, transcript):
                found.append(
                    Finding(
                        "honorific",
                        False,
                        "Sr./Sra. only as the transcript says",
                        f"{where}: {match.group()!r}",
                    )
                )
        for time in mentions.times(text):
            if ":" not in time.text:
                found.append(
                    Finding("time_format", False, "times as hh:mm", f"{where}: {time.text!r}")
                )
    return found


def format_violations(case: Case, acta: Acta) -> list[Finding]:
    """The format rules the acta breaks (none for a correct acta)."""
    found = _decision_rules(case, acta) + _task_rules(acta) + _text_rules(case, acta)
    fields = [("start_time", acta.start_time), ("end_time", acta.end_time)]
    if acta.next_meeting is not None:
        fields.append(("next_meeting.time", acta.next_meeting.time))
    found += [
        Finding("time_format", False, "times as hh:mm", f"{where}: {value!r}")
        for where, value in fields
        if value is not None and not _HHMM.match(value)
    ]
    return found


def score_acta(case: Case, acta: Acta) -> Score:
    """The acta's score against its case."""
    return Score(
        facts=tuple(facts_found(case, acta)),
        invented=tuple(facts_invented(case, acta)),
        violations=tuple(format_violations(case, acta)),
    )
