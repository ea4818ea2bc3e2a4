"""Failure notices: tell the person, in plain words, that no acta is coming, why, and what to do.

The texts live in each language's locale file (``FailureNotices``, one per
error code that notifies); which codes' sentence says it all comes from the
one registry, ``voxcliente.domain.error_codes``.
"""

from __future__ import annotations

from voxcliente.dates import format_date
from voxcliente.domain.error_codes import SELF_EXPLANATORY_CODES
from voxcliente.locales import FailureNotice, all_locales, language_code, locale_for
from voxcliente.render.templating import jinja_env
from voxcliente.render.view import MeetingFacts, RenderedEmail
from voxcliente.text import one_line

# Every language's notices by error code ("default" for any other code).
_FAILURES: dict[str, dict[str, FailureNotice]] = {
    lang: locale.failures.by_code() for lang, locale in all_locales().items()
}


def render_failure_email(
    reason_code: str, reason_message: str, facts: MeetingFacts, language: str = "es"
) -> RenderedEmail:
    """The failure email in the meeting's language (English for one without a locale).

    Never contains an acta: for ``no_speech`` it says that no speech was found.
    """
    lang = language_code(language)
    locale = locale_for(lang)
    labels = locale.labels
    notices = _FAILURES[locale.language]
    notice = notices.get(reason_code, notices["default"])
    headline, todo = notice.headline, notice.todo
    filename = one_line(facts.original_filename)
    happened = notice.happened.format(filename=filename)
    detail = one_line(reason_message)
    # Codes whose explanation above says it all: the stored message (written for
    # support, in English) would only repeat it in another language.
    if reason_code in SELF_EXPLANATORY_CODES:
        detail = ""
    if detail and detail.rstrip(".").lower() in {
        headline.rstrip(".").lower(),
        happened.rstrip(".").lower(),
    }:
        detail = ""

    details: list[tuple[str, str]] = [(labels.recording, filename)]
    if facts.meeting_date is not None:
        details.append((labels.date, format_date(facts.meeting_date, lang)))
    if facts.client_name:
        details.append((labels.client, one_line(facts.client_name)))
    details.append((labels.reference, facts.meeting_id))

    subject = f"{headline}: {filename}" if filename else headline
    values = {
        "L": labels,
        "lang": lang,
        "subject": subject,
        "headline": headline,
        "happened": happened,
        "detail": detail,
        "todo": todo,
        "details": details,
        "preheader": happened,
    }
    env = jinja_env()
    return RenderedEmail(
        subject=subject,
        html=env.get_template("failure.html").render(values),
        text=env.get_template("failure.txt").render(values),
    )
