"""The transcript attachment: one ``[hh:mm:ss] Participante A: ...`` line per turn."""

from __future__ import annotations

from voxcliente.dates import format_date, format_duration, format_timestamp
from voxcliente.domain.models import Utterance
from voxcliente.render.view import MeetingFacts, labels_for
from voxcliente.text import one_line


def render_transcript_txt(utterances: list[Utterance], facts: MeetingFacts, language: str) -> str:
    """``[00:01:23] Participante A: ...`` per utterance, under a short header."""
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

    lines = []
    for utterance in utterances:
        speaker = one_line(utterance.speaker) or "?"
        text = one_line(utterance.text)
        lines.append(
            f"[{format_timestamp(utterance.start_ms)}] {labels.participant} {speaker}: {text}"
        )
    if not lines:
        lines.append(labels.no_utterances)
    return "\n".join(header + lines) + "\n"
