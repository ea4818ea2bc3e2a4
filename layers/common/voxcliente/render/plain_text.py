"""The acta as the plain-text alternative of the email: ``templates/acta.txt``."""

from __future__ import annotations

from voxcliente.acta.model import Acta
from voxcliente.render.templating import jinja_env
from voxcliente.render.view import EMAIL_ORDER, MeetingFacts, build_view


def render_acta_text(acta: Acta, facts: MeetingFacts, *, emulated: bool = False) -> str:
    """The same content as the HTML body, in the email's order."""
    view = build_view(acta, facts, emulated=emulated)
    return jinja_env().get_template("acta.txt").render(v=view, L=view.labels, sections=EMAIL_ORDER)
