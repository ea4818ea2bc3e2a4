"""The transcript attachment: one ``[hh:mm:ss] Laura Méndez [A]: ...`` line per turn.

A speaker the acta identified is named as the acta names them, the speaker
label kept in brackets so each line can still be matched to the recording's
speaker separation; one it did not name stays ``Participante A``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from voxcliente.acta.model import Participant
from voxcliente.dates import format_date, format_duration, format_timestamp
from voxcliente.domain.models import Utterance
from voxcliente.locales import all_locales
from voxcliente.render.view import MeetingFacts, labels_for
from voxcliente.text import one_line

# How an acta names a speaker it could not identify ("Participante B"): every
# language file's word, and English's (the model's instructions are in English).
_UNNAMED_WORDS = frozenset(
    locale.labels.participant.casefold() for locale in all_locales().values()
) | {"participant", "speaker"}


def _spoken(text: str) -> str:
    """:func:`one_line` of an utterance, without its character-by-character pass when
    nothing in the text needs it: a printable string (no control, format, surrogate,
    private-use or unassigned character, no whitespace but the space:
    ``str.isprintable``) already in NFC is what ``one_line`` keeps, but for runs of
    spaces. A 10-hour meeting has some 12,000 utterances; this is most of them."""
    if text.isprintable() and unicodedata.is_normalized("NFC", text):
        return " ".join(text.split())
    return one_line(text)


def _label(value: str | None) -> str:
    """``"A"`` from ``"A"``, ``" a "`` or ``"Speaker A"``: the label as the transcript has it."""
    words = one_line(value).split()
    return words[-1].upper() if words else ""


def speaker_names(participants: Sequence[Participant]) -> dict[str, str]:
    """The names the acta gave speakers, by speaker label; unnamed speakers left out."""
    names: dict[str, str] = {}
    for person in participants:
        label, name = _label(person.speaker_label), one_line(person.name)
        words = name.casefold().split()
        unnamed = len(words) == 2 and words[0] in _UNNAMED_WORDS and words[1] == label.casefold()
        if label and name and not unnamed:
            names.setdefault(label, name)  # the first, should the acta repeat a label
    return names


def render_transcript_txt(
    utterances: list[Utterance],
    facts: MeetingFacts,
    language: str,
    *,
    participants: Sequence[Participant] = (),
) -> str:
    """``[00:01:23] Laura Méndez [A]: ...`` per utterance, under a short header.

    ``participants``: the acta's, to name the speakers it identified.
    """
    labels = labels_for(language)
    header = [f"{labels.transcript_title}: {one_line(facts.original_filename)}"]
    if facts.meeting_date is not None:
        header.append(f"{labels.date}: {format_date(facts.meeting_date, language)}")
    if facts.client_name:
        header.append(f"{labels.client}: {one_line(facts.client_name)}")
    duration = format_duration(facts.audio_duration_s)
    if duration:
        header.append(f"{labels.duration}: {duration}")
    header += [f"{labels.reference}: {facts.meeting_id}", labels.transcript_note, ""]

    names = speaker_names(participants)
    # A meeting has a handful of speakers and thousands of turns: each label is
    # cleaned and named once.
    speakers: dict[str, str] = {}
    lines = []
    for utterance in utterances:
        who = speakers.get(utterance.speaker)
        if who is None:
            speaker = one_line(utterance.speaker) or "?"
            name = names.get(speaker.upper())
            # AssemblyAI's labels are letters ("A"); a transcript whose speakers are
            # already names (Speaker Identification, a "Name: text" file) keeps them.
            who = (
                f"{name} [{speaker}]"
                if name
                else speaker
                if len(speaker) > 1
                else f"{labels.participant} {speaker}"
            )
            speakers[utterance.speaker] = who
        lines.append(f"[{format_timestamp(utterance.start_ms)}] {who}: {_spoken(utterance.text)}")
    if not lines:
        lines.append(labels.no_utterances)
    return "\n".join(header + lines) + "\n"
