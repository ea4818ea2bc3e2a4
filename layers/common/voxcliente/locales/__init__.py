"""One module per language: everything a person reads in that language.

Each module (``es.py``, ``en.py``, ...) defines ``LOCALE``, a :class:`Locale`;
adding a language means adding one module, found here by its file name.
Because :class:`Locale` is a typed dataclass, mypy refuses a module that
leaves any text out.

Languages without a module still get an acta in their own language (the
model writes it); only the labels around it fall back to English and dates to
ISO 8601.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Locale:
    """The texts of one language."""

    language: str
    """ISO 639-1 code, the module's name."""
    months: tuple[str, str, str, str, str, str, str, str, str, str, str, str]
    date_pattern: str
    """The long date, with ``{day}``, ``{month}`` and ``{year}``."""


DEFAULT_LANGUAGE = "es"
"""The product's language when a code is missing or unusable."""
FALLBACK_LANGUAGE = "en"
"""Labels for a language without a module of its own."""

_LANG_RE = re.compile(r"^[A-Za-z]{2,3}$")


def language_code(language: str | None) -> str:
    """``"es-MX"`` -> ``"es"``; anything unusable -> ``"es"`` (the product's default)."""
    code = (language or "").strip().replace("_", "-").split("-")[0].lower()
    return code if _LANG_RE.match(code) else DEFAULT_LANGUAGE


@lru_cache(maxsize=1)
def all_locales() -> dict[str, Locale]:
    """Every locale module of this package, by language code."""
    found: dict[str, Locale] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        locale = getattr(module, "LOCALE", None)
        if not isinstance(locale, Locale) or locale.language != info.name:
            raise TypeError(
                f"{module.__name__} must define LOCALE = Locale(language={info.name!r}, ...)"
            )
        found[info.name] = locale
    return found


def locale_or_none(language: str | None) -> Locale | None:
    """The locale of a language, or None when it has no module."""
    return all_locales().get(language_code(language))


def locale_for(language: str | None) -> Locale:
    """The locale of a language; English for a language without a module."""
    return locale_or_none(language) or all_locales()[FALLBACK_LANGUAGE]
