"""The one text cleaner and the one set of date formatters every layer uses."""

from __future__ import annotations

from datetime import date

import pytest

from voxcliente.dates import format_date, format_duration, format_timestamp
from voxcliente.text import clean_text, one_line


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("Textiles\x00Andinos", "Textiles Andinos"),  # NUL between words was a separator
        ("Se acuerda\x1b[31m algo", "Se acuerda [31m algo"),  # ESC gone, text kept
        ("Tex\u200btiles An\u202edinos", "Textiles Andinos"),  # invisible marks removed
        ("  una\tlínea\r\nmás\u2028otra  ", "una línea más otra"),
        ("Reunio\u0301n", "Reunión"),  # NFC: one code point, as typed elsewhere
        ("\x00\u200b ", ""),
        (None, ""),
    ],
)
def test_one_line(given: str | None, shown: str) -> None:
    assert one_line(given) == shown


def test_clean_text_cuts_to_the_limit_and_gives_none_for_nothing() -> None:
    assert clean_text("Textiles   Andinos S.A.", 9) == "Textiles"
    assert clean_text("\x00\x1b", 200) is None
    assert clean_text(None, 200) is None


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, None),
        (-1, None),
        (0, "0 s"),
        (45.4, "45 s"),
        (59.6, "1 min"),
        (42 * 60 + 10, "42 min"),
        (3600, "1 h 00 min"),
        (3905, "1 h 05 min"),
    ],
)
def test_format_duration(seconds: float | None, shown: str | None) -> None:
    assert format_duration(seconds) == shown


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(0, "00:00:00"), (83_999, "00:01:23"), (3_723_000, "01:02:03"), (-5, "00:00:00")],
)
def test_format_timestamp(ms: int, shown: str) -> None:
    assert format_timestamp(ms) == shown


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("es", "3 de marzo de 2027"),
        ("es-MX", "3 de marzo de 2027"),
        ("en", "March 3, 2027"),
        ("fr", "2027-03-03"),  # no locale file: ISO 8601, which nobody misreads
        (None, "3 de marzo de 2027"),  # the product's default language
    ],
)
def test_format_date(language: str | None, shown: str) -> None:
    assert format_date(date(2027, 3, 3), language) == shown
