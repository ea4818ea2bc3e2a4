"""Dates, durations and offsets as people read them: one formatter for each.

The prompts and every rendering (email, .docx, transcript) use these, so the
model is shown a date in exactly the form the document will print.
"""

from __future__ import annotations

from datetime import date

from voxcliente.locales import locale_or_none


def format_date(value: date, language: str | None) -> str:
    """``3 de marzo de 2027`` / ``March 3, 2027``, in the language's own locale file.

    Languages without one get ISO 8601 (``2027-03-03``), which no reader misreads.
    """
    locale = locale_or_none(language)
    if locale is None:
        return value.isoformat()
    return locale.date_pattern.format(
        day=value.day, month=locale.months[value.month - 1], year=value.year
    )


def format_duration(seconds: float | None) -> str | None:
    """``45 s``, ``42 min``, ``1 h 05 min``; None when unknown (None or negative).

    Seconds below a minute: a 40-second test recording reads "40 s", not "1 min".
    """
    if seconds is None or seconds < 0:
        return None
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    hours, minutes = divmod(round(total / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def format_timestamp(milliseconds: int) -> str:
    """``00:01:23``: an offset from the start of the recording (transcript lines)."""
    hours, rest = divmod(max(milliseconds, 0) // 1000, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"
