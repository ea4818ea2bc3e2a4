"""Text from outside made safe to show on one line: the one cleaner every layer uses.

File names, client names, metadata and the model's own words can carry NUL,
escape sequences, bidirectional overrides (U+202E turns "gpj.exe" around on
screen) or line breaks that would split a header or a log line. One rule for
all of them, so the database, the prompts and the email agree on what a name
looks like:

- Unicode NFC, so the same name typed on two systems compares equal;
- every whitespace and control character (tab, newline, U+2028, NUL, ESC,
  category Cc) becomes a space: between words it stood for a separator;
- format, surrogate, private-use and unassigned characters (categories Cf,
  Cs, Co, Cn) are removed: a zero-width or bidirectional mark inside a word
  must not split it;
- runs of spaces collapse into one, with none at either end.
"""

from __future__ import annotations

import unicodedata

_REMOVED_CATEGORIES = frozenset({"Cf", "Cs", "Co", "Cn"})


def one_line(text: str | None) -> str:
    """``text`` cleaned as the module says; ``""`` for None or nothing left."""
    if not text:
        return ""
    kept = "".join(
        " " if ch.isspace() or category == "Cc" else ch
        for ch in unicodedata.normalize("NFC", text)
        if (category := unicodedata.category(ch)) not in _REMOVED_CATEGORIES
    )
    return " ".join(kept.split())


def clean_text(value: str | None, limit: int) -> str | None:
    """:func:`one_line` cut to at most ``limit`` characters; None when nothing is left.

    For values stored in a text column (PostgreSQL refuses NUL outright).
    """
    cleaned = one_line(value)[:limit].rstrip()
    return cleaned or None
