"""The acta as people read it: HTML email, plain text, .docx, transcript, failure notices."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest

from voxcliente.acta.model import Acta
from voxcliente.dates import format_duration
from voxcliente.domain.models import Utterance
from voxcliente.locales import locale_for
from voxcliente.render import (
    DOCX_MIME,
    MeetingFacts,
    acta_subject,
    render_acta_docx,
    render_acta_email,
    render_acta_html,
    render_acta_text,
    render_failure_email,
    render_transcript_txt,
)
from voxcliente.render.clock import end_clock, parse_clock
from voxcliente.render.view import EMAIL_ORDER, FORMAL_ORDER

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "<script>alert(1)</script>"
INJECTION = "send this to someone@else.com\r\nBcc: x@y.z"


def sample_acta(**overrides: Any) -> Acta:
    data: dict[str, Any] = {
        "language": "es",
        "title": "Plan de entregas de marzo con Textiles Andinos",
        "meeting_date": None,
        "start_time": "10:00",
        "end_time": "11:05",
        "modality": "Videollamada",
        "place": None,
        "client": "Textiles Andinos",
        "summary": "Se revisó el plan de entregas de marzo y los retrasos de febrero.",
        "participants": [
            {
                "speaker_label": "A",
                "name": "Sra. Lucía Méndez",
                "role": "Gerente de operaciones",
                "organization": "Textiles Andinos",
            },
            {"speaker_label": "B", "name": "Participante B", "role": None, "organization": None},
        ],
        "topics": [
            {
                "title": "Retrasos de febrero",
                "summary": "La Sra. Méndez indicó que tres pedidos llegaron tarde.",
            },
            {
                "title": "Plan de entregas de marzo",
                "summary": "Se revisó el calendario de entregas semanales.",
            },
        ],
        "decisions": [
            "Se acuerda pilotear el nuevo plazo con dos clientes desde el 3 de marzo.",
            "Se acuerda consolidar los envíos en dos entregas semanales.",
        ],
        "action_items": [
            {
                "task": "Enviar el calendario actualizado.",
                "owner": "Participante B",
                "due_date": "28 de febrero",
            },
            {
                "task": "Confirmar los clientes del piloto.",
                "owner": "Sra. Méndez",
                "due_date": None,
            },
            {"task": "Revisar el pago a 45 días.", "owner": None, "due_date": None},
        ],
        "open_questions": ["Condiciones de pago a 45 días."],
        "next_meeting": {
            "date": "10 de marzo de 2027",
            "time": None,
            "modality": None,
            "purpose": "Revisar el piloto.",
        },
    }
    data.update(overrides)
    return Acta.model_validate(data)


def sample_facts(**overrides: Any) -> MeetingFacts:
    values: dict[str, Any] = {
        "meeting_id": "7b1e0c52-0000-4000-8000-000000000001",
        "original_filename": "Reunión Textiles Andinos.m4a",
        "client_name": None,
        "meeting_date": date(2027, 3, 3),
        "audio_duration_s": 3905.2,
        "recipient": "lucia@example.com",
    }
    values.update(overrides)
    return MeetingFacts(**values)


UTTERANCES = [
    Utterance(speaker="A", start_ms=0, end_ms=4_000, text="Buenos días a todos."),
    Utterance(speaker="B", start_ms=83_000, end_ms=90_000, text="Empecemos por los retrasos."),
]


def malicious_acta() -> Acta:
    return sample_acta(
        title=f"Entregas {SCRIPT}",
        summary=f"Resumen {SCRIPT}",
        decisions=[f"Se acuerda {SCRIPT}", INJECTION],
        action_items=[{"task": SCRIPT, "owner": INJECTION, "due_date": None}],
        participants=[{"speaker_label": "A", "name": SCRIPT, "role": None, "organization": None}],
    )


# --------------------------------------------------------------------------- HTML


def test_html_shows_sections_in_the_email_order() -> None:
    html = render_acta_html(sample_acta(), sample_facts())

    # Then: title first, then details, attendees, decisions, action items,
    # agenda, discussion, open questions, next meeting and the closing line.
    labels = locale_for("es").labels
    order = [
        "Acta de reunión: Plan de entregas de marzo con Textiles Andinos",
        f">{labels.details}<",
        f">{labels.attendees}<",
        f">{labels.decisions}<",
        f">{labels.action_items}<",
        f">{labels.agenda}<",
        f">{labels.discussion}<",
        f">{labels.open_questions}<",
        f">{labels.next_meeting}<",
        "Acta redactada automáticamente",
    ]
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert "3 de marzo de 2027" in html
    assert "1 h 05 min" in html
    assert 'lang="es"' in html


def test_html_uses_inline_styles_and_tables_not_a_style_block() -> None:
    html = render_acta_html(sample_acta(), sample_facts())

    assert "<style" not in html.lower()
    assert "<link" not in html.lower()
    assert '<table role="presentation"' in html
    # The action-item table: header plus one row per item, "Sin fecha definida" where no date.
    assert html.count("Sin fecha definida") == 2
    assert "Sin responsable definido" in html
    assert "28 de febrero" in html


def test_html_escapes_model_text() -> None:
    html = render_acta_html(malicious_acta(), sample_facts(original_filename=f"{SCRIPT}.mp3"))

    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_title_prefix_written_by_the_model_is_not_repeated() -> None:
    acta = sample_acta(title="Acta de reunión: revisión trimestral")

    assert acta_subject(acta, sample_facts()).startswith("Acta de reunión: revisión trimestral")
    assert "Acta de reunión: Acta de" not in render_acta_html(acta, sample_facts())


# --------------------------------------------------------------------------- subject


def test_subject_has_the_title_and_the_date_in_spanish() -> None:
    subject = acta_subject(sample_acta(), sample_facts())

    assert subject == (
        "Acta de reunión: Plan de entregas de marzo con Textiles Andinos — 3 de marzo de 2027"
    )


def test_subject_without_a_known_date_omits_it() -> None:
    facts = sample_facts(meeting_date=None)

    assert " — " not in acta_subject(sample_acta(meeting_date=None), facts)
    # A date the model heard is used; "no precisada" is not a date.
    assert acta_subject(sample_acta(meeting_date="5 de abril de 2027"), facts).endswith(
        " — 5 de abril de 2027"
    )
    assert " — " not in acta_subject(sample_acta(meeting_date="fecha no precisada"), facts)


# --------------------------------------------------------------------------- plain text


def test_text_carries_the_same_content() -> None:
    acta = sample_acta()
    text = render_acta_text(acta, sample_facts())

    for expected in [
        *acta.decisions,
        *(item.task for item in acta.action_items),
        *acta.agenda,
        *(topic.summary for topic in acta.topics),
        *acta.open_questions,
        "Sra. Lucía Méndez (Gerente de operaciones, Textiles Andinos)",
        "Fecha límite: Sin fecha definida",
        "Acta redactada automáticamente",
        "pendiente de revisión y aprobación.",
    ]:
        assert expected in text
    assert (
        text.index("Acuerdos") < text.index("Tareas y responsables") < text.index("Orden del día")
    )
    assert "<" not in text


def test_empty_sections_say_so_instead_of_disappearing() -> None:
    acta = sample_acta(
        participants=[],
        topics=[],
        decisions=[],
        action_items=[],
        open_questions=[],
        next_meeting=None,
    )
    html = render_acta_html(acta, sample_facts())
    text = render_acta_text(acta, sample_facts())

    for sentence in (
        "No se registraron acuerdos.",
        "No se asignaron tareas.",
        "No quedaron temas pendientes.",
        "No se acordó una próxima reunión.",
    ):
        assert sentence in html
        assert sentence in text


# --------------------------------------------------------------------------- details, next meeting


def kv_rows(html: str) -> list[tuple[str, str]]:
    """The label/value rows of the email's two-column tables, in order."""
    return re.findall(r"<td[^>]*>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>", html)


def html_section(html: str, heading: str) -> str:
    """The HTML between a section's heading and the next one (or the footer)."""
    start = html.index(f">{heading}</h2>")
    following = html.find("<h2", start)
    return html[start : following if following != -1 else len(html)]


PLACED = {
    "modality": "Presencial",
    "place": "Oficinas de Textiles Andinos, Lima",
    "next_meeting": {
        "date": "el jueves 12",
        "time": "10:00",
        "modality": "Videollamada",
        "purpose": "Revisar el piloto.",
    },
}


def test_place_and_modality_are_separate_details_in_html_and_text() -> None:
    acta = sample_acta(**PLACED)

    html = render_acta_html(acta, sample_facts())
    text = render_acta_text(acta, sample_facts())

    details = kv_rows(html_section(html, "Datos de la reunión"))
    assert ("Modalidad", "Presencial") in details
    assert ("Lugar", "Oficinas de Textiles Andinos, Lima") in details
    assert "Modalidad: Presencial\nLugar: Oficinas de Textiles Andinos, Lima\n" in text


def test_the_next_meeting_has_date_time_modality_and_purpose_as_rows() -> None:
    acta = sample_acta(**PLACED)

    html = render_acta_html(acta, sample_facts())
    text = render_acta_text(acta, sample_facts())

    rows = [
        ("Fecha", "el jueves 12"),
        ("Hora", "10:00"),
        ("Modalidad", "Videollamada"),
        ("Objetivo", "Revisar el piloto."),
    ]
    assert kv_rows(html_section(html, "Próxima reunión")) == rows
    # This meeting's modality stays in the details: the next one's does not leak there.
    assert ("Modalidad", "Videollamada") not in kv_rows(html_section(html, "Datos de la reunión"))
    section = text[text.index("Próxima reunión\n") :]
    assert section.split("\n")[2:6] == [f"{label}: {value}" for label, value in rows]


def test_a_next_meeting_agreed_without_a_date_says_so_and_shows_only_what_was_agreed() -> None:
    acta = sample_acta(
        next_meeting={"date": None, "time": "16:30", "modality": None, "purpose": None}
    )

    text = render_acta_text(acta, sample_facts())

    section = text[text.index("Próxima reunión\n") :].split("\n")
    assert section[2:4] == ["Fecha: Sin fecha definida", "Hora: 16:30"]
    assert section[4] == ""


# --------------------------------------------------------------------------- end time

APPROX_ES = "(aprox., según la duración de la grabación)"


@pytest.mark.parametrize(
    ("start", "end", "duration_s", "shown"),
    [
        # stated start + the recording's duration, to the nearest minute
        ("10:00", None, 3905.2, f"11:05 {APPROX_ES}"),
        ("9:30", None, 1800.0, f"10:00 {APPROX_ES}"),
        ("10:00 h", None, 3905.2, f"11:05 {APPROX_ES}"),
        ("10.00", None, 3905.2, f"11:05 {APPROX_ES}"),
        ("23:40", None, 1800.0, f"00:10 {APPROX_ES}"),
        # a stated end is shown as stated
        ("10:00", "11:30", 3905.2, "11:30"),
        (None, "11:30 h", 3905.2, "11:30 h"),
        # a start that is not a clock time, or an unknown duration: nothing invented
        ("a las diez y pico", None, 3905.2, None),
        ("10", None, 3905.2, None),
        ("25:00", None, 3905.2, None),
        ("10:00", None, None, None),
        (None, None, 3905.2, None),
    ],
)
def test_end_time_shown(
    start: str | None, end: str | None, duration_s: float | None, shown: str | None
) -> None:
    acta = sample_acta(start_time=start, end_time=end)
    facts = sample_facts(audio_duration_s=duration_s)

    html = render_acta_html(acta, facts)
    text = render_acta_text(acta, facts)

    ends = [value for label, value in kv_rows(html) if label == "Hora de fin"]
    assert ends == ([shown] if shown else [])
    assert (f"Hora de fin: {shown}\n" in text) if shown else ("Hora de fin" not in text)
    if start:  # the start itself is always shown as stated
        assert f"Hora de inicio: {start}\n" in text


def test_clock_times_read_only_when_beyond_doubt() -> None:
    assert parse_clock("2:30 pm") == 14 * 60 + 30
    assert parse_clock("12:05 a. m.") == 5
    assert parse_clock("10h30") == 10 * 60 + 30
    assert parse_clock("14:00 pm") is None  # says two different things
    assert parse_clock("10:75") is None
    assert parse_clock("") is None
    # Half a minute rounds up; 29 seconds do not.
    assert end_clock("10:00", 90) == "10:02"
    assert end_clock("10:00", 89) == "10:01"
    assert end_clock("10:00", -1) is None


# --------------------------------------------------------------------------- closing and order

CLOSING_ES = (
    "Acta redactada automáticamente a partir de la grabación «Reunión Textiles Andinos.m4a»; "
    "pendiente de revisión y aprobación."
)


def test_the_closing_says_written_automatically_and_pending_approval_everywhere() -> None:
    email = render_acta_email(sample_acta(), sample_facts(), UTTERANCES)

    body = [p.text for p in docx.Document(io.BytesIO(email.attachments[0][2])).paragraphs]
    assert CLOSING_ES in email.html
    assert f"--\n{CLOSING_ES}\n" in email.text
    assert CLOSING_ES in body


def test_the_email_puts_what_people_look_for_first_and_the_docx_keeps_the_formal_order() -> None:
    labels = locale_for("es").labels
    acta = sample_acta()

    text = render_acta_text(acta, sample_facts())
    document = docx.Document(io.BytesIO(render_acta_docx(acta, sample_facts())))

    # One list of sections: the email moves decisions and action items up, nothing else.
    assert EMAIL_ORDER[:4] == ("details", "attendees", "decisions", "action_items")
    assert sorted(EMAIL_ORDER) == sorted(FORMAL_ORDER)
    rest = [s for s in FORMAL_ORDER if s not in ("decisions", "action_items")]
    assert [s for s in EMAIL_ORDER if s not in ("decisions", "action_items")] == rest
    underlined = [
        line
        for line, under in zip(text.splitlines(), text.splitlines()[1:], strict=False)
        if line and under == "-" * len(line)
    ]
    assert underlined == [getattr(labels, section) for section in EMAIL_ORDER]
    headings = [p.text for p in document.paragraphs if p.style and p.style.name == "Heading 2"]
    assert headings == [getattr(labels, section) for section in FORMAL_ORDER]


# --------------------------------------------------------------------------- .docx


def test_docx_has_real_headings_and_the_action_item_table() -> None:
    acta = sample_acta()

    document = docx.Document(io.BytesIO(render_acta_docx(acta, sample_facts())))

    headings = [
        (p.style.name, p.text)
        for p in document.paragraphs
        if p.style is not None and p.style.name.startswith("Heading")
    ]
    assert headings[0] == (
        "Heading 1",
        "Acta de reunión: Plan de entregas de marzo con Textiles Andinos",
    )
    # The standard's sections 2-9 (docs/acta-standard.md), in order, as Heading 2.
    assert [text for style, text in headings if style == "Heading 2"] == [
        "Datos de la reunión",
        "Asistentes",
        "Orden del día",
        "Desarrollo",
        "Acuerdos",
        "Tareas y responsables",
        "Temas pendientes",
        "Próxima reunión",
    ]
    assert ("Heading 3", "Retrasos de febrero") in headings

    [table] = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["Tarea", "Responsable", "Fecha límite"]
    assert rows[1:] == [
        ["Enviar el calendario actualizado.", "Participante B", "28 de febrero"],
        ["Confirmar los clientes del piloto.", "Sra. Méndez", "Sin fecha definida"],
        ["Revisar el pago a 45 días.", "Sin responsable definido", "Sin fecha definida"],
    ]
    decisions = [p.text for p in document.paragraphs if p.style and p.style.name == "List Number"]
    assert decisions == acta.decisions
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Acta redactada automáticamente" in body
    assert body.rstrip().endswith("7b1e0c52-0000-4000-8000-000000000001")
    assert document.core_properties.language == "es-ES"


def test_docx_survives_control_characters_in_model_text() -> None:
    acta = sample_acta(summary="Línea\x00uno\x0bdos", decisions=["Se acuerda\x1b algo."])

    document = docx.Document(io.BytesIO(render_acta_docx(acta, sample_facts())))

    body = "\n".join(p.text for p in document.paragraphs)
    assert "Línea uno\ndos" in body  # \x0b is a line break to str.splitlines()
    assert "Se acuerda algo." in body


# --------------------------------------------------------------------------- emulated actas

DEMO_ES = "Acta de demostración: no la escribió un modelo de lenguaje."
DEMO_EN = "Demonstration minutes: not written by a language model."


def test_an_emulated_acta_says_so_in_the_html_the_text_and_the_docx() -> None:
    email = render_acta_email(sample_acta(), sample_facts(), UTTERANCES, emulated=True)

    document = docx.Document(io.BytesIO(email.attachments[0][2]))
    paragraphs = [p.text for p in document.paragraphs]
    # Right under the title, where nobody reads past it.
    assert paragraphs[1] == DEMO_ES
    assert f">{DEMO_ES}<" in email.html
    assert email.html.index(DEMO_ES) < email.html.index("Datos de la reunión")
    lines = email.text.splitlines()
    assert lines[3] == DEMO_ES
    assert email.subject == acta_subject(sample_acta(), sample_facts())


def test_an_emulated_english_acta_says_so_in_english() -> None:
    acta = sample_acta(language="en")

    email = render_acta_email(acta, sample_facts(), UTTERANCES, emulated=True)

    assert DEMO_EN in email.html
    assert DEMO_EN in email.text
    body = [p.text for p in docx.Document(io.BytesIO(email.attachments[0][2])).paragraphs]
    assert DEMO_EN in body


def test_an_acta_a_model_wrote_has_no_demonstration_line() -> None:
    email = render_acta_email(sample_acta(), sample_facts(), UTTERANCES)

    body = [p.text for p in docx.Document(io.BytesIO(email.attachments[0][2])).paragraphs]
    for shown in (email.html, email.text, "\n".join(body)):
        assert "demostración" not in shown


# --------------------------------------------------------------------------- languages


def test_english_acta_uses_english_labels_everywhere() -> None:
    acta = sample_acta(
        language="en",
        title="March delivery plan",
        decisions=["It was agreed to pilot the new lead time."],
        action_items=[{"task": "Send the schedule.", "owner": None, "due_date": None}],
        end_time=None,
        modality="In person",
        place="Textiles Andinos offices, Lima",
        next_meeting={
            "date": "Thursday the 12th",
            "time": "10:00",
            "modality": "Video call",
            "purpose": "Review the pilot.",
        },
    )

    email = render_acta_email(acta, sample_facts(), UTTERANCES)

    assert email.subject == "Meeting minutes: March delivery plan — March 3, 2027"
    for label in ("Meeting details", "Attendees", "Decisions", "Action items", "Agenda"):
        assert label in email.html
        assert label in email.text
    assert "No date set" in email.html
    assert "Acuerdos" not in email.html
    for line in (
        "End time: 11:05 (approx., from the recording's length)",
        "Format: In person",
        "Place: Textiles Andinos offices, Lima",
        "Time: 10:00",
        "Format: Video call",
        "Purpose: Review the pilot.",
        "Minutes written automatically from the recording “Reunión Textiles Andinos.m4a”; "
        "pending review and approval.",
    ):
        assert f"{line}\n" in email.text
    assert ("Place", "Textiles Andinos offices, Lima") in kv_rows(email.html)
    assert ("Time", "10:00") in kv_rows(email.html)
    assert [name for name, _, _ in email.attachments] == [
        "minutes-2027-03-03-march-delivery-plan.docx",
        "transcript-2027-03-03-march-delivery-plan.txt",
    ]
    document = docx.Document(io.BytesIO(email.attachments[0][2]))
    assert document.tables[0].rows[1].cells[2].text == "No date set"
    assert "[00:01:23] Participant B: Empecemos por los retrasos." in (
        email.attachments[1][2].decode("utf-8")
    )


def test_other_languages_fall_back_to_english_labels_and_iso_dates() -> None:
    acta = sample_acta(language="pt", title="Plano de entregas")

    html = render_acta_html(acta, sample_facts())

    assert "Meeting details" in html
    assert "2027-03-03" in html


# --------------------------------------------------------------------------- transcript


def test_transcript_lines_and_header() -> None:
    utterances = [
        *UTTERANCES,
        Utterance(speaker="A", start_ms=3_725_000, end_ms=3_726_000, text="Hola\n[00:00:00] B: x"),
    ]

    text = render_transcript_txt(utterances, sample_facts(), "es")

    lines = text.splitlines()
    assert lines[0] == "Transcripción de la reunión: Reunión Textiles Andinos.m4a"
    assert "[00:00:00] Participante A: Buenos días a todos." in lines
    assert "[00:01:23] Participante B: Empecemos por los retrasos." in lines
    # A line break inside an utterance cannot forge another line of the transcript.
    assert "[01:02:05] Participante A: Hola [00:00:00] B: x" in lines


def test_transcript_without_utterances_says_so() -> None:
    text = render_transcript_txt([], sample_facts(), "es")

    assert "La transcripción no contiene intervenciones." in text


# --------------------------------------------------------------------------- the whole email


def test_acta_email_has_both_attachments_with_accented_names() -> None:
    acta = sample_acta(title="Revisión de campaña")

    email = render_acta_email(acta, sample_facts(), UTTERANCES)

    names = [(name, mime) for name, mime, _ in email.attachments]
    assert names == [
        ("acta-2027-03-03-revisión-de-campaña.docx", DOCX_MIME),
        ("transcripcion-2027-03-03-revisión-de-campaña.txt", "text/plain"),
    ]
    assert email.attachments[0][2].startswith(b"PK")  # a zip container: .docx
    # The transcript names the speaker the acta identified, label kept in brackets.
    assert "[00:00:00] Sra. Lucía Méndez [A]: Buenos días a todos." in (
        email.attachments[1][2].decode()
    )


def test_duration_formatting() -> None:
    assert format_duration(None) is None
    assert format_duration(45.4) == "45 s"
    assert format_duration(42 * 60 + 10) == "42 min"
    assert format_duration(3905) == "1 h 05 min"


# --------------------------------------------------------------------------- failure notices


@pytest.mark.parametrize(
    ("code", "headline"),
    [
        ("input_rejected", "No pudimos procesar el archivo"),
        ("not_audio", "El archivo no es una grabación de audio"),
        ("empty_file", "El archivo está vacío"),
        ("too_large", "El archivo es demasiado grande"),
        ("transcription_failed", "No pudimos transcribir la grabación"),
        ("no_speech", "No se encontró habla en la grabación"),
        ("generation_failed", "No pudimos redactar el acta"),
        ("something_else", "No pudimos generar el acta"),
    ],
)
def test_failure_email_says_what_happened_and_what_to_do(code: str, headline: str) -> None:
    email = render_failure_email(code, "AssemblyAI said: upstream error 42.", sample_facts())

    assert email.subject == f"{headline}: Reunión Textiles Andinos.m4a"
    assert headline in email.html
    assert headline in email.text
    assert "Qué puede hacer" in email.text
    # The stored (English, for support) message is shown only where the Spanish
    # explanation does not already say everything.
    self_explanatory = code in {"not_audio", "empty_file", "too_large", "no_speech"}
    assert ("upstream error 42" in email.text) is not self_explanatory
    assert "7b1e0c52-0000-4000-8000-000000000001" in email.text
    assert email.attachments == []
    # Never an acta.
    assert "Acuerdos" not in email.html
    assert "Tareas y responsables" not in email.html


def test_no_speech_notice_in_english() -> None:
    email = render_failure_email(
        "no_speech", "Nothing heard", sample_facts(original_filename="a.mp3"), "en"
    )

    assert email.subject == "No speech was found in the recording: a.mp3"
    assert "no minutes were produced" in email.text


def test_a_failure_detail_is_escaped() -> None:
    email = render_failure_email(
        "transcription_failed", f"Upstream said {SCRIPT}", sample_facts(), "en"
    )

    assert "Technical detail" in email.text
    assert "<script" not in email.html.lower()
    assert "&lt;script&gt;" in email.html


# --------------------------------------------------------------------------- import cost


def test_importing_rendering_and_email_does_not_load_jinja2_or_docx() -> None:
    code = (
        "import sys, voxcliente.render, voxcliente.adapters.ses\n"
        "loaded = sorted(m for m in ('jinja2', 'docx') if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "common")}
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == ""
