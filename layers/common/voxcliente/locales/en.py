"""English: also the labels of any language without a module of its own."""

from __future__ import annotations

from voxcliente.locales import Locale

LOCALE = Locale(
    language="en",
    months=(
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    date_pattern="{month} {day}, {year}",
)
