"""The acta email as sent: subject, HTML and text bodies, the .docx and the transcript."""

from __future__ import annotations

from voxcliente.acta.model import Acta
from voxcliente.domain.models import Utterance
from voxcliente.render.docx_writer import render_acta_docx
from voxcliente.render.html import render_acta_html
from voxcliente.render.plain_text import render_acta_text
from voxcliente.render.transcript import render_transcript_txt
from voxcliente.render.view import (
    DOCX_MIME,
    TEXT_MIME,
    MeetingFacts,
    RenderedEmail,
    acta_subject,
    clean_title,
    labels_for,
    slugify,
)


def render_acta_email(
    acta: Acta, facts: MeetingFacts, utterances: list[Utterance], *, emulated: bool = False
) -> RenderedEmail:
    """Everything ready to send.

    ``emulated``: the acta came from the local emulator, not a language model;
    the email bodies and the .docx then say so in a line of their own.
    """
    labels = labels_for(acta.language)
    slug = slugify(clean_title(acta, facts), fallback=labels.default_title)
    if facts.meeting_date is not None:
        slug = f"{facts.meeting_date.isoformat()}-{slug}"
    transcript = render_transcript_txt(
        utterances, facts, acta.language, participants=acta.participants
    )
    docx = render_acta_docx(acta, facts, emulated=emulated)
    return RenderedEmail(
        subject=acta_subject(acta, facts),
        html=render_acta_html(acta, facts, emulated=emulated),
        text=render_acta_text(acta, facts, emulated=emulated),
        attachments=[
            (f"{labels.acta_file}-{slug}.docx", DOCX_MIME, docx),
            (f"{labels.transcript_file}-{slug}.txt", TEXT_MIME, transcript.encode("utf-8")),
        ],
    )
