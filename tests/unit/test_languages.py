"""Language tags mapped into AssemblyAI's language_code enum, or refused clearly."""

from __future__ import annotations

import pytest

from voxcliente.domain.languages import (
    ASSEMBLYAI_LANGUAGE_CODES,
    UnsupportedLanguage,
    to_assemblyai,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("es", "es"),
        ("ES", "es"),
        ("es-MX", "es"),
        ("es_mx", "es"),
        ("en-GB", "en_uk"),
        ("en_gb", "en_uk"),
        ("en-US", "en_us"),
        ("en-AU", "en_au"),
        ("en-IE", "en"),
        ("pt-BR", "pt"),
        ("pt_br", "pt"),
        ("fr-CA", "fr"),
        ("zh-Hant", "zh"),
        ("iw", "he"),
        ("nb-NO", "no"),
        (" de ", "de"),
    ],
)
def test_tags_map_into_the_enum(given: str, expected: str) -> None:
    """Regression: the upload form accepted en_gb, es_mx, pt_br, which AssemblyAI's
    language enum lacks, and inbox metadata `language` was not checked at all."""
    assert to_assemblyai(given) == expected
    assert expected in ASSEMBLYAI_LANGUAGE_CODES


@pytest.mark.parametrize("given", ["xx", "klingon", "es mx", "'; DROP", "e", "1234"])
def test_anything_else_is_refused_with_what_to_write(given: str) -> None:
    with pytest.raises(UnsupportedLanguage) as info:
        to_assemblyai(given)
    assert "'es'" in info.value.message
    assert info.value.code == "language_unsupported"


def test_the_codes_are_those_the_assemblyai_emulator_accepts() -> None:
    """Production and the double are written apart (from the same published list):
    a drift between them is a bug in one of the two."""
    from voxlocal.emulators.assemblyai_schema import LANGUAGE_CODES

    assert set(LANGUAGE_CODES) == ASSEMBLYAI_LANGUAGE_CODES


def test_the_speech_models_are_those_the_assemblyai_emulator_accepts() -> None:
    from voxcliente.domain.languages import ASSEMBLYAI_SPEECH_MODELS
    from voxlocal.emulators import assemblyai_schema

    assert set(ASSEMBLYAI_SPEECH_MODELS) <= set(assemblyai_schema.SPEECH_MODELS)
