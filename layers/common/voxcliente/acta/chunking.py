"""A transcript cut into parts a single request can carry, nothing lost.

A transcript that fits ``ACTA_MAX_CHARS_PER_PART`` (about 4 characters per
token) is one part. A longer one is split on utterance boundaries; an utterance
longer than a part is split on sentence boundaries (a run-on one between
words). Every utterance goes into exactly one part, in order: nothing is
truncated, so the acta of a long meeting is the merge of the actas of its parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from voxcliente.dates import format_timestamp
from voxcliente.domain.models import Utterance

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class TranscriptInput:
    """What the worker hands over: the transcript and what the uploader said."""

    text: str
    utterances: list[Utterance]
    language_code: str | None  # AssemblyAI's detected code: "es", "en", "en_us"
    audio_duration_s: float | None
    meeting_date: date | None
    client_name: str | None
    original_filename: str

    def is_empty(self) -> bool:
        return not self.text.strip() and not any(u.text.strip() for u in self.utterances)


@dataclass(slots=True)
class Segment:
    """One transcript line: an utterance, or a piece of one too long for a part.

    Its line is written once, when it is made: it is measured, cut into parts
    and written into the prompt, and a 10-hour meeting has some 6,000 of them
    (a slotted class, not a frozen one: a frozen dataclass sets each field
    through ``object.__setattr__``). Nothing changes a segment after that.
    """

    utterance_index: int
    speaker: str | None
    start_ms: int | None
    text: str
    _line: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.speaker is None and self.start_ms is None:
            self._line = self.text
            return
        stamp = format_timestamp(self.start_ms) if self.start_ms is not None else "--:--:--"
        self._line = f"[{stamp}] {self.speaker or '?'}: {self.text}"

    def line(self) -> str:
        return self._line


def _split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut between sentences if possible."""
    units: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if len(sentence) <= limit:
            units.append(sentence)
            continue
        for word in sentence.split(" "):  # a run-on "sentence": cut between words
            units.extend(word[i : i + limit] for i in range(0, len(word), limit))
    pieces: list[str] = []
    current = ""
    for unit in units:
        if not current:
            current = unit
        elif len(current) + 1 + len(unit) <= limit:
            current = f"{current} {unit}"
        else:
            pieces.append(current)
            current = unit
    if current:
        pieces.append(current)
    return pieces


def transcript_segments(transcript: TranscriptInput, max_chars: int) -> list[Segment]:
    """The transcript as lines no longer than ``max_chars``, in order.

    Utterances without text are skipped; whitespace inside an utterance is
    collapsed (a line is one line). Without utterances (no speaker labels) the
    plain text is used.
    """
    segments: list[Segment] = []
    for index, u in enumerate(transcript.utterances):
        text = " ".join(u.text.split())
        if text:
            _add(segments, Segment(index, u.speaker, u.start_ms, text), max_chars)
    if not segments and (text := " ".join(transcript.text.split())):
        _add(segments, Segment(0, None, None, text), max_chars)
    return segments


def _add(segments: list[Segment], whole: Segment, max_chars: int) -> None:
    """``whole`` as one line, or as pieces of its text when it is longer than a part."""
    length = len(whole.line())
    if length + 1 <= max_chars:
        segments.append(whole)
        return
    prefix = length - len(whole.text)
    limit = max(max_chars - prefix - 1, max_chars // 2)
    segments.extend(
        Segment(whole.utterance_index, whole.speaker, whole.start_ms, piece)
        for piece in _split_text(whole.text, limit)
    )


def split_transcript(transcript: TranscriptInput, max_chars: int) -> list[list[Segment]]:
    """The transcript in parts of at most ``max_chars`` characters of lines.

    Parts are filled in order and cut only between lines, so every utterance is
    in exactly one part unless it alone is longer than a part (then its pieces
    are consecutive).
    """
    parts: list[list[Segment]] = []
    current: list[Segment] = []
    size = 0
    for segment in transcript_segments(transcript, max_chars):
        length = len(segment.line()) + 1
        if current and size + length > max_chars:
            parts.append(current)
            current, size = [], 0
        current.append(segment)
        size += length
    if current:
        parts.append(current)
    return parts


def span(part: list[Segment]) -> tuple[str, str] | None:
    """The recording offsets (``hh:mm:ss``) a part covers, if its lines are timed."""
    stamps = [s.start_ms for s in part if s.start_ms is not None]
    if not stamps:
        return None
    return format_timestamp(min(stamps)), format_timestamp(max(stamps))
