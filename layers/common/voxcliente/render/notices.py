"""The emails that are not an acta: failure notices, and trial mode's one-time code.

A failure notice tells the person, in plain words, that no acta is coming, why,
and what to do. The texts live in each language's locale file (``FailureNotices``, one per
error code that notifies); which codes' sentence says it all comes from the
one registry, ``voxcliente.domain.error_codes``.
"""

from __future__ import annotations

from voxcliente.dates import format_date
from voxcliente.domain.error_codes import SELF_EXPLANATORY_CODES
from voxcliente.locales import (
    DEFAULT_LANGUAGE,
    FailureNotice,
    all_locales,
    language_code,
    locale_for,
    locale_or_none,
)
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


def render_confirmation_email(
    code: str, *, minutes: int, language: str | None = None
) -> RenderedEmail:
    """Trial mode's one-time code, in Spanish unless the person's language has a file.

    Short on purpose: the code in the subject (read from the notification without
    opening the message), the sentence that gives it again with its validity, and
    what to do if the person never asked for it. No links, nothing of theirs.
    """
    from html import escape

    locale = locale_or_none(language) or locale_for(DEFAULT_LANGUAGE)
    texts = locale.confirmation
    subject = texts.subject.format(code=code, minutes=minutes)
    body = texts.body.format(code=code, minutes=minutes)
    text = f"{texts.heading}\n\n{body}\n\n{texts.ignore}\n"
    html = (
        f'<!DOCTYPE html><html lang="{escape(locale.language)}"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;color:#1f2933;">'
        f'<h1 style="font-size:20px;">{escape(texts.heading)}</h1>'
        f"<p>{escape(body)}</p>"
        '<p style="font-size:28px;font-weight:bold;letter-spacing:6px;">'
        f"{escape(code)}</p>"
        f'<p style="color:#52606d;font-size:13px;">{escape(texts.ignore)}</p>'
        "</body></html>"
    )
    return RenderedEmail(subject=subject, html=html, text=text)
