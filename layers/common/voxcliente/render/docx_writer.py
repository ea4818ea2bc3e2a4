"""The acta as an editable Word document (.docx), written with python-docx.

The standard's sections 1-10 in order (docs/acta-standard.md), with real Word
headings and a real table, so the document can be edited, filed and signed.
``docx`` is imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from voxcliente.acta.model import Acta
from voxcliente.locales import locale_or_none
from voxcliente.render.view import ActaView, MeetingFacts, build_view


def render_acta_docx(acta: Acta, facts: MeetingFacts, *, emulated: bool = False) -> bytes:
    """The acta as a .docx: Heading 1 title, Heading 2 per section, Heading 3 per topic.

    python-docx API (quickstart): ``Document.add_heading(text, level)``,
    ``add_table(rows, cols, style)``, ``add_paragraph(text, style)``.
    """
    import docx

    view = build_view(acta, facts, emulated=emulated)
    labels = view.labels
    document = docx.Document()
    writer = _DocxWriter(document)
    writer.setup(view)

    # 1. Title (+ the demonstration notice, + the model's short summary under it)
    document.add_heading(view.heading, level=1)
    if view.emulated_note:
        writer.notice(view.emulated_note)
    for paragraph in view.summary:
        document.add_paragraph(paragraph)
    # 2. Details
    document.add_heading(labels.details, level=2)
    for label, value in view.details:
        writer.labelled(label, value)
    # 3. Attendees  4. Agenda (bullets: "List Number" would continue into the decisions)
    writer.listing(labels.attendees, view.attendees, "List Bullet", labels.none_attendees)
    writer.listing(labels.agenda, view.agenda, "List Bullet", labels.none_agenda)
    # 5. Discussion
    document.add_heading(labels.discussion, level=2)
    for title, paragraphs in view.topics:
        if title:
            document.add_heading(title, level=3)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    if not view.topics:
        writer.muted(labels.none_agenda)
    # 6. Decisions, numbered
    writer.listing(labels.decisions, view.decisions, "List Number", labels.none_decisions)
    # 7. Action items: a real table
    writer.action_items(view)
    # 8. Open questions
    writer.listing(
        labels.open_questions, view.open_questions, "List Bullet", labels.none_open_questions
    )
    # 9. Next meeting
    document.add_heading(labels.next_meeting, level=2)
    for label, value in view.next_meeting:
        writer.labelled(label, value)
    if not view.next_meeting:
        writer.muted(labels.none_next_meeting)
    # 10. Closing line
    writer.closing(view)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


class _DocxWriter:
    """Small helpers over a python-docx ``Document`` (imported lazily by the caller)."""

    def __init__(self, document: Any) -> None:
        self.document = document

    def setup(self, view: ActaView) -> None:
        from docx.oxml.ns import qn

        # Spell-check language of the whole document (the default template says en-US).
        known = locale_or_none(view.lang)
        lang_tag = known.word_language_tag if known else view.lang
        lang_el = self.document.styles.element.find(f"{qn('w:docDefaults')}//{qn('w:lang')}")
        if lang_el is not None:
            lang_el.set(qn("w:val"), lang_tag)
        props = self.document.core_properties
        props.title = view.heading
        props.subject = view.labels.title
        props.author = "VoxCliente"
        props.language = lang_tag
        props.comments = view.closing
        props.created = datetime.now(UTC)

    def labelled(self, label: str, value: str) -> None:
        from docx.shared import Pt

        paragraph = self.document.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(2)
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(value)

    def muted(self, text: str) -> None:
        self.document.add_paragraph().add_run(text).italic = True

    def notice(self, text: str) -> None:
        run = self.document.add_paragraph().add_run(text)
        run.bold = True
        run.italic = True

    def listing(self, heading: str, items: list[str], style: str, when_empty: str) -> None:
        self.document.add_heading(heading, level=2)
        for item in items:
            self.document.add_paragraph(item, style=style)
        if not items:
            self.muted(when_empty)

    def action_items(self, view: ActaView) -> None:
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.oxml.ns import qn

        labels = view.labels
        self.document.add_heading(labels.action_items, level=2)
        if not view.action_items:
            self.muted(labels.none_action_items)
            return
        table = self.document.add_table(rows=1, cols=3, style="Table Grid")
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        header = (labels.task, labels.owner, labels.due_date)
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        # Repeat the header row on every page the table spans.
        tr_pr = table.rows[0]._tr.get_or_add_trPr()
        tr_pr.append(tr_pr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"}))
        for task, owner, due in view.action_items:
            cells = table.add_row().cells
            cells[0].text = task
            cells[1].text = owner or labels.no_owner
            cells[2].text = due or labels.no_date

    def closing(self, view: ActaView) -> None:
        from docx.shared import Pt, RGBColor

        grey = RGBColor(0x6B, 0x72, 0x80)
        self.document.add_paragraph()
        closing = self.document.add_paragraph().add_run(view.closing)
        closing.italic = True
        closing.font.size = Pt(9)
        closing.font.color.rgb = grey
        reference = self.document.add_paragraph().add_run(
            f"{view.labels.reference}: {view.reference}"
        )
        reference.font.size = Pt(8)
        reference.font.color.rgb = grey
