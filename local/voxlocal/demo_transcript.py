"""``make demo TRANSCRIPT=…``: the transcript a person gives, as AssemblyAI would return it.

Without ``ASSEMBLYAI_API_KEY`` nothing on this machine listens to a recording:
the AssemblyAI emulator answers with a transcript it was given. A person trying
their own recording gives it as

* AssemblyAI's transcript JSON (``GET /v2/transcript/{id}``, e.g. saved from
  their dashboard), used as it is; or
* plain text. Lines written ``Name: what they said`` become one turn each of
  that speaker (a line without a name continues the turn above it); text with no
  such line is one speaker's, a paragraph (text between blank lines) a turn.

Plain text becomes the JSON AssemblyAI returns with speaker labels: utterances,
their words, and times at an even speaking pace (the text carries none). The
speaker of each turn is the name written, as AssemblyAI's Speaker Identification
returns names in place of the labels ``A``, ``B`` (assemblyai.com/docs, "Speaker
Identification"); without names it is ``A``.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
from pathlib import Path
from typing import Any

# 150 words a minute, and a breath between turns: plausible times, not measured ones.
MS_PER_WORD = 400
MS_BETWEEN_TURNS = 300
# A name before a colon: a letter first, at most four words, no punctuation but a
# hyphen or an apostrophe ("10:30", "Hoy, 24 de marzo: …" are not names).
_NAMED_LINE = re.compile(r"^\s*(?P<name>[^\W\d_][\w '\u2019-]{0,59}?)\s*:\s+(?P<text>\S.*)$")
_MAX_NAME_WORDS = 4


def _common(words: str) -> frozenset[str]:
    """Words frequent enough in a language to tell it apart on a few lines."""
    return frozenset(words.split())


_STOPWORDS = {
    "es": _common(
        "de la que el en y los se del las un por con una para es al lo como más pero sus "
        "le ya o este sí porque esta entre cuando muy sin sobre también me hasta hay donde "
        "quien desde todo nos durante todos uno les ni contra otros ese eso ante ellos "
        "e esto mí antes algunos qué unos yo otro otras otra él tanto esa estos mucho "
        "quienes nada muchos cual poco ella estar estas algunas algo nosotros vamos hoy"
    ),
    "en": _common(
        "the of and to in is that it for was on are as with be at this have from or by "
        "but not what all were we when your can said there use an each which she do how "
        "their if will up other about out many then them these so some her would make "
        "like him into has look two more go see no way could my than been who its now "
        "our us you they"
    ),
}


class TranscriptError(ValueError):
    """No usable transcript: a message for the person running the demo."""


def transcript_for(audio: Path, given: Path | None) -> tuple[dict[str, Any] | None, str]:
    """The transcript the emulator answers with (None: the real AssemblyAI), and whence.

    ``given`` (``TRANSCRIPT=``) first, even with a key; then the real service when
    ``ASSEMBLYAI_API_KEY`` is set; then the sidecar ``<audio>.transcript.json``.
    Without any of them the demo stops here, before the database, moto or an upload.
    """
    try:
        if given is not None:
            return load(given), given.name
        if os.environ.get("ASSEMBLYAI_API_KEY"):
            return None, ""
        sidecar = Path(f"{audio}.transcript.json")
        if sidecar.is_file():
            return load(sidecar), sidecar.name
    except TranscriptError as exc:
        raise TranscriptError(f"{exc} Nothing was uploaded.") from exc
    raise TranscriptError(what_to_do(audio))


def what_to_do(audio: Path) -> str:
    """Why nothing can transcribe ``audio``, and the two ways on, with their commands."""
    cwd = Path.cwd()
    shown = shlex.quote(str(audio.relative_to(cwd) if audio.is_relative_to(cwd) else audio))
    return (
        f"nothing can transcribe {audio.name}: ASSEMBLYAI_API_KEY is not set and no "
        "transcript was given. Nothing was uploaded.\n"
        "Without a key the local AssemblyAI emulator listens to nothing: it answers with a "
        "transcript it is given. Either\n"
        "  1. have AssemblyAI transcribe it (the real service, billed per hour of audio):\n"
        f"       ASSEMBLYAI_API_KEY=<your key> make demo AUDIO={shown}\n"
        "  2. or give the transcript yourself, as plain text (lines written "
        '"Name: what they said" become that speaker\'s turns; otherwise each paragraph '
        "is a turn of one speaker) or as AssemblyAI's transcript JSON:\n"
        f"       make demo AUDIO={shown} TRANSCRIPT=notes.txt\n"
        f"       make demo AUDIO={shown} TRANSCRIPT=transcript.json\n"
        f"     ({audio.name}.transcript.json beside the recording is used without asking.)"
    )


def load(path: Path) -> dict[str, Any]:
    """The transcript JSON the AssemblyAI emulator answers with, from ``path``."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TranscriptError(f"No such transcript file: {path}") from None
    except UnicodeDecodeError:
        raise TranscriptError(
            f"{path.name} is not UTF-8 text: save it as UTF-8 plain text (or JSON)."
        ) from None
    if path.suffix.lower() == ".json" or raw.lstrip().startswith("{"):
        return _from_json(raw, path.name)
    return from_text(raw, name=path.name)


def _from_json(raw: str, name: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"{name} is not valid JSON ({exc.msg}, line {exc.lineno}).") from None
    if not isinstance(data, dict):
        raise TranscriptError(f"{name}: AssemblyAI's transcript JSON is an object.")
    status = data.get("status", "completed")
    if status != "completed":
        raise TranscriptError(
            f"{name} is a transcript with status {status!r}: give a completed one."
        )
    if not str(data.get("text") or "").strip() and not data.get("utterances"):
        raise TranscriptError(f"{name} has no text and no utterances.")
    return data


def from_text(text: str, *, name: str = "the transcript") -> dict[str, Any]:
    """Plain text as AssemblyAI's completed transcript JSON (see the module's docstring)."""
    turns = _named_turns(text) or [("A", p) for p in _paragraphs(text)]
    if not turns:
        raise TranscriptError(f"{name} is empty: write what was said, one turn a line.")
    utterances: list[dict[str, Any]] = []
    words: list[dict[str, Any]] = []
    clock = 0
    for speaker, said in turns:
        turn_words: list[dict[str, Any]] = []
        for token in said.split():
            turn_words.append(
                {
                    "text": token,
                    "start": clock,
                    "end": clock + MS_PER_WORD,
                    "confidence": 1.0,
                    "speaker": speaker,
                }
            )
            clock += MS_PER_WORD
        utterances.append(
            {
                "speaker": speaker,
                "start": turn_words[0]["start"],
                "end": turn_words[-1]["end"],
                "text": " ".join(w["text"] for w in turn_words),
                "confidence": 1.0,
                "words": turn_words,
            }
        )
        words.extend(turn_words)
        clock += MS_BETWEEN_TURNS
    spoken = " ".join(u["text"] for u in utterances)
    return {
        "status": "completed",
        "text": spoken,
        "language_code": guess_language(spoken),
        "language_confidence": 1.0,
        "audio_duration": math.ceil(utterances[-1]["end"] / 1000),
        "confidence": 1.0,
        "speaker_labels": True,
        "punctuate": True,
        "format_text": True,
        "words": words,
        "utterances": utterances,
    }


def _named_turns(text: str) -> list[tuple[str, str]]:
    """``(name, text)`` per turn when the text opens with a ``Name: text`` line; else []."""
    turns: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _NAMED_LINE.match(line)
        if match and len(match["name"].split()) <= _MAX_NAME_WORDS:
            turns.append((" ".join(match["name"].split()), match["text"].strip()))
        elif turns:
            speaker, said = turns[-1]
            turns[-1] = (speaker, f"{said} {line.strip()}")
        else:
            return []  # text before any name: not a dialogue
    return turns


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def guess_language(text: str) -> str:
    """``es`` or ``en``, whichever's common words the text uses more (Spanish on a tie:
    the product's default). AssemblyAI detects it from the audio; here the words decide."""
    words = re.findall(r"[^\W\d_]+", text.casefold())
    counts = {code: sum(w in common for w in words) for code, common in _STOPWORDS.items()}
    return "en" if counts["en"] > counts["es"] else "es"
