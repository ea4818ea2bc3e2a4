"""An evaluation case read from ``eval/cases/<NN>-<slug>/`` and checked on the way in.

A case is three files (the format is described in eval/README.md):
``transcript.txt`` (one turn a line, ``[mm:ss] A: text``), ``case.toml`` (the
meeting details and the facts a correct acta must and must not contain) and
``reference.acta.json`` (a hand-written correct acta). A malformed case is
refused with :class:`CaseError`, whose message names the file and the problem,
so that a case writer can fix it without reading this code.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from voxcliente.acta.chunking import TranscriptInput
from voxcliente.acta.model import Acta
from voxcliente.dates import format_date
from voxcliente.domain.models import Utterance

CASES_DIR = Path(__file__).resolve().parents[3] / "eval" / "cases"
_LINE = re.compile(r"^\[(?:(\d{1,2}):)?(\d{1,2}):(\d{2})\]\s+([A-Z]):\s+(\S.*)$")
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
    "next_meeting",
    "forbidden",
}


class CaseError(ValueError):
    """A case that cannot be used; the message names the file and what is wrong."""


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


def read_transcript(path: Path) -> tuple[Utterance, ...]:
    """The turns of ``transcript.txt``; each ends where the next starts."""
    turns: list[tuple[int, str, str]] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise CaseError(
                f"{path}: line {number} is not a turn '[mm:ss] A: text' "
                f"(nor a '#' comment): {line[:80]!r}"
            )
        hours, minutes, seconds, speaker, text = match.groups()
        start_ms = ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000
        if turns and start_ms < turns[-1][0]:
            raise CaseError(f"{path}: line {number} starts before the line above it")
        turns.append((start_ms, speaker, text))
    if not turns:
        raise CaseError(f"{path}: no turns")
    return tuple(
        Utterance(
            speaker=speaker,
            start_ms=start,
            end_ms=turns[i + 1][0] if i + 1 < len(turns) else start + 5000,
            text=text,
        )
        for i, (start, speaker, text) in enumerate(turns)
    )


class _Reader:
    """Typed access to case.toml's values, each failure naming the file and key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> CaseError:
        return CaseError(f"{self.path}: {where}: {problem}")

    def text(self, table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            raise self.fail(f"{where}{key}", "a string is required")
        return value

    def optional(self, table: dict[str, Any], key: str, where: str) -> str | None:
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self.fail(f"{where}{key}", "a non-empty string (or omit it) is required")
        return value

    def strings(
        self, table: dict[str, Any], key: str, where: str, *, required: bool
    ) -> tuple[str, ...]:
        value = table.get(key, None if required else [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(f"{where}{key}", "a list of non-empty strings is required")
        if required and not value:
            raise self.fail(f"{where}{key}", "at least one string is required")
        return tuple(value)

    def tables(self, data: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, f"an array of tables ([[{key}]]) is required")
        return [(f"{key}[{i}].", table) for i, table in enumerate(value)]


def _spec(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise CaseError(f"{path}: unknown keys {unknown} (known: {sorted(_TOP_KEYS)})")
    return data


def _reference(path: Path) -> Acta:
    try:
        return Acta.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        raise CaseError(f"{path}: not valid JSON: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise CaseError(f"{path}: not an acta of the current schema: {problems}") from exc


def load_case(directory: Path) -> Case:
    """Read and check one case directory."""
    for file in ("transcript.txt", "case.toml", "reference.acta.json"):
        if not (directory / file).is_file():
            raise CaseError(f"{directory / file}: missing (a case holds {file})")
    toml_path = directory / "case.toml"
    data = _spec(toml_path)
    read = _Reader(toml_path)
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
    upcoming = data.get("next_meeting")
    if upcoming is not None and not isinstance(upcoming, dict):
        raise read.fail("next_meeting", "a table ([next_meeting]) is required")
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
        reference=_reference(directory / "reference.acta.json"),
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
