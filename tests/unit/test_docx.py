"""The .docx as a person opens it: A4, a running header, "Página X de Y", an approval block.

Each test writes the document and reads it back with python-docx (and, for
the footer's fields, its XML), as Word would find it.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import docx
import pytest
from docx.document import Document
from docx.oxml.ns import qn

from voxcliente.acta.model import Acta
from voxcliente.render import MeetingFacts, render_acta_docx

BLANK = "______________"


def acta(**overrides: Any) -> Acta:
    data: dict[str, Any] = {
        "language": "es",
        "meeting_date": None,
        "start_time": "10:00",
        "end_time": None,
        "modality": "Presencial",
        "place": "Oficinas de Textiles Andinos, Lima",
        "client": "Textiles Andinos",
        "participants": [
            {
                "speaker_label": "A",
                "name": "Laura Méndez",
                "role": "Responsable de compras",
                "organization": "Textiles Andinos",
            }
        ],
        "topics": [{"title": "Plan de entregas", "summary": "Se revisó el calendario."}],
        "decisions": ["Se acuerda consolidar los envíos en dos entregas semanales."],
        "action_items": [
            {"task": "Enviar el calendario.", "owner": "Laura Méndez", "due_date": None}
        ],
        "open_questions": [],
        "next_meeting": {
            "date": "el jueves 12",
            "time": "10:00",
            "modality": "Videollamada",
            "purpose": "Revisar el piloto.",
        },
        "title": "Plan de entregas de marzo",
        "summary": "Se revisó el plan de entregas de marzo.",
    }
    data.update(overrides)
    return Acta.model_validate(data)


def facts(**overrides: Any) -> MeetingFacts:
    values: dict[str, Any] = {
        "meeting_id": "7b1e0c52-0000-4000-8000-000000000002",
        "original_filename": "entregas.m4a",
        "client_name": None,
        "meeting_date": date(2027, 2, 24),
        "audio_duration_s": 3905.0,
        "recipient": "laura@example.com",
    }
    values.update(overrides)
    return MeetingFacts(**values)


def written(the_acta: Acta | None = None, the_facts: MeetingFacts | None = None) -> Document:
    data = render_acta_docx(the_acta or acta(), the_facts or facts())
    return docx.Document(io.BytesIO(data))


def footer_parts(document: Document) -> list[str]:
    """The footer's words and fields in order: literal text, fields as ``{PAGE}``."""
    parts: list[str] = []
    for element in document.sections[0].footer._element.iter():
        if element.tag == qn("w:fldSimple"):
            parts.append("{" + element.get(qn("w:instr")).strip() + "}")
        elif element.tag == qn("w:t") and element.getparent().getparent().tag != qn("w:fldSimple"):
            parts.append(element.text or "")
    return parts


def labelled_after(document: Document, heading: str) -> list[str]:
    """The paragraphs under a Heading 2, up to the next heading."""
    texts: list[str] = []
    found = False
    for paragraph in document.paragraphs:
        is_heading = paragraph.style is not None and paragraph.style.name.startswith("Heading")
        if found and is_heading:
            break
        if found:
            texts.append(paragraph.text)
        found = found or (is_heading and paragraph.text == heading)
    return texts


# --------------------------------------------------------------------------- the page


def test_the_page_is_a4_portrait_with_margins() -> None:
    section = written().sections[0]

    # Word's own A4: 11906 x 16838 twentieths of a point (210 x 297 mm).
    assert section.page_width is not None and section.page_height is not None
    assert abs(section.page_width.twips - 11906) <= 1
    assert abs(section.page_height.twips - 16838) <= 1
    assert section.page_width < section.page_height
    margins = (section.top_margin, section.bottom_margin, section.left_margin)
    assert [round(m.cm, 1) for m in margins if m is not None] == [2.5, 2.5, 3.0]


def test_every_page_has_a_header_with_the_client_and_the_date() -> None:
    document = written()

    [section] = document.sections
    # One section, no separate first-page header: the same header on every page.
    assert not section.different_first_page_header_footer
    assert not section.header.is_linked_to_previous
    assert [p.text for p in section.header.paragraphs] == [
        "Textiles Andinos · 24 de febrero de 2027"
    ]


@pytest.mark.parametrize(
    ("overrides", "fact_overrides", "header"),
    [
        # the client the code knows wins over the one the model heard
        ({}, {"client_name": "Grupo Andino"}, "Grupo Andino · 24 de febrero de 2027"),
        # the date the model heard, when the code knows none
        ({"meeting_date": "3 de marzo"}, {"meeting_date": None}, "Textiles Andinos · 3 de marzo"),
        ({"client": None}, {}, "24 de febrero de 2027"),
        # nothing known: the acta's title
        (
            {"client": None},
            {"meeting_date": None},
            "Acta de reunión: Plan de entregas de marzo",
        ),
    ],
)
def test_the_header_shows_whatever_is_known(
    overrides: dict[str, Any], fact_overrides: dict[str, Any], header: str
) -> None:
    document = written(acta(**overrides), facts(**fact_overrides))

    assert document.sections[0].header.paragraphs[0].text == header


def test_the_footer_numbers_pages_with_word_fields() -> None:
    document = written()

    footer_xml = document.sections[0].footer._element.xml
    assert 'w:instr=" PAGE "' in footer_xml
    assert 'w:instr=" NUMPAGES "' in footer_xml
    assert footer_parts(document) == ["Página ", "{PAGE}", " de ", "{NUMPAGES}"]


# --------------------------------------------------------------------------- the content


def test_details_show_place_and_modality_apart_and_the_computed_end() -> None:
    body = labelled_after(written(), "Datos de la reunión")

    assert body == [
        "Fecha: 24 de febrero de 2027",
        "Hora de inicio: 10:00",
        "Hora de fin: 11:05 (aprox., según la duración de la grabación)",
        "Modalidad: Presencial",
        "Lugar: Oficinas de Textiles Andinos, Lima",
        "Cliente: Textiles Andinos",
        "Duración: 1 h 05 min",
        "Grabación: entregas.m4a",
    ]


def test_a_stated_end_time_is_written_as_stated() -> None:
    body = labelled_after(written(acta(end_time="11:40")), "Datos de la reunión")

    assert "Hora de fin: 11:40" in body


def test_the_next_meeting_has_its_own_rows() -> None:
    body = labelled_after(written(), "Próxima reunión")

    assert body[:4] == [
        "Fecha: el jueves 12",
        "Hora: 10:00",
        "Modalidad: Videollamada",
        "Objetivo: Revisar el piloto.",
    ]


def test_the_closing_is_followed_by_the_approval_block_to_sign() -> None:
    paragraphs = [p.text for p in written().paragraphs]

    closing = paragraphs.index(
        "Acta redactada automáticamente a partir de la grabación «entregas.m4a»; "
        "pendiente de revisión y aprobación."
    )
    approval = paragraphs.index(f"Revisado y aprobado por: {BLANK}  Fecha: {BLANK}")
    assert closing < approval
    assert paragraphs[-1] == "Referencia: 7b1e0c52-0000-4000-8000-000000000002"


def test_an_english_docx_has_english_page_numbers_header_and_approval() -> None:
    document = written(acta(language="en", client="Andean Textiles"))

    assert footer_parts(document) == ["Page ", "{PAGE}", " of ", "{NUMPAGES}"]
    assert document.sections[0].header.paragraphs[0].text == "Andean Textiles · February 24, 2027"
    paragraphs = [p.text for p in document.paragraphs]
    assert f"Reviewed and approved by: {BLANK}  Date: {BLANK}" in paragraphs
    assert "End time: 11:05 (approx., from the recording's length)" in paragraphs
    assert "Place: Oficinas de Textiles Andinos, Lima" in paragraphs
    assert "Time: 10:00" in paragraphs
    assert not any("Página" in text or "aprobado" in text for text in paragraphs)
