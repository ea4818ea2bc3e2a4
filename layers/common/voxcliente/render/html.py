"""The acta as an HTML email body: ``templates/acta.html``."""

from __future__ import annotations

from voxcliente.acta.model import Acta
from voxcliente.render.templating import jinja_env
from voxcliente.render.view import EMAIL_ORDER, MeetingFacts, acta_subject, build_view


def render_acta_html(acta: Acta, facts: MeetingFacts, *, emulated: bool = False) -> str:
    """The acta as an email body: table layout, inline styles, everything escaped."""
    view = build_view(acta, facts, emulated=emulated)
    return (
        jinja_env()
        .get_template("acta.html")
        .render(
            v=view,
            L=view.labels,
            sections=EMAIL_ORDER,
            lang=view.lang,
            subject=acta_subject(acta, facts),
            preheader=" ".join(view.summary)[:200],
        )
    )
