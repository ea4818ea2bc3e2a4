"""The acta as an editable Word document (.docx), written with python-docx.

The standard's sections 1-10 in their formal order (docs/acta-standard.md;
``view.FORMAL_ORDER``), with real Word headings and a real table, on A4 with a
running header (client, date) and "Página X de Y" in the footer, and an
approval block to sign: the document is filed and signed, so it keeps the
standard's order (the email puts what people look for first).
``docx`` is imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import io
import string
from datetime import UTC, datetime
from typing import Any

from voxcliente.acta.model import Acta
from voxcliente.locales import locale_or_none
from voxcliente.render.view import FORMAL_ORDER, ActaView, MeetingFacts, build_view

# A4 in twentieths of a point, as Word itself writes it (210 x 297 mm); python-docx's
# default template is US Letter. Margins: 2.5 cm top and bottom, 3 cm at the sides.
_A4_TWIPS = (11906, 16838)
_MARGINS_CM = {"top": 2.5, "bottom": 2.5, "left": 3.0, "right": 3.0}
_STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
# What the footer's fields show until Word (or LibreOffice) lays the pages out.
_FIELDS = {"page": "PAGE", "pages": "NUMPAGES"}


def render_acta_docx(acta: Acta, facts: MeetingFacts, *, emulated: bool = False) -> bytes:
    """The acta as a .docx: Heading 1 title, Heading 2 per section, Heading 3 per topic.

    python-docx API (quickstart): ``Document.add_heading(text, level)``,
    ``add_table(rows, cols, style)``, ``add_paragraph(text, style)``.
    """
    import docx

    view = build_view(acta, facts, emulated=emulated)
    document = docx.Document()
    writer = _DocxWriter(document, view)
    writer.setup()
    writer.page()

    # 1. Title (+ the demonstration notice, + the model's short summary under it)
    writer.heading(view.heading, 1)
    if view.emulated_note:
        writer.notice(view.emulated_note)
    for paragraph in view.summary:
        document.add_paragraph(paragraph)
    # 2.-9. The sections, in the standard's order
    for section in FORMAL_ORDER:
        getattr(writer, section)()
    # 10. Closing line and approval block
    writer.closing()

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


class _DocxWriter:
    """The document's parts over a python-docx ``Document`` (imported lazily by the caller).

    One method per section of ``FORMAL_ORDER``, named like it.
    """

    def __init__(self, document: Any, view: ActaView) -> None:
        self.document = document
        self.view = view
        self.labels = view.labels
        self._style_ids: dict[str, str | None] = {}

    def styled(self, text: str, style: str) -> Any:
        """``document.add_paragraph(text, style=style)``, the style's id looked up once.

        python-docx resolves a style name on every paragraph, and each time walks
        all the template's styles (some 160) for the default one: 90 headings and
        list items took a third of the document's time. The id is what its
        ``Paragraph.style`` setter writes (``w:pStyle``), from the same lookup.
        """
        from docx.enum.style import WD_STYLE_TYPE

        if style not in self._style_ids:
            styles = self.document.styles
            self._style_ids[style] = styles.get_style_id(style, WD_STYLE_TYPE.PARAGRAPH)
        paragraph = self.document.add_paragraph(text)
        paragraph._p.style = self._style_ids[style]
        return paragraph

    def heading(self, text: str, level: int) -> Any:
        """``document.add_heading(text, level)`` (its style is "Heading {level}")."""
        return self.styled(text, f"Heading {level}")

    def setup(self) -> None:
        from docx.oxml.ns import qn

        view = self.view
        # Spell-check language of the whole document (the default template says en-US).
        known = locale_or_none(view.lang)
        lang_tag = known.word_language_tag if known else view.lang
        lang_el = self.document.styles.element.find(f"{qn('w:docDefaults')}//{qn('w:lang')}")
        if lang_el is not None:
            lang_el.set(qn("w:val"), lang_tag)
        props = self.document.core_properties
        props.title = view.heading
        props.subject = self.labels.title
        props.author = "VoxCliente"
        props.language = lang_tag
        props.comments = view.closing
        props.created = datetime.now(UTC)
        # python-docx's template carries Word 2010's copy of its styles "with
        # effects" (438 kB of XML no later Word, nor LibreOffice, reads; Word 2010
        # uses styles.xml without it). Compressing it was a third of saving the
        # document, and it was 14 of the attachment's 36 kB.
        part = self.document.part
        for rel_id, rel in list(part.rels.items()):
            if rel.reltype == _STYLES_WITH_EFFECTS:
                part.drop_rel(rel_id)

    def page(self) -> None:
        """A4, margins, the running header (client, date) and "Página X de Y" below."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm, Twips

        section = self.document.sections[0]
        section.page_width, section.page_height = (Twips(value) for value in _A4_TWIPS)
        for side, cm in _MARGINS_CM.items():
            setattr(section, f"{side}_margin", Cm(cm))

        header = section.header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        self._small(header.add_run(self.view.running_head))

        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        # "Página {page} de {pages}": the words as runs, each placeholder a field
        # Word computes when it lays out the pages.
        for literal, name, _, _ in string.Formatter().parse(self.labels.page_of):
            if literal:
                self._small(footer.add_run(literal))
            if name:
                self._field(footer, _FIELDS[name])

    def _field(self, paragraph: Any, instruction: str) -> None:
        """A simple field (ECMA-376 Part 1, 17.16.19 ``w:fldSimple``) such as PAGE.

        python-docx has no field API (python-openxml/python-docx#1297), so the
        element is written directly; "1" is the value shown until Word updates it.
        """
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.text.run import Run

        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), f" {instruction} ")
        paragraph._p.append(field)
        run = Run(OxmlElement("w:r"), paragraph)
        run.text = "1"
        self._small(run)
        field.append(run._r)

    @staticmethod
    def _small(run: Any) -> None:
        from docx.shared import Pt, RGBColor

        run.font.size = Pt(9)
        run.font.color.rgb = RGBColor(0x6B, 0x72, 0x80)

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
        self.heading(heading, 2)
        for item in items:
            self.styled(item, style)
        if not items:
            self.muted(when_empty)

    # --- the sections, each under its Heading 2

    def details(self) -> None:
        self.heading(self.labels.details, 2)
        for label, value in self.view.details:
            self.labelled(label, value)

    def attendees(self) -> None:
        self.listing(
            self.labels.attendees, self.view.attendees, "List Bullet", self.labels.none_attendees
        )

    def agenda(self) -> None:
        # Bullets: "List Number" would continue its numbering into the decisions.
        self.listing(self.labels.agenda, self.view.agenda, "List Bullet", self.labels.none_agenda)

    def discussion(self) -> None:
        self.heading(self.labels.discussion, 2)
        for title, paragraphs in self.view.topics:
            if title:
                self.heading(title, 3)
            for paragraph in paragraphs:
                self.document.add_paragraph(paragraph)
        if not self.view.topics:
            self.muted(self.labels.none_agenda)

    def decisions(self) -> None:
        self.listing(
            self.labels.decisions, self.view.decisions, "List Number", self.labels.none_decisions
        )

    def action_items(self) -> None:
        """A real table, its header row repeated on every page it spans."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.oxml.ns import qn

        labels = self.labels
        self.heading(labels.action_items, 2)
        if not self.view.action_items:
            self.muted(labels.none_action_items)
            return
        table = self.document.add_table(rows=1, cols=3, style="Table Grid")
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        header = (labels.task, labels.owner, labels.due_date)
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        tr_pr = table.rows[0]._tr.get_or_add_trPr()
        tr_pr.append(tr_pr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"}))
        for task, owner, due in self.view.action_items:
            cells = table.add_row().cells
            cells[0].text = task
            cells[1].text = owner or labels.no_owner
            cells[2].text = due or labels.no_date

    def open_questions(self) -> None:
        self.listing(
            self.labels.open_questions,
            self.view.open_questions,
            "List Bullet",
            self.labels.none_open_questions,
        )

    def next_meeting(self) -> None:
        self.heading(self.labels.next_meeting, 2)
        for label, value in self.view.next_meeting:
            self.labelled(label, value)
        if not self.view.next_meeting:
            self.muted(self.labels.none_next_meeting)

    def closing(self) -> None:
        """The closing sentence, the approval block to sign, and the reference."""
        from docx.shared import Pt

        self.document.add_paragraph()
        closing = self.document.add_paragraph().add_run(self.view.closing)
        closing.italic = True
        self._small(closing)

        blank = "______________"
        approval = self.document.add_paragraph()
        approval.paragraph_format.space_before = Pt(18)
        approval.add_run(f"{self.labels.approved_by}: ").bold = True
        approval.add_run(f"{blank}  ")
        approval.add_run(f"{self.labels.approval_date}: ").bold = True
        approval.add_run(blank)

        reference = self.document.add_paragraph().add_run(
            f"{self.labels.reference}: {self.view.reference}"
        )
        self._small(reference)
        reference.font.size = Pt(8)
