"""Render an acta (and a failure notice) for people: HTML, plain text, .docx, transcript.

What each output holds follows ACTA.md. The email shows what people look for
first (details, attendees, decisions, action items) and then the agenda and
the discussion; the .docx keeps ACTA.md's section order 1-10 with real Word
headings and a real table, so it can be edited and signed.

Languages. Labels, month names and the failure wording exist for ``es`` and
``en``; any other language falls back to the English labels (the acta's own
text stays in its language) and dates are written as ISO 8601
(``2027-03-03``), which no reader misreads.

Import cost. ``jinja2`` and ``docx`` are imported inside the functions that
use them, so importing this module (for :class:`RenderedEmail`, say) stays
cheap; only the function that renders pays for them.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxcliente.acta.model import Acta
from voxcliente.dates import format_date, format_duration, format_timestamp
from voxcliente.domain.error_codes import SELF_EXPLANATORY_CODES
from voxcliente.domain.models import Utterance
from voxcliente.text import one_line

if TYPE_CHECKING:
    import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT_MIME = "text/plain"

LABELS: dict[str, dict[str, str]] = {
    "es": {
        "title": "Acta de reunión",
        "summary": "Resumen",
        "details": "Datos de la reunión",
        "date": "Fecha",
        "start_time": "Hora de inicio",
        "end_time": "Hora de fin",
        "modality": "Modalidad",
        "client": "Cliente",
        "duration": "Duración",
        "recording": "Grabación",
        "attendees": "Asistentes",
        "agenda": "Orden del día",
        "discussion": "Desarrollo",
        "decisions": "Acuerdos",
        "action_items": "Tareas y responsables",
        "task": "Tarea",
        "owner": "Responsable",
        "due_date": "Fecha límite",
        "no_date": "Sin fecha definida",
        "no_owner": "Sin responsable definido",
        "open_questions": "Temas pendientes",
        "next_meeting": "Próxima reunión",
        "purpose": "Objetivo",
        "date_unknown": "Fecha no precisada",
        "none_attendees": "No se identificaron asistentes en la grabación.",
        "none_agenda": "No se identificaron temas.",
        "none_decisions": "No se registraron acuerdos.",
        "none_action_items": "No se asignaron tareas.",
        "none_open_questions": "No quedaron temas pendientes.",
        "none_next_meeting": "No se acordó una próxima reunión.",
        "closing": (
            "Esta acta se generó automáticamente a partir de la grabación «{filename}». "
            "Revísela antes de compartirla."
        ),
        "attachments_note": (
            "Se adjuntan una copia editable del acta en Word y la transcripción completa."
        ),
        "reference": "Referencia",
        "transcript_title": "Transcripción de la reunión",
        "transcript_note": "Transcripción automática: puede contener errores.",
        "participant": "Participante",
        "no_utterances": "La transcripción no contiene intervenciones.",
        "acta_file": "acta",
        "transcript_file": "transcripcion",
        "default_title": "reunión",
        "what_happened": "Qué ocurrió",
        "what_to_do": "Qué puede hacer",
        "detail": "Detalle técnico",
        "automatic_notice": "Este mensaje se envió automáticamente.",
        "failure_kicker": "Aviso sobre su grabación",
    },
    "en": {
        "title": "Meeting minutes",
        "summary": "Summary",
        "details": "Meeting details",
        "date": "Date",
        "start_time": "Start time",
        "end_time": "End time",
        "modality": "Format",
        "client": "Client",
        "duration": "Duration",
        "recording": "Recording",
        "attendees": "Attendees",
        "agenda": "Agenda",
        "discussion": "Discussion",
        "decisions": "Decisions",
        "action_items": "Action items",
        "task": "Task",
        "owner": "Owner",
        "due_date": "Due date",
        "no_date": "No date set",
        "no_owner": "No owner set",
        "open_questions": "Open questions",
        "next_meeting": "Next meeting",
        "purpose": "Purpose",
        "date_unknown": "Date not stated",
        "none_attendees": "No attendees could be identified in the recording.",
        "none_agenda": "No topics were identified.",
        "none_decisions": "No decisions were recorded.",
        "none_action_items": "No action items were assigned.",
        "none_open_questions": "No open questions remained.",
        "none_next_meeting": "No next meeting was agreed.",
        "closing": (
            "These minutes were generated automatically from the recording “{filename}”. "
            "Please review them before sharing."
        ),
        "attachments_note": "An editable Word copy of the minutes and the full transcript "
        "are attached.",
        "reference": "Reference",
        "transcript_title": "Meeting transcript",
        "transcript_note": "Automatic transcript: it may contain errors.",
        "participant": "Participant",
        "no_utterances": "The transcript contains no speech.",
        "acta_file": "minutes",
        "transcript_file": "transcript",
        "default_title": "meeting",
        "what_happened": "What happened",
        "what_to_do": "What you can do",
        "detail": "Technical detail",
        "automatic_notice": "This message was sent automatically.",
        "failure_kicker": "About your recording",
    },
}

# Failure notices: (headline, what happened, what to do). "{filename}" is the
# recording's name. The headline is also the subject.
# Which codes' sentence says it all: voxcliente.domain.error_codes (one registry).
_SELF_EXPLANATORY = SELF_EXPLANATORY_CODES

_FAILURES: dict[str, dict[str, tuple[str, str, str]]] = {
    "es": {
        "input_rejected": (
            "No pudimos procesar el archivo",
            "El archivo «{filename}» no se pudo convertir en un acta.",
            "Compruebe que es la grabación correcta y vuelva a subirla. Si el problema "
            "continúa, contacte con soporte indicando la referencia de este mensaje.",
        ),
        "not_audio": (
            "El archivo no es una grabación de audio",
            "El archivo «{filename}» no parece contener audio ni video.",
            "Suba la grabación en un formato de audio o video habitual (por ejemplo MP3, "
            "M4A, WAV o MP4).",
        ),
        "empty_file": (
            "El archivo está vacío",
            "El archivo «{filename}» no contiene datos.",
            "Compruebe que la grabación se guardó por completo y vuelva a subirla.",
        ),
        "too_large": (
            "El archivo es demasiado grande",
            "El archivo «{filename}» supera el tamaño máximo que podemos procesar.",
            "Divida la grabación en partes más cortas o expórtela en un formato comprimido "
            "(por ejemplo MP3) y vuelva a subirla.",
        ),
        "email_invalid": (
            "La dirección indicada no puede recibir el acta",
            "La dirección de correo indicada junto con el archivo «{filename}» no es una "
            "a la que podamos enviar el acta, por lo que no se ha procesado.",
            "Vuelva a enviar el archivo indicando una dirección válida (sin acentos ni "
            "caracteres especiales antes de la @).",
        ),
        "file_missing": (
            "El archivo ya no estaba disponible",
            "El archivo «{filename}» se borró o dejó de estar disponible antes de que "
            "pudiéramos procesarlo.",
            "Vuelva a subir la grabación y no la borre hasta recibir el acta.",
        ),
        "language_unsupported": (
            "El idioma indicado no se puede transcribir",
            "El idioma indicado junto con el archivo «{filename}» no es uno de los que "
            "el servicio de transcripción admite.",
            "Vuelva a enviar el archivo con un código de idioma como «es», «es-MX» o "
            "«en-GB», o sin idioma para que se detecte automáticamente.",
        ),
        "transcription_failed": (
            "No pudimos transcribir la grabación",
            "El servicio de transcripción no pudo procesar la grabación «{filename}».",
            "Compruebe que el archivo se reproduce correctamente y vuelva a subirlo. Si el "
            "problema continúa, contacte con soporte indicando la referencia de este mensaje.",
        ),
        "no_speech": (
            "No se encontró habla en la grabación",
            "La grabación «{filename}» no contiene una conversación que se pueda transcribir, "
            "por lo que no se ha generado ningún acta.",
            "Compruebe que el micrófono estaba activo y que subió el archivo correcto, y "
            "vuelva a subirlo.",
        ),
        "generation_failed": (
            "No pudimos redactar el acta",
            "La grabación «{filename}» se transcribió, pero no fue posible redactar el acta "
            "a partir de la transcripción.",
            "Vuelva a subir la grabación más tarde. Si el problema continúa, contacte con "
            "soporte indicando la referencia de este mensaje.",
        ),
        "email_outcome_unknown": (
            "Puede que no haya recibido el acta",
            "Preparamos el acta de la grabación «{filename}», pero no podemos confirmar que "
            "se le haya enviado.",
            "Si no la encuentra en su bandeja de entrada ni en la carpeta de correo no "
            "deseado, contacte con soporte indicando la referencia de este mensaje y se la "
            "enviaremos de nuevo.",
        ),
        "ses_rejected": (
            "No pudimos enviarle el acta",
            "El acta de la grabación «{filename}» se redactó, pero el servicio de correo no "
            "aceptó el mensaje.",
            "Contacte con soporte indicando la referencia de este mensaje.",
        ),
        "default": (
            "No pudimos generar el acta",
            "Ocurrió un error inesperado al procesar la grabación «{filename}».",
            "Vuelva a intentarlo más tarde. Si el problema continúa, contacte con soporte "
            "indicando la referencia de este mensaje.",
        ),
    },
    "en": {
        "input_rejected": (
            "We could not process the file",
            "The file “{filename}” could not be turned into minutes.",
            "Check that it is the right recording and upload it again. If the problem "
            "persists, contact support quoting the reference of this message.",
        ),
        "not_audio": (
            "The file is not an audio recording",
            "The file “{filename}” does not seem to contain audio or video.",
            "Upload the recording in a common audio or video format (for example MP3, M4A, "
            "WAV or MP4).",
        ),
        "empty_file": (
            "The file is empty",
            "The file “{filename}” contains no data.",
            "Check that the recording was saved completely and upload it again.",
        ),
        "too_large": (
            "The file is too large",
            "The file “{filename}” exceeds the largest size we can process.",
            "Split the recording into shorter parts or export it in a compressed format "
            "(for example MP3) and upload it again.",
        ),
        "email_invalid": (
            "The address given cannot receive the minutes",
            "The email address given with the file “{filename}” is not one we can send the "
            "minutes to, so the file was not processed.",
            "Send the file again with a valid address (no accents or special characters "
            "before the @).",
        ),
        "file_missing": (
            "The file was no longer available",
            "The file “{filename}” was deleted or became unavailable before we could process it.",
            "Upload the recording again and keep it until the minutes arrive.",
        ),
        "language_unsupported": (
            "The language given cannot be transcribed",
            "The language given with the file “{filename}” is not one the transcription "
            "service supports.",
            "Send the file again with a language code such as “es”, “es-MX” or “en-GB”, "
            "or without a language to have it detected.",
        ),
        "transcription_failed": (
            "We could not transcribe the recording",
            "The transcription service could not process the recording “{filename}”.",
            "Check that the file plays correctly and upload it again. If the problem "
            "persists, contact support quoting the reference of this message.",
        ),
        "no_speech": (
            "No speech was found in the recording",
            "The recording “{filename}” contains no conversation that could be transcribed, "
            "so no minutes were produced.",
            "Check that the microphone was on and that you uploaded the right file, then "
            "upload it again.",
        ),
        "generation_failed": (
            "We could not write the minutes",
            "The recording “{filename}” was transcribed, but the minutes could not be written "
            "from the transcript.",
            "Upload the recording again later. If the problem persists, contact support "
            "quoting the reference of this message.",
        ),
        "email_outcome_unknown": (
            "You may not have received the minutes",
            "We prepared the minutes of the recording “{filename}”, but cannot confirm that "
            "they were sent to you.",
            "If you cannot find them in your inbox or spam folder, contact support quoting "
            "the reference of this message and we will send them again.",
        ),
        "ses_rejected": (
            "We could not send you the minutes",
            "The minutes of the recording “{filename}” were written, but the email service "
            "did not accept the message.",
            "Contact support quoting the reference of this message.",
        ),
        "default": (
            "We could not produce the minutes",
            "Something unexpected went wrong while processing the recording “{filename}”.",
            "Try again later. If the problem persists, contact support quoting the reference "
            "of this message.",
        ),
    },
}

_WORD_LANGUAGE_TAGS = {"es": "es-ES", "en": "en-US"}
_MAX_TITLE_CHARS = 150
_MAX_SLUG_CHARS = 60
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}$")
_TITLE_PREFIX_RE = re.compile(
    r"^\s*(acta\s+de\s+(la\s+)?reuni[oó]n|acta|meeting\s+minutes|minutes)\s*[:\-\u2014\u2013]\s*",
    re.IGNORECASE,
)


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


# --------------------------------------------------------------------------- helpers


def language_code(language: str | None) -> str:
    """``"es-MX"`` -> ``"es"``; anything unusable -> ``"es"`` (the product's default)."""
    code = (language or "").strip().replace("_", "-").split("-")[0].lower()
    return code if _LANG_RE.match(code) else "es"


def labels_for(language: str | None) -> dict[str, str]:
    """The labels of a language; languages without their own fall back to English."""
    return LABELS.get(language_code(language), LABELS["en"])


def _paragraphs(text: str | None) -> list[str]:
    """Model text split on line breaks into non-empty, single-line paragraphs."""
    if not text:
        return []
    return [line for line in (one_line(part) for part in text.splitlines()) if line]


def _clean_title(acta: Acta, facts: MeetingFacts) -> str:
    title = _TITLE_PREFIX_RE.sub("", one_line(acta.title))
    if not title:
        title = (
            one_line(Path(facts.original_filename).stem)
            or labels_for(acta.language)["default_title"]
        )
    if len(title) > _MAX_TITLE_CHARS:
        title = title[: _MAX_TITLE_CHARS - 1].rstrip() + "…"
    return title


def slugify(text: str, fallback: str = "reunion") -> str:
    """A file-name-safe slug that keeps accented letters (RFC 2231 carries them)."""
    normalized = unicodedata.normalize("NFC", text).lower()
    slug = "".join(ch if ch.isalnum() else "-" for ch in normalized)
    slug = re.sub(r"-{2,}", "-", slug).strip("-")[:_MAX_SLUG_CHARS].rstrip("-")
    return slug or fallback


def _meeting_date_text(acta: Acta, facts: MeetingFacts) -> str | None:
    """The date the code knows, else the one the model heard, else None."""
    if facts.meeting_date is not None:
        return format_date(facts.meeting_date, acta.language)
    stated = one_line(acta.meeting_date)
    return stated or None


# --------------------------------------------------------------------------- the acta, as data


@dataclass(frozen=True)
class _ActaView:
    """Everything the three renderings show, already cleaned and labelled."""

    lang: str
    labels: dict[str, str]
    kicker: str
    heading: str
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


def _view(acta: Acta, facts: MeetingFacts) -> _ActaView:
    labels = labels_for(acta.language)
    lang = language_code(acta.language)

    details: list[tuple[str, str]] = [
        (labels["date"], _meeting_date_text(acta, facts) or labels["date_unknown"])
    ]
    for key, value in (
        ("start_time", acta.start_time),
        ("end_time", acta.end_time),
        ("modality", acta.modality),
        ("client", facts.client_name or acta.client),
        ("duration", format_duration(facts.audio_duration_s)),
        ("recording", facts.original_filename),
    ):
        if one_line(value):
            details.append((labels[key], one_line(value)))

    attendees = []
    for person in acta.participants:
        extra = ", ".join(one_line(x) for x in (person.role, person.organization) if one_line(x))
        name = one_line(person.name) or (
            f"{labels['participant']} {one_line(person.speaker_label)}".strip()
        )
        attendees.append(f"{name} ({extra})" if extra else name)

    next_meeting: list[tuple[str, str]] = []
    if acta.next_meeting is not None and (acta.next_meeting.date or acta.next_meeting.purpose):
        next_meeting.append((labels["date"], one_line(acta.next_meeting.date) or labels["no_date"]))
        if one_line(acta.next_meeting.purpose):
            next_meeting.append((labels["purpose"], one_line(acta.next_meeting.purpose)))

    kicker_parts = [one_line(facts.client_name or acta.client), _meeting_date_text(acta, facts)]
    return _ActaView(
        lang=lang,
        labels=labels,
        kicker=" · ".join(part for part in kicker_parts if part) or "VoxCliente",
        heading=f"{labels['title']}: {_clean_title(acta, facts)}",
        summary=_paragraphs(acta.summary),
        details=details,
        attendees=[a for a in attendees if a],
        agenda=[x for x in (one_line(item) for item in acta.agenda) if x],
        topics=[
            (one_line(topic.title), _paragraphs(topic.summary))
            for topic in acta.topics
            if one_line(topic.title) or one_line(topic.summary)
        ],
        decisions=[x for x in (one_line(item) for item in acta.decisions) if x],
        action_items=[
            (one_line(item.task), one_line(item.owner) or None, one_line(item.due_date) or None)
            for item in acta.action_items
            if one_line(item.task)
        ],
        open_questions=[x for x in (one_line(item) for item in acta.open_questions) if x],
        next_meeting=next_meeting,
        closing=labels["closing"].format(filename=one_line(facts.original_filename)),
        reference=facts.meeting_id,
    )


# --------------------------------------------------------------------------- public API


def acta_subject(acta: Acta, facts: MeetingFacts) -> str:
    """``Acta de reunión: <title> — 3 de marzo de 2027`` (no date part when none is known).

    The date is the one the code knows; failing that, the one the model wrote,
    but only when it looks like a date (has a digit) rather than "no precisada".
    """
    labels = labels_for(acta.language)
    subject = f"{labels['title']}: {_clean_title(acta, facts)}"
    when = _meeting_date_text(acta, facts)
    if when and any(ch.isdigit() for ch in when):
        subject += f" — {when}"
    return subject


def render_acta_html(acta: Acta, facts: MeetingFacts) -> str:
    """The acta as an email body: table layout, inline styles, everything escaped."""
    view = _view(acta, facts)
    template = _jinja_env().get_template("acta.html")
    return template.render(
        v=view,
        L=view.labels,
        lang=view.lang,
        subject=acta_subject(acta, facts),
        preheader=" ".join(view.summary)[:200],
    )


def render_acta_text(acta: Acta, facts: MeetingFacts) -> str:
    """The plain-text alternative: the same content, in the email's order."""
    view = _view(acta, facts)
    labels = view.labels
    out: list[str] = [view.heading, "=" * min(len(view.heading), 78), ""]
    if view.summary:
        out += [*view.summary, ""]

    def section(title: str) -> None:
        out.extend([title, "-" * len(title)])

    section(labels["details"])
    out += [f"{label}: {value}" for label, value in view.details]
    out.append("")

    section(labels["attendees"])
    out += [f"- {a}" for a in view.attendees] or [labels["none_attendees"]]
    out.append("")

    section(labels["decisions"])
    out += [f"{i}. {d}" for i, d in enumerate(view.decisions, 1)] or [labels["none_decisions"]]
    out.append("")

    section(labels["action_items"])
    if not view.action_items:
        out.append(labels["none_action_items"])
    for i, (task, owner, due) in enumerate(view.action_items, 1):
        out += [
            f"{i}. {labels['task']}: {task}",
            f"   {labels['owner']}: {owner or labels['no_owner']}",
            f"   {labels['due_date']}: {due or labels['no_date']}",
        ]
    out.append("")

    section(labels["agenda"])
    out += [f"{i}. {a}" for i, a in enumerate(view.agenda, 1)] or [labels["none_agenda"]]
    out.append("")

    if view.topics:
        section(labels["discussion"])
        for title, paragraphs in view.topics:
            if title:
                out.append(f"* {title}")
            out += paragraphs
            out.append("")

    section(labels["open_questions"])
    out += [f"- {q}" for q in view.open_questions] or [labels["none_open_questions"]]
    out.append("")

    section(labels["next_meeting"])
    out += [f"{k}: {v}" for k, v in view.next_meeting] or [labels["none_next_meeting"]]
    out.append("")

    out += [
        "--",
        view.closing,
        labels["attachments_note"],
        f"{labels['reference']}: {view.reference}",
    ]
    return "\n".join(out) + "\n"


def render_acta_docx(acta: Acta, facts: MeetingFacts) -> bytes:
    """The acta as an editable Word document, ACTA.md sections 1-10 in order.

    Heading 1 for the title, Heading 2 per section, Heading 3 per discussion
    topic, a ``Table Grid`` table for the action items. python-docx API:
    ``Document.add_heading(text, level)``, ``add_table(rows, cols, style)``,
    ``add_paragraph(text, style)`` (python-docx quickstart).
    """
    import docx

    view = _view(acta, facts)
    labels = view.labels
    document = docx.Document()
    writer = _DocxWriter(document)
    writer.setup(view)

    # 1. Title (+ the model's short summary under it)
    document.add_heading(view.heading, level=1)
    for paragraph in view.summary:
        document.add_paragraph(paragraph)
    # 2. Details
    document.add_heading(labels["details"], level=2)
    for label, value in view.details:
        writer.labelled(label, value)
    # 3. Attendees  4. Agenda (bullets: "List Number" would continue into the decisions)
    writer.listing(labels["attendees"], view.attendees, "List Bullet", labels["none_attendees"])
    writer.listing(labels["agenda"], view.agenda, "List Bullet", labels["none_agenda"])
    # 5. Discussion
    document.add_heading(labels["discussion"], level=2)
    for title, paragraphs in view.topics:
        if title:
            document.add_heading(title, level=3)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    if not view.topics:
        writer.muted(labels["none_agenda"])
    # 6. Decisions, numbered
    writer.listing(labels["decisions"], view.decisions, "List Number", labels["none_decisions"])
    # 7. Action items: a real table
    writer.action_items(view)
    # 8. Open questions
    writer.listing(
        labels["open_questions"], view.open_questions, "List Bullet", labels["none_open_questions"]
    )
    # 9. Next meeting
    document.add_heading(labels["next_meeting"], level=2)
    for label, value in view.next_meeting:
        writer.labelled(label, value)
    if not view.next_meeting:
        writer.muted(labels["none_next_meeting"])
    # 10. Closing line
    writer.closing(view)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


class _DocxWriter:
    """Small helpers over a python-docx ``Document`` (imported lazily by the caller)."""

    def __init__(self, document: Any) -> None:
        self.document = document

    def setup(self, view: _ActaView) -> None:
        from docx.oxml.ns import qn

        # Spell-check language of the whole document (the default template says en-US).
        lang_tag = _WORD_LANGUAGE_TAGS.get(view.lang, view.lang)
        lang_el = self.document.styles.element.find(f"{qn('w:docDefaults')}//{qn('w:lang')}")
        if lang_el is not None:
            lang_el.set(qn("w:val"), lang_tag)
        props = self.document.core_properties
        props.title = view.heading
        props.subject = view.labels["title"]
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

    def listing(self, heading: str, items: list[str], style: str, when_empty: str) -> None:
        self.document.add_heading(heading, level=2)
        for item in items:
            self.document.add_paragraph(item, style=style)
        if not items:
            self.muted(when_empty)

    def action_items(self, view: _ActaView) -> None:
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.oxml.ns import qn

        labels = view.labels
        self.document.add_heading(labels["action_items"], level=2)
        if not view.action_items:
            self.muted(labels["none_action_items"])
            return
        table = self.document.add_table(rows=1, cols=3, style="Table Grid")
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        header = (labels["task"], labels["owner"], labels["due_date"])
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        # Repeat the header row on every page the table spans.
        tr_pr = table.rows[0]._tr.get_or_add_trPr()
        tr_pr.append(tr_pr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"}))
        for task, owner, due in view.action_items:
            cells = table.add_row().cells
            cells[0].text = task
            cells[1].text = owner or labels["no_owner"]
            cells[2].text = due or labels["no_date"]

    def closing(self, view: _ActaView) -> None:
        from docx.shared import Pt, RGBColor

        grey = RGBColor(0x6B, 0x72, 0x80)
        self.document.add_paragraph()
        closing = self.document.add_paragraph().add_run(view.closing)
        closing.italic = True
        closing.font.size = Pt(9)
        closing.font.color.rgb = grey
        reference = self.document.add_paragraph().add_run(
            f"{view.labels['reference']}: {view.reference}"
        )
        reference.font.size = Pt(8)
        reference.font.color.rgb = grey


def render_transcript_txt(utterances: list[Utterance], facts: MeetingFacts, language: str) -> str:
    """``[00:01:23] Participante A: ...`` per utterance, under a short header."""
    labels = labels_for(language)
    header = [
        f"{labels['transcript_title']}: {one_line(facts.original_filename)}",
    ]
    if facts.meeting_date is not None:
        header.append(f"{labels['date']}: {format_date(facts.meeting_date, language)}")
    if facts.client_name:
        header.append(f"{labels['client']}: {one_line(facts.client_name)}")
    duration = format_duration(facts.audio_duration_s)
    if duration:
        header.append(f"{labels['duration']}: {duration}")
    header += [f"{labels['reference']}: {facts.meeting_id}", labels["transcript_note"], ""]

    lines = []
    for utterance in utterances:
        speaker = one_line(utterance.speaker) or "?"
        text = " ".join(utterance.text.split())
        lines.append(
            f"[{format_timestamp(utterance.start_ms)}] {labels['participant']} {speaker}: {text}"
        )
    if not lines:
        lines.append(labels["no_utterances"])
    return "\n".join(header + lines) + "\n"


def render_acta_email(
    acta: Acta, facts: MeetingFacts, utterances: list[Utterance]
) -> RenderedEmail:
    """Subject, HTML, text, the .docx and the transcript, ready to send."""
    labels = labels_for(acta.language)
    slug = slugify(_clean_title(acta, facts), fallback=labels["default_title"])
    if facts.meeting_date is not None:
        slug = f"{facts.meeting_date.isoformat()}-{slug}"
    transcript = render_transcript_txt(utterances, facts, acta.language)
    return RenderedEmail(
        subject=acta_subject(acta, facts),
        html=render_acta_html(acta, facts),
        text=render_acta_text(acta, facts),
        attachments=[
            (f"{labels['acta_file']}-{slug}.docx", DOCX_MIME, render_acta_docx(acta, facts)),
            (
                f"{labels['transcript_file']}-{slug}.txt",
                TEXT_MIME,
                transcript.encode("utf-8"),
            ),
        ],
    )


def render_failure_email(
    reason_code: str, reason_message: str, facts: MeetingFacts, language: str = "es"
) -> RenderedEmail:
    """Tell the person, in plain words, that no acta is coming, why, and what to do.

    Never contains an acta: for ``no_speech`` it says that no speech was found.
    """
    lang = language_code(language)
    labels = labels_for(lang)
    table = _FAILURES.get(lang, _FAILURES["en"])
    headline, happened, todo = table.get(reason_code, table["default"])
    filename = one_line(facts.original_filename)
    happened = happened.format(filename=filename)
    detail = one_line(reason_message)
    # Codes whose explanation above says it all: the stored message (written for
    # support, in English) would only repeat it in another language.
    if reason_code in _SELF_EXPLANATORY:
        detail = ""
    if detail and detail.rstrip(".").lower() in {
        headline.rstrip(".").lower(),
        happened.rstrip(".").lower(),
    }:
        detail = ""

    details: list[tuple[str, str]] = [(labels["recording"], filename)]
    if facts.meeting_date is not None:
        details.append((labels["date"], format_date(facts.meeting_date, lang)))
    if facts.client_name:
        details.append((labels["client"], one_line(facts.client_name)))
    details.append((labels["reference"], facts.meeting_id))

    subject = f"{headline}: {filename}" if filename else headline
    html = (
        _jinja_env()
        .get_template("failure.html")
        .render(
            L=labels,
            lang=lang,
            subject=subject,
            headline=headline,
            happened=happened,
            detail=detail,
            todo=todo,
            details=details,
            preheader=happened,
        )
    )
    text_lines = [
        headline,
        "=" * min(len(headline), 78),
        "",
        labels["what_happened"],
        "-" * len(labels["what_happened"]),
        happened,
    ]
    if detail:
        text_lines.append(f"{labels['detail']}: {detail}")
    text_lines += [
        "",
        labels["what_to_do"],
        "-" * len(labels["what_to_do"]),
        todo,
        "",
        *(f"{k}: {v}" for k, v in details),
        "",
        "--",
        labels["automatic_notice"],
    ]
    return RenderedEmail(subject=subject, html=html, text="\n".join(text_lines) + "\n")


# --------------------------------------------------------------------------- Jinja2


@lru_cache(maxsize=1)
def _jinja_env() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every value is model or user text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
