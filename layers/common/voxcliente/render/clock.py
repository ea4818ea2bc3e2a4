"""Clock times as the acta states them, and the end time the recording implies.

The model writes times as it heard them: "10:00", "9:30", "10:00 h", "10.00",
"2:30 pm". When it heard when the meeting started but not when it ended, the
start plus the recording's duration is the end (docs/acta-standard.md, section
2). Only a start read without doubt is used: anything else ("a las diez y
pico", "por la mañana") leaves the end unknown rather than invented.
"""

from __future__ import annotations

import re

_CLOCK_RE = re.compile(
    r"""^\s*
    (?P<hour>\d{1,2})\s*[:.hH]\s*(?P<minute>\d{2})   # 10:00, 9.30, 10h30
    \s*(?:(?P<meridiem>[ap])\.?\s*m\.?|h(?:rs?|oras?)?\.?)?  # am / p.m. / h / hrs / horas
    \s*$""",
    re.IGNORECASE | re.VERBOSE,
)


def parse_clock(text: str | None) -> int | None:
    """Minutes after midnight of a stated clock time; None when it is not one beyond doubt.

    >>> parse_clock("10:00 h"), parse_clock("9.30"), parse_clock("2:30 pm")
    (600, 570, 870)
    >>> parse_clock("a las diez") is None
    True
    """
    match = _CLOCK_RE.match(text or "")
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"])
    meridiem = (match["meridiem"] or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            return None  # "14:00 pm" says two different things
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return hour * 60 + minute


def end_clock(start_time: str | None, duration_s: float | None) -> str | None:
    """``hh:mm``: the stated start plus the recording's duration, to the nearest minute.

    None when the start is not a clock time or the duration is unknown. Past
    midnight it wraps (23:30 + 1 h is 00:30): a clock shows the time of day.
    """
    start = parse_clock(start_time)
    if start is None or duration_s is None or duration_s < 0:
        return None
    # Half a minute rounds up (round() would round 0.5 to even).
    end = (start + int(duration_s / 60 + 0.5)) % (24 * 60)
    return f"{end // 60:02d}:{end % 60:02d}"
