"""One module per language: every text present, every placeholder the code fills, nothing else."""

from __future__ import annotations

import string
from dataclasses import fields
from pathlib import Path

import pytest

from voxcliente.acta.prompts import language_style
from voxcliente.domain.error_codes import ErrorCode
from voxcliente.locales import (
    FailureNotice,
    Labels,
    Locale,
    PromptPhrases,
    all_locales,
    language_code,
    locale_for,
    locale_or_none,
)

LOCALES_DIR = Path(__file__).resolve().parents[2] / "layers/common/voxcliente/locales"
LOCALES = sorted(all_locales().values(), key=lambda locale: locale.language)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_module_in_the_package_is_a_locale_named_like_its_file() -> None:
    modules = {p.stem for p in LOCALES_DIR.glob("*.py") if p.stem != "__init__"}

    assert set(all_locales()) == modules
    assert {"es", "en"} <= modules


@pytest.mark.parametrize("locale", LOCALES, ids=lambda locale: locale.language)
def test_every_text_is_written_and_only_the_filename_is_filled_in(locale: Locale) -> None:
    texts: dict[str, str] = {}
    for group in (locale.labels, locale.prompt):
        texts |= {f.name: getattr(group, f.name) for f in fields(group)}
    for code, notice in locale.failures.by_code().items():
        texts |= {f"{code}.{f.name}": getattr(notice, f.name) for f in fields(notice)}

    for name, text in texts.items():
        assert text.strip(), f"{locale.language}: {name} is empty"
        expected = {"filename"} if name in {"closing"} or name.endswith(".happened") else set()
        assert placeholders(text) == expected, f"{locale.language}: {name}"
    assert len(set(locale.months)) == 12
    assert placeholders(locale.date_pattern) == {"day", "month", "year"}


def test_the_dataclasses_have_no_optional_text() -> None:
    # Typed and required: mypy refuses a locale module that leaves a text out.
    for cls in (Labels, PromptPhrases, FailureNotice):
        assert all(f.type == "str" for f in fields(cls)), cls.__name__


def test_every_notifying_error_code_is_a_notice_or_falls_back_to_the_default() -> None:
    codes = set(all_locales()["es"].failures.by_code()) - {"default"}

    assert codes <= {code.value for code in ErrorCode if code.notifies}
    assert ErrorCode.NO_SPEECH.value in codes


@pytest.mark.parametrize(
    ("given", "code"),
    [("es", "es"), ("es-MX", "es"), ("EN_gb", "en"), ("pt-BR", "pt"), ("", "es"), (None, "es")],
)
def test_language_code_takes_the_language_part_of_a_tag(given: str | None, code: str) -> None:
    assert language_code(given) == code


def test_a_language_without_a_module_gets_english_labels() -> None:
    assert locale_or_none("fr") is None
    assert locale_for("fr").labels.title == "Meeting minutes"
    assert locale_for("es-MX").labels.title == "Acta de reunión"


def test_the_prompt_uses_the_locale_phrases_and_names_other_languages() -> None:
    spanish = language_style("es")
    portuguese = language_style("pt")

    assert spanish.agreement == all_locales()["es"].prompt.agreement == "Se acuerda"
    assert spanish.participant == "Participante"
    assert portuguese.name == "Portuguese (português)"
    assert portuguese.participant is None  # the model translates "Participant"
