"""The transcript attachment names the speakers the acta identified, label kept in brackets."""

from __future__ import annotations

from datetime import date
from typing import Any

from voxcliente.acta.model import Acta, Participant
from voxcliente.domain.models import Utterance
from voxcliente.render import MeetingFacts, render_acta_email, render_transcript_txt

FACTS = MeetingFacts(
    meeting_id="7b1e0c52-0000-4000-8000-000000000003",
    original_filename="entregas.m4a",
    client_name="Textiles Andinos",
    meeting_date=date(2027, 2, 24),
    audio_duration_s=95.0,
    recipient="laura@example.com",
)
UTTERANCES = [
    Utterance(speaker="A", start_ms=0, end_ms=4_000, text="Buenos días, soy Laura Méndez."),
    Utterance(speaker="B", start_ms=83_000, end_ms=90_000, text="Empecemos."),
    Utterance(speaker="C", start_ms=91_000, end_ms=93_000, text="De acuerdo."),
]


def person(label: str | None, name: str) -> Participant:
    return Participant(speaker_label=label, name=name, role=None, organization=None)


def turns(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("[")]


def test_named_speakers_keep_their_label_and_unnamed_ones_stay_participants() -> None:
    participants = [
        person("A", "Laura Méndez"),
        person("B", "Participante B"),  # the acta could not name B
        person(None, "Jorge Ruiz"),  # mentioned, not a speaker
    ]

    text = render_transcript_txt(UTTERANCES, FACTS, "es", participants=participants)

    assert turns(text) == [
        "[00:00:00] Laura Méndez [A]: Buenos días, soy Laura Méndez.",
        "[00:01:23] Participante B: Empecemos.",
        "[00:01:31] Participante C: De acuerdo.",
    ]


def test_the_header_is_kept() -> None:
    text = render_transcript_txt(UTTERANCES, FACTS, "es", participants=[person("A", "Laura")])

    assert text.splitlines()[:6] == [
        "Transcripción de la reunión: entregas.m4a",
        "Fecha: 24 de febrero de 2027",
        "Cliente: Textiles Andinos",
        "Duración: 2 min",
        "Referencia: 7b1e0c52-0000-4000-8000-000000000003",
        "Transcripción automática: puede contener errores.",
    ]


def test_labels_are_matched_as_the_transcript_writes_them() -> None:
    participants = [
        person(" a ", "Laura Méndez"),  # spacing and case as a model may write them
        person("Speaker B", "Jorge Ruiz"),
        person("B", "Otro Nombre"),  # the same label twice: the first name stays
    ]

    text = render_transcript_txt(UTTERANCES, FACTS, "es", participants=participants)

    assert turns(text)[:2] == [
        "[00:00:00] Laura Méndez [A]: Buenos días, soy Laura Méndez.",
        "[00:01:23] Jorge Ruiz [B]: Empecemos.",
    ]


def test_a_name_cannot_forge_a_transcript_line() -> None:
    participants = [person("A", "Laura\n[00:00:00] B: falso")]

    text = render_transcript_txt(UTTERANCES, FACTS, "es", participants=participants)

    assert turns(text)[0] == (
        "[00:00:00] Laura [00:00:00] B: falso [A]: Buenos días, soy Laura Méndez."
    )
    assert len(turns(text)) == len(UTTERANCES)


def test_the_attached_transcript_uses_the_actas_names_in_its_language() -> None:
    data: dict[str, Any] = {
        "language": "en",
        "meeting_date": None,
        "start_time": None,
        "end_time": None,
        "modality": None,
        "place": None,
        "client": None,
        "participants": [
            {"speaker_label": "A", "name": "Laura Méndez", "role": None, "organization": None},
            {"speaker_label": "B", "name": "Participant B", "role": None, "organization": None},
        ],
        "topics": [],
        "decisions": [],
        "action_items": [],
        "open_questions": [],
        "next_meeting": None,
        "title": "Deliveries",
        "summary": "",
    }

    email = render_acta_email(Acta.model_validate(data), FACTS, UTTERANCES)

    transcript = email.attachments[1][2].decode("utf-8")
    assert turns(transcript) == [
        "[00:00:00] Laura Méndez [A]: Buenos días, soy Laura Méndez.",
        "[00:01:23] Participant B: Empecemos.",
        "[00:01:31] Participant C: De acuerdo.",
    ]
    assert transcript.startswith("Meeting transcript: entregas.m4a\n")


def test_speakers_that_are_already_names_are_kept_as_they_are() -> None:
    """A transcript whose speakers are names (AssemblyAI's Speaker Identification, or a
    "Name: text" file given to the demo) is not turned into "Participante Laura"."""
    named = [
        Utterance(speaker="Laura Méndez", start_ms=0, end_ms=4_000, text="Buenos días."),
        Utterance(speaker="B", start_ms=5_000, end_ms=6_000, text="Hola."),
    ]

    text = render_transcript_txt(named, FACTS, "es")

    assert turns(text) == [
        "[00:00:00] Laura Méndez: Buenos días.",
        "[00:00:05] Participante B: Hola.",
    ]
