"""One file per language: every text present, every placeholder the code fills, nothing else."""

from __future__ import annotations

import string
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from voxcliente.acta.prompts import language_style
from voxcliente.domain.error_codes import ErrorCode
from voxcliente.locales import (
    LOCALES_DIR,
    FailureNotice,
    Labels,
    Locale,
    LocaleFileError,
    PromptPhrases,
    all_locales,
    language_code,
    load_locale,
    locale_for,
    locale_or_none,
)

LOCALES = sorted(all_locales().values(), key=lambda locale: locale.language)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


LANGUAGE_FILES = sorted(LOCALES_DIR.glob("*.toml"))


def test_every_file_in_the_package_is_a_locale_named_like_its_file() -> None:
    codes = {path.stem for path in LANGUAGE_FILES}

    assert set(all_locales()) == codes
    assert {"es", "en"} <= codes
    assert all(locale.language == code for code, locale in all_locales().items())


def test_the_locale_files_are_data_only() -> None:
    # Adding a language is adding a file: no module may sit beside them.
    assert {path.name for path in LOCALES_DIR.glob("*.py")} == {"__init__.py"}


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=lambda path: path.name)
def test_every_language_file_holds_the_same_texts_as_spanish(path: Path) -> None:
    def keys(table: dict[str, object], at: str = "") -> set[str]:
        found: set[str] = set()
        for name, value in table.items():
            if isinstance(value, dict):
                found |= keys(value, f"{at}{name}.")
            else:
                found.add(f"{at}{name}")
        return found

    spanish = tomllib.loads((LOCALES_DIR / "es.toml").read_text(encoding="utf-8"))
    other = tomllib.loads(path.read_text(encoding="utf-8"))

    assert keys(other) == keys(spanish)


# The texts the code fills in, and with what; every other text is used as written.
FILLED_IN = {
    "closing": {"filename"},
    "approximate_time": {"time"},  # an end time computed from the recording's duration
    "page_of": {"page", "pages"},  # the .docx footer: Word's PAGE and NUMPAGES fields
}


@pytest.mark.parametrize("locale", LOCALES, ids=lambda locale: locale.language)
def test_every_text_is_written_and_only_what_the_code_fills_in_is_a_placeholder(
    locale: Locale,
) -> None:
    texts: dict[str, str] = {}
    for group in (locale.labels, locale.prompt):
        texts |= {f.name: getattr(group, f.name) for f in fields(group)}
    for code, notice in locale.failures.by_code().items():
        texts |= {f"{code}.{f.name}": getattr(notice, f.name) for f in fields(notice)}

    for name, text in texts.items():
        assert text.strip(), f"{locale.language}: {name} is empty"
        expected = {"filename"} if name.endswith(".happened") else FILLED_IN.get(name, set())
        assert placeholders(text) == expected, f"{locale.language}: {name}"
    assert len(set(locale.months)) == 12
    assert placeholders(locale.date_pattern) == {"day", "month", "year"}


def test_the_dataclasses_have_no_optional_text() -> None:
    # Typed and required: the loader refuses a language file that leaves a text out.
    for cls in (Labels, PromptPhrases, FailureNotice):
        assert all(f.type == "str" for f in fields(cls)), cls.__name__


def copy_of_english(tmp_path: Path, change: tuple[str, str]) -> Path:
    text = (LOCALES_DIR / "en.toml").read_text(encoding="utf-8")
    old, new = change
    assert old in text
    path = tmp_path / "en.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (('title = "Meeting minutes"\n', ""), "en.toml: missing labels.title"),
        (
            ('[failures.no_speech]\nheadline = "', '[failures.no_speech]\nheadlin = "'),
            "en.toml: missing failures.no_speech.headline; unknown failures.no_speech.headlin",
        ),
        (
            ('date_pattern = "', 'date_patern = "'),
            "en.toml: missing date_pattern; unknown date_patern",
        ),
        (('summary = "Summary"', "summary = 3"), "en.toml: labels.summary must be a text"),
        (('    "December",\n', ""), "en.toml: months must be a list of 12 texts"),
        (("[prompt]", "[prompt"), "en.toml: not valid TOML"),
    ],
)
def test_a_language_file_with_a_text_missing_or_unknown_is_refused_by_name(
    tmp_path: Path, change: tuple[str, str], named: str
) -> None:
    with pytest.raises(LocaleFileError) as refused:
        load_locale(copy_of_english(tmp_path, change))

    assert str(refused.value).startswith(named)


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


def test_a_language_without_a_file_gets_english_labels() -> None:
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
