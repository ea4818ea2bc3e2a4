"""Language codes and speech models AssemblyAI accepts, and the mapping into them.

People and browsers write languages as BCP 47 tags (``es-MX``, ``en-GB``,
``pt_BR``); AssemblyAI's ``language_code`` is an enum of its own (the
``TranscriptLanguageCode`` schema of its published OpenAPI spec, and the
"Supported languages" page) with a few regional English variants and one
code per other language. A code outside the enum is a 400 for the whole
request, so every code is mapped here, or refused with a message saying
what to write instead, before anything is spent.
"""

from __future__ import annotations

import re

from voxcliente.domain.error_codes import ErrorCode
from voxcliente.domain.errors import InputRejected

# AssemblyAI's ``TranscriptLanguageCode`` enum (Universal-2 covers all of them).
# fmt: off
ASSEMBLYAI_LANGUAGE_CODES: frozenset[str] = frozenset((
    "en", "en_au", "en_uk", "en_us", "es", "fr", "de", "it", "pt", "nl", "hi", "ja", "zh", "fi",
    "ko", "pl", "ru", "tr", "uk", "vi", "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn",
    "bo", "br", "bs", "ca", "cs", "cy", "da", "el", "et", "eu", "fa", "fo", "gl", "gu", "ha",
    "haw", "he", "hr", "ht", "hu", "hy", "id", "is", "jw", "ka", "kk", "km", "kn", "la", "lb",
    "ln", "lo", "lt", "lv", "mg", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "ne", "nn",
    "no", "oc", "pa", "ps", "ro", "sa", "sd", "si", "sk", "sl", "sn", "so", "sq", "sr", "su",
    "sv", "sw", "ta", "te", "tg", "th", "tk", "tl", "tt", "ur", "uz", "yi", "yo",
))
# fmt: on

# Regional tags AssemblyAI models with their own code; every other region of a
# language is transcribed by the language's own code (es-MX -> es, pt-BR -> pt).
_REGIONAL = {"en_gb": "en_uk", "en_uk": "en_uk", "en_us": "en_us", "en_au": "en_au"}
# Tags whose language part differs from AssemblyAI's code.
_ALIASES = {"iw": "he", "jv": "jw", "nb": "no", "fil": "tl", "zh_hant": "zh", "zh_hans": "zh"}

_TAG = re.compile(r"^[a-z]{2,3}([_-][a-z0-9]{2,8})*$", re.IGNORECASE)

# Speech models accepted in ``speech_models`` (AssemblyAI docs, "Model
# selection"): ``universal-3-pro`` is refused since 2026-09-02 and
# ``nano``/``best`` belong to the deprecated singular ``speech_model``.
ASSEMBLYAI_SPEECH_MODELS: tuple[str, ...] = (
    "assemblyai-stt-3-7",
    "universal-3-5-pro",
    "universal-2",
)


class UnsupportedLanguage(InputRejected):
    code = ErrorCode.LANGUAGE_UNSUPPORTED


def to_assemblyai(tag: str) -> str:
    """Map a language tag to AssemblyAI's code, or raise :class:`UnsupportedLanguage`."""
    raw = tag.strip()
    if not _TAG.match(raw):
        raise UnsupportedLanguage(
            f"{raw[:40]!r} is not a language code. Write one such as 'es', 'es-MX', 'en-GB' "
            "or 'pt-BR', or leave the language out to have it detected."
        )
    code = raw.lower().replace("-", "_")
    if code in _REGIONAL:
        return _REGIONAL[code]
    if code in _ALIASES:
        return _ALIASES[code]
    if code in ASSEMBLYAI_LANGUAGE_CODES:
        return code
    base = code.split("_", 1)[0]
    base = _ALIASES.get(base, base)
    if base in ASSEMBLYAI_LANGUAGE_CODES:
        return base
    raise UnsupportedLanguage(
        f"The language {raw!r} cannot be transcribed (it is not among the languages "
        "AssemblyAI supports). Leave the language out to have it detected, or write the "
        "code of the language spoken in the recording (for example 'es' or 'en')."
    )
