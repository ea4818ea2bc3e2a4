"""What a person reads: the acta email (HTML and text), the .docx, the transcript, failure notices.

What each output holds follows the acta standard (docs/acta-standard.md). The
email shows what people look for first (details, attendees, decisions, action
items), then the agenda and the discussion; the .docx, the document that is
filed and signed, keeps the standard's section order 1-10. Both orders are
one list in ``view`` (``FORMAL_ORDER``, ``EMAIL_ORDER``).

- ``view``: the facts the code knows and the acta as every document shows it;
- ``clock``: stated clock times, and the end time a start and the duration give;
- ``html`` / ``plain_text``: the email bodies, from ``templates/``;
- ``docx_writer``: the Word document; ``transcript``: the transcript file;
- ``acta_email``: all of them together; ``notices``: failure emails.

Labels and wording come from ``voxcliente.locales`` (one file per language).
Import cost: ``jinja2`` and ``docx`` are imported by the functions that use
them, so importing this package (for :class:`RenderedEmail`, say) stays cheap.
"""

from voxcliente.render.acta_email import render_acta_email
from voxcliente.render.docx_writer import render_acta_docx
from voxcliente.render.html import render_acta_html
from voxcliente.render.notices import render_failure_email
from voxcliente.render.plain_text import render_acta_text
from voxcliente.render.transcript import render_transcript_txt
from voxcliente.render.view import (
    DOCX_MIME,
    TEXT_MIME,
    MeetingFacts,
    RenderedEmail,
    acta_subject,
    labels_for,
    slugify,
)

__all__ = [
    "DOCX_MIME",
    "TEXT_MIME",
    "MeetingFacts",
    "RenderedEmail",
    "acta_subject",
    "labels_for",
    "render_acta_docx",
    "render_acta_email",
    "render_acta_html",
    "render_acta_text",
    "render_failure_email",
    "render_transcript_txt",
    "slugify",
]
