"""The files of an evaluation case read and checked: the transcript, case.toml, the reference.

Every failure is a :class:`CaseError` whose message names the file (and the
line or key) and the problem, so that a case writer can fix it without
reading this code. :mod:`voxlocal.evaluation.cases` builds a case from them.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from voxcliente.acta.model import Acta
from voxcliente.domain.models import Utterance

_LINE = re.compile(r"^\[(?:(\d{1,2}):)?(\d{1,2}):(\d{2})\]\s+([A-Z]):\s+(\S.*)$")


class CaseError(ValueError):
    """A case that cannot be used; the message names the file and what is wrong."""


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


class TomlReader:
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

    def checked(self, table: dict[str, Any], key: str, where: str) -> str | None:
        """A string to look for ("" = the field must be null), or None when absent (unchecked)."""
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(f"{where}{key}", 'a string ("" = must be null) or nothing is required')
        return value

    def table(self, data: dict[str, Any], key: str, known: set[str]) -> dict[str, Any] | None:
        """An optional table ([key]) holding only the keys the format knows."""
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(key, f"a table ([{key}]) is required")
        unknown = sorted(set(value) - known)
        if unknown:
            raise self.fail(key, f"unknown keys {unknown} (known: {sorted(known)})")
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


def read_toml(path: Path, known: set[str]) -> dict[str, Any]:
    """case.toml as a table; a key the format does not know is refused by name."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - known)
    if unknown:
        raise CaseError(f"{path}: unknown keys {unknown} (known: {sorted(known)})")
    return data


def read_reference(path: Path) -> Acta:
    """reference.acta.json as an acta of the current schema."""
    try:
        return Acta.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        raise CaseError(f"{path}: not valid JSON: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise CaseError(f"{path}: not an acta of the current schema: {problems}") from exc
