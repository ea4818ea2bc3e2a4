"""An evaluation case read from ``eval/cases/<NN>-<slug>/`` and checked on the way in.

A case is three files: ``transcript.txt`` (one turn a line, ``[mm:ss] A: text``
or ``[hh:mm:ss] A: text``; ``#`` comments and blank lines ignored),
``reference.acta.json`` (a hand-written correct acta of the current schema) and
``case.toml``, the meeting details and the facts a correct acta must and must
not contain (eval/README.md shows an example):

* ``title``, ``covers`` (what the case is about), ``language`` ("es"),
  ``file_name``, ``client`` (optional), ``meeting_date`` (an optional TOML
  date), ``duration_s``: what the uploader gave;
* ``no_decisions``: true when a correct acta has no decision at all;
* ``[[participants]]`` ``label`` ("" for one who never speaks), ``name``,
  optional ``role`` and ``organization``;
* ``[[decisions]]`` ``all`` (every string in one decision) and ``none``;
* ``[[action_items]]`` ``task`` (keywords), ``owner`` and ``due_date`` ("" =
  must be null);
* ``[[open_questions]]`` ``all``;
* ``[[mentions]]`` ``all``: strings that must all occur in one passage of the
  acta's running text (a topic, a decision, an open question, the next
  meeting's purpose, the summary): a date mentioned but not made out is
  "fecha no precisada" there, next to what it was the date of;
* ``[meeting]`` (optional): THIS meeting's ``modality``, ``start_time``,
  ``end_time`` and ``place``; ``[next_meeting]`` (absent = there is none):
  ``date``, ``time``, ``modality``. Each string must occur in the field, ""
  means the field must be null; a key absent from ``[meeting]`` is not
  checked, one absent from ``[next_meeting]`` means null;
* ``[forbidden]`` ``anywhere`` and ``decisions``: strings a correct acta must
  not hold.

Matching is case- and accent-insensitive on substrings after collapsing
whitespace (:func:`voxlocal.evaluation.spanish.contains`; "09:00" and "9:00"
are one time). A malformed case is refused with :class:`CaseError`, whose
message names the file and the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from voxcliente.acta.chunking import TranscriptInput
from voxcliente.acta.model import Acta
from voxcliente.dates import format_date
from voxcliente.domain.models import Utterance
from voxlocal.evaluation.casefiles import (
    CaseError,
    TomlReader,
    read_reference,
    read_toml,
    read_transcript,
)

__all__ = ["CASES_DIR", "Case", "CaseError", "load_case", "load_cases", "read_transcript"]

CASES_DIR = Path(__file__).resolve().parents[3] / "eval" / "cases"
_CASE_DIR = re.compile(r"^\d{2}-[a-z0-9-]+$")
_TOP_KEYS = {
    "title",
    "covers",
    "language",
    "file_name",
    "client",
    "meeting_date",
    "duration_s",
    "no_decisions",
    "participants",
    "decisions",
    "action_items",
    "open_questions",
    "mentions",
    "meeting",
    "next_meeting",
    "forbidden",
}
_MEETING_KEYS = {"modality", "start_time", "end_time", "place"}
_NEXT_KEYS = {"date", "time", "modality"}


@dataclass(frozen=True)
class Person:
    label: str  # "" for an attendee who never speaks
    name: str
    role: str | None
    organization: str | None


@dataclass(frozen=True)
class Decision:
    all: tuple[str, ...]
    none: tuple[str, ...]


@dataclass(frozen=True)
class Task:
    task: tuple[str, ...]
    owner: str  # "" = nobody took it on: the owner must be null
    due_date: str  # "" = none said: the due date must be null


@dataclass(frozen=True)
class Upcoming:
    date: str  # each "" = must be null
    time: str
    modality: str


@dataclass(frozen=True)
class Meeting:
    """THIS meeting's details as a correct acta states them; None = not checked, "" = null."""

    modality: str | None
    start_time: str | None
    end_time: str | None
    place: str | None


@dataclass(frozen=True)
class Case:
    name: str  # the directory's name, "01-renovacion-mantenimiento"
    path: Path
    title: str
    covers: tuple[str, ...]
    language: str
    file_name: str
    client: str | None
    meeting_date: date | None
    duration_s: float
    no_decisions: bool
    participants: tuple[Person, ...]
    decisions: tuple[Decision, ...]
    action_items: tuple[Task, ...]
    open_questions: tuple[tuple[str, ...], ...]
    mentions: tuple[tuple[str, ...], ...]
    meeting: Meeting | None
    next_meeting: Upcoming | None
    forbidden_anywhere: tuple[str, ...]
    forbidden_decisions: tuple[str, ...]
    utterances: tuple[Utterance, ...]
    reference: Acta

    @property
    def text(self) -> str:
        """The transcript's words, turn after turn (what AssemblyAI calls ``text``)."""
        return " ".join(u.text for u in self.utterances)

    @property
    def details(self) -> list[str]:
        """The meeting details the uploader gave, as the acta may quote them."""
        given = [self.file_name, self.client or ""]
        if self.meeting_date is not None:
            given.append(format_date(self.meeting_date, self.language))
        return [item for item in given if item]

    def transcript_input(self) -> TranscriptInput:
        """What the acta worker hands to ``generate_acta`` for this meeting."""
        return TranscriptInput(
            text=self.text,
            utterances=list(self.utterances),
            language_code=self.language,
            audio_duration_s=self.duration_s,
            meeting_date=self.meeting_date,
            client_name=self.client,
            original_filename=self.file_name,
        )


def load_case(directory: Path) -> Case:
    """Read and check one case directory."""
    for file in ("transcript.txt", "case.toml", "reference.acta.json"):
        if not (directory / file).is_file():
            raise CaseError(f"{directory / file}: missing (a case holds {file})")
    toml_path = directory / "case.toml"
    data = read_toml(toml_path, _TOP_KEYS)
    read = TomlReader(toml_path)
    meeting_date = data.get("meeting_date")
    if meeting_date is not None and type(meeting_date) is not date:
        raise read.fail("meeting_date", "a TOML date (2027-03-03, unquoted) is required")
    duration = data.get("duration_s")
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0:
        raise read.fail("duration_s", "a positive number of seconds is required")
    no_decisions = data.get("no_decisions", False)
    if not isinstance(no_decisions, bool):
        raise read.fail("no_decisions", "true or false is required")
    people = tuple(
        Person(
            label=read.text(t, "label", w),
            name=read.text(t, "name", w),
            role=read.optional(t, "role", w),
            organization=read.optional(t, "organization", w),
        )
        for w, t in read.tables(data, "participants")
    )
    if not people:
        raise read.fail("participants", "at least one [[participants]] is required")
    transcript = read_transcript(directory / "transcript.txt")
    speakers = {u.speaker for u in transcript}
    for w, person in zip((w for w, _ in read.tables(data, "participants")), people, strict=True):
        if person.label and person.label not in speakers:
            raise read.fail(f"{w}label", f"{person.label!r} never speaks in transcript.txt")
    decisions = tuple(
        Decision(
            read.strings(t, "all", w, required=True), read.strings(t, "none", w, required=False)
        )
        for w, t in read.tables(data, "decisions")
    )
    if no_decisions and decisions:
        raise read.fail("decisions", "no_decisions = true, yet [[decisions]] are listed")
    names = {p.name for p in people}
    tasks = []
    for w, t in read.tables(data, "action_items"):
        task = Task(
            read.strings(t, "task", w, required=True),
            read.text(t, "owner", w),
            read.text(t, "due_date", w),
        )
        if task.owner and task.owner not in names:
            raise read.fail(
                f"{w}owner", f"{task.owner!r} is not a participant's name {sorted(names)}"
            )
        tasks.append(task)
    upcoming = read.table(data, "next_meeting", _NEXT_KEYS)
    this = read.table(data, "meeting", _MEETING_KEYS)
    forbidden = data.get("forbidden", {})
    if not isinstance(forbidden, dict) or set(forbidden) - {"anywhere", "decisions"}:
        raise read.fail("forbidden", "a table with 'anywhere' and/or 'decisions' lists is required")
    language = read.text(data, "language", "")
    if language != "es":
        raise read.fail("language", f"{language!r}: the checks read Spanish actas only ('es')")
    return Case(
        name=directory.name,
        path=directory,
        title=read.text(data, "title", ""),
        covers=read.strings(data, "covers", "", required=True),
        language=language,
        file_name=read.text(data, "file_name", ""),
        client=read.optional(data, "client", ""),
        meeting_date=meeting_date,
        duration_s=float(duration),
        no_decisions=no_decisions,
        participants=people,
        decisions=decisions,
        action_items=tuple(tasks),
        open_questions=tuple(
            read.strings(t, "all", w, required=True) for w, t in read.tables(data, "open_questions")
        ),
        mentions=tuple(
            read.strings(t, "all", w, required=True) for w, t in read.tables(data, "mentions")
        ),
        meeting=None
        if this is None
        else Meeting(**{key: read.checked(this, key, "meeting.") for key in sorted(_MEETING_KEYS)}),
        next_meeting=None
        if upcoming is None
        else Upcoming(
            date=read.text(upcoming, "date", "next_meeting.", ""),
            time=read.text(upcoming, "time", "next_meeting.", ""),
            modality=read.text(upcoming, "modality", "next_meeting.", ""),
        ),
        forbidden_anywhere=read.strings(forbidden, "anywhere", "forbidden.", required=False),
        forbidden_decisions=read.strings(forbidden, "decisions", "forbidden.", required=False),
        utterances=transcript,
        reference=read_reference(directory / "reference.acta.json"),
    )


def load_cases(root: Path = CASES_DIR) -> list[Case]:
    """Every case under ``root``, in name order; a stray entry is refused by name."""
    if not root.is_dir():
        raise CaseError(f"{root}: no such directory of cases")
    directories = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    for entry in directories:
        if not entry.is_dir() or not _CASE_DIR.match(entry.name):
            raise CaseError(f"{entry}: not a case directory named <NN>-<slug> (e.g. 01-tarifas)")
    cases = [load_case(p) for p in directories]
    if not cases:
        raise CaseError(f"{root}: holds no case")
    return cases
