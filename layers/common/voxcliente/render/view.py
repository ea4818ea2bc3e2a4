"""What the code knows about a meeting, and the acta as the documents show it.

:class:`ActaView` is the acta already cleaned (one line per item, control
characters gone), labelled in its language and ordered: the HTML email, the
plain-text email and the .docx all render the same view, so they cannot
disagree about what the acta says. Which order they show it in is here too:
:data:`FORMAL_ORDER` for the .docx, :data:`EMAIL_ORDER` for the email.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from voxcliente.acta.model import Acta
from voxcliente.dates import format_date, format_duration
from voxcliente.locales import Labels, language_code, locale_for
from voxcliente.render.clock import end_clock
from voxcliente.text import one_line

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT_MIME = "text/plain"

_MAX_TITLE_CHARS = 150
_MAX_SLUG_CHARS = 60
# A title the model started with the document's own name would read
# "Acta de reunión: Acta de reunión: ..." under the heading.
_TITLE_PREFIX_RE = re.compile(
    r"^\s*(acta\s+de\s+(la\s+)?reuni[oó]n|acta|meeting\s+minutes|minutes)\s*[:\-\u2014\u2013]\s*",
    re.IGNORECASE,
)


# The sections after the title, in the standard's formal order (docs/acta-standard.md,
# sections 2-9): the .docx, the document that is filed and signed, follows it.
FORMAL_ORDER = (
    "details",
    "attendees",
    "agenda",
    "discussion",
    "decisions",
    "action_items",
    "open_questions",
    "next_meeting",
)
# What people open the email for comes first; the rest keeps the formal order.
LOOKED_FOR_FIRST = ("details", "attendees", "decisions", "action_items")
EMAIL_ORDER = LOOKED_FOR_FIRST + tuple(s for s in FORMAL_ORDER if s not in LOOKED_FOR_FIRST)


@dataclass(frozen=True)
class MeetingFacts:
    """What the code knows about the meeting (as opposed to what the model wrote)."""

    meeting_id: str
    original_filename: str
    client_name: str | None
    meeting_date: date | None
    audio_duration_s: float | None
    recipient: str


@dataclass(frozen=True)
class RenderedEmail:
    """A message ready for :func:`voxcliente.adapters.ses.build_mime`."""

    subject: str
    html: str
    text: str
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)
    """``(filename, mime type, data)`` in the order they are attached."""


@dataclass(frozen=True)
class ActaView:
    """Everything the three renderings show, already cleaned and labelled."""

    lang: str
    labels: Labels
    kicker: str
    heading: str
    running_head: str
    """The .docx page header: client and date, whichever is known; else the title."""
    emulated_note: str
    """The line saying no language model wrote this acta; empty for a real one."""
    summary: list[str]
    details: list[tuple[str, str]]
    attendees: list[str]
    agenda: list[str]
    topics: list[tuple[str, list[str]]]
    decisions: list[str]
    action_items: list[tuple[str, str | None, str | None]]
    open_questions: list[str]
    next_meeting: list[tuple[str, str]]
    closing: str
    reference: str


def labels_for(language: str | None) -> Labels:
    """The labels of a language; languages without a locale file fall back to English."""
    return locale_for(language).labels


def slugify(text: str, fallback: str = "reunion") -> str:
    """A file-name-safe slug that keeps accented letters (RFC 2231 carries them)."""
    normalized = unicodedata.normalize("NFC", text).lower()
    slug = "".join(ch if ch.isalnum() else "-" for ch in normalized)
    slug = re.sub(r"-{2,}", "-", slug).strip("-")[:_MAX_SLUG_CHARS].rstrip("-")
    return slug or fallback


def clean_title(acta: Acta, facts: MeetingFacts) -> str:
    """The model's title without a repeated document name; the file's name if none."""
    title = _TITLE_PREFIX_RE.sub("", one_line(acta.title))
    if not title:
        title = (
            one_line(Path(facts.original_filename).stem) or labels_for(acta.language).default_title
        )
    if len(title) > _MAX_TITLE_CHARS:
        title = title[: _MAX_TITLE_CHARS - 1].rstrip() + "…"
    return title


def meeting_date_text(acta: Acta, facts: MeetingFacts) -> str | None:
    """The date the code knows, else the one the model heard, else None."""
    if facts.meeting_date is not None:
        return format_date(facts.meeting_date, acta.language)
    stated = one_line(acta.meeting_date)
    return stated or None


def acta_subject(acta: Acta, facts: MeetingFacts) -> str:
    """``Acta de reunión: <title> — 3 de marzo de 2027`` (no date part when none is known).

    The date is the one the code knows; failing that, the one the model wrote,
    but only when it looks like a date (has a digit) rather than "no precisada".
    """
    subject = f"{labels_for(acta.language).title}: {clean_title(acta, facts)}"
    when = meeting_date_text(acta, facts)
    if when and any(ch.isdigit() for ch in when):
        subject += f" — {when}"
    return subject


def _paragraphs(text: str | None) -> list[str]:
    """Model text split on line breaks into non-empty, single-line paragraphs."""
    if not text:
        return []
    return [line for line in (one_line(part) for part in text.splitlines()) if line]


def _items(values: list[str]) -> list[str]:
    return [x for x in (one_line(item) for item in values) if x]


def _details(acta: Acta, facts: MeetingFacts, labels: Labels) -> list[tuple[str, str]]:
    """Section 2: date, start and end, modality, place, client, duration, recording.

    A stated end is shown as stated; without one, a stated start plus the
    recording's duration gives it, marked as approximate (the recording may
    not span the whole meeting).
    """
    end = one_line(acta.end_time)
    if not end and (computed := end_clock(acta.start_time, facts.audio_duration_s)):
        end = labels.approximate_time.format(time=computed)
    details: list[tuple[str, str]] = [
        (labels.date, meeting_date_text(acta, facts) or labels.date_unknown)
    ]
    for label, value in (
        (labels.start_time, acta.start_time),
        (labels.end_time, end),
        (labels.modality, acta.modality),
        (labels.place, acta.place),
        (labels.client, facts.client_name or acta.client),
        (labels.duration, format_duration(facts.audio_duration_s)),
        (labels.recording, facts.original_filename),
    ):
        if one_line(value):
            details.append((label, one_line(value)))
    return details


def _next_meeting(acta: Acta, labels: Labels) -> list[tuple[str, str]]:
    """Section 9: date, time, modality and purpose, a row each; the date row always.

    A next meeting agreed without a date still says so ("Sin fecha definida").
    """
    upcoming = acta.next_meeting
    if upcoming is None:
        return []
    rows = [
        (label, one_line(value))
        for label, value in (
            (labels.time, upcoming.time),
            (labels.modality, upcoming.modality),
            (labels.purpose, upcoming.purpose),
        )
        if one_line(value)
    ]
    date = one_line(upcoming.date)
    if not date and not rows:
        return []
    return [(labels.date, date or labels.no_date), *rows]


def build_view(acta: Acta, facts: MeetingFacts, *, emulated: bool = False) -> ActaView:
    """The acta as every rendering shows it."""
    labels = labels_for(acta.language)
    heading = f"{labels.title}: {clean_title(acta, facts)}"

    attendees = []
    for person in acta.participants:
        extra = ", ".join(one_line(x) for x in (person.role, person.organization) if one_line(x))
        name = one_line(person.name) or f"{labels.participant} {one_line(person.speaker_label)}"
        attendees.append(f"{name.strip()} ({extra})" if extra else name.strip())

    client_and_date = " · ".join(
        part
        for part in (one_line(facts.client_name or acta.client), meeting_date_text(acta, facts))
        if part
    )
    return ActaView(
        lang=language_code(acta.language),
        labels=labels,
        kicker=client_and_date or "VoxCliente",
        heading=heading,
        running_head=client_and_date or heading,
        emulated_note=labels.emulated if emulated else "",
        summary=_paragraphs(acta.summary),
        details=_details(acta, facts, labels),
        attendees=[a for a in attendees if a],
        agenda=_items(acta.agenda),
        topics=[
            (one_line(topic.title), _paragraphs(topic.summary))
            for topic in acta.topics
            if one_line(topic.title) or one_line(topic.summary)
        ],
        decisions=_items(acta.decisions),
        action_items=[
            (one_line(item.task), one_line(item.owner) or None, one_line(item.due_date) or None)
            for item in acta.action_items
            if one_line(item.task)
        ],
        open_questions=_items(acta.open_questions),
        next_meeting=_next_meeting(acta, labels),
        closing=labels.closing.format(filename=one_line(facts.original_filename)),
        reference=facts.meeting_id,
    )
