"""What AssemblyAI accepts in ``POST /v2/transcript``, kept as data (a TEST DOUBLE's rules).

The emulator refuses what the real service refuses, and tests check the
production request and settings against the same tables.

Sources (read 2026-11):

* Parameter names and types: ``TranscriptParams`` / ``TranscriptOptionalParams``
  in AssemblyAI's published OpenAPI spec (github.com/AssemblyAI/assemblyai-api-spec,
  ``openapi.yml``: ``additionalProperties: false``, so an unknown name is a
  400), plus the parameters added since then that the Python SDK 1.8 sends
  (``speech_models``, ``prompt``, ``keyterms_prompt``, ``speaker_options``, ...).
* ``PiiPolicy`` enum: the same spec, as extended in the SDK's ``PIIRedactionPolicy``.
* Language codes: AssemblyAI docs, "Set language manually"
  (assemblyai.com/docs/pre-recorded-audio/set-language-manually): one code per
  language plus ``en_au``, ``en_uk``, ``en_us``; regional tags such as
  ``en_gb``, ``es_mx`` or ``pt_br`` are not codes.
* Speech models: AssemblyAI docs, "Model selection"
  (assemblyai.com/docs/pre-recorded-audio/select-the-speech-model), "Speech model
  versions and deprecations" (assemblyai.com/docs/getting-started/model-versions-and-deprecations),
  the "assemblyai-stt-3-7 migration guide" and the changelog entry for
  2026-09-02 (assemblyai.com/changelog): ``speech_models`` is a priority list;
  the first model that supports the language transcribes, otherwise the next
  one (``speech_model_used`` in the transcript names it), and none outside the
  list (no silent fallback: see ``speech_model_used``); ``["universal"]`` is
  upgraded to Universal-3.5 Pro; ``universal-3-pro`` "returns an error" since
  2026-09-02; the singular ``speech_model`` (values ``best``, ``nano``,
  ``slam-1``, ``universal``) is deprecated and routed like a request without a
  model. Without a model the account default applies: Universal-3.5 Pro with
  Universal-2 as fallback (accounts created from 2026-11-17 get
  ``assemblyai-stt-3-7``; pass ``default_speech_models`` to the emulator for that).
* Mutually exclusive options: ``language_code`` with ``language_detection``
  ("Don't use this field together with Language detection"), and the webhook
  auth header's name and value go together ("Webhooks for pre-recorded audio").

The exact wording of AssemblyAI's 400 texts is not published for every rule:
the messages below keep the real shape (``{"error": "..."}``) and say what to
change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --- speech models ------------------------------------------------------------------

# Accepted in ``speech_models``; ``universal`` is an alias upgraded to universal-3-5-pro.
SPEECH_MODELS: tuple[str, ...] = (
    "assemblyai-stt-3-7",
    "universal-3-5-pro",
    "universal-2",
    "universal",
)
SPEECH_MODEL_ALIASES: Mapping[str, str] = {"universal": "universal-3-5-pro"}
# Refused in ``speech_models``, with the reason the service gives or implies.
RETIRED_SPEECH_MODELS: Mapping[str, str] = {
    "universal-3-pro": "Universal-3 Pro is deprecated and replaced by universal-3-5-pro",
    "best": "'best' is a legacy value of the deprecated singular speech_model",
    "nano": "'nano' is a legacy value of the deprecated singular speech_model",
    "slam-1": "'slam-1' is a legacy value of the deprecated singular speech_model",
}
# The deprecated singular ``speech_model`` still takes its legacy values.
LEGACY_SPEECH_MODEL_VALUES: tuple[str, ...] = ("best", "nano", "slam-1", "universal")
DEFAULT_SPEECH_MODELS: tuple[str, ...] = ("universal-3-5-pro", "universal-2")

# Every language code of the API (Universal-2 transcribes all of them).
LANGUAGE_CODES: tuple[str, ...] = _words(
    """
    en en_au en_uk en_us es fr de it pt nl hi ja zh fi ko pl ru tr uk vi af sq am ar
    hy as az ba eu be bn bs br bg my ca hr cs da et fo gl ka el gu ht ha haw he hu
    is id jw kn kk km lo la lv ln lt lb mk mg ms ml mt mi mr mn ne no nn oc pa ps fa
    ro sa sr sn sd si sk sl so su sw sv tl tg ta tt te th bo tk ur uz cy yi yo
    """
)
_ENGLISH = ("en", "en_au", "en_uk", "en_us")
_U3_CORE = (*_ENGLISH, "es", "pt", "fr", "de", "it")
# The languages each model transcribes. The docs give Universal-3.5 Pro 18
# languages but, in what could be read, name only English, Spanish, Portuguese,
# French, German, Italian (Universal-3 Pro's six), Hindi and Mandarin: the others
# fall back here, which can only report universal-2 where the service would not.
# AssemblyAI-STT-3.7's list could not be read: the six core languages only.
MODEL_LANGUAGES: Mapping[str, frozenset[str]] = {
    "universal-3-5-pro": frozenset((*_U3_CORE, "hi", "zh")),
    "assemblyai-stt-3-7": frozenset(_U3_CORE),
    "universal-2": frozenset(LANGUAGE_CODES),
}
# No model outside ``speech_models`` is used. AssemblyAI docs, "assemblyai-stt-3-7
# migration guide", Behavioral changes, Model fallback
# (assemblyai.com/docs/pre-recorded-audio/assemblyai-stt-3-7-migration-guide):
# "Previously, AssemblyAI fell back to another model by default", for example to
# universal-2 when the language detected was one the listed models do not
# support; the guide now has you keep universal-2 in the list "if you need
# languages AssemblyAI-STT-3.7 doesn't support". So when no listed model
# supports the language, a set ``language_code`` is refused at submission (as
# "Supported languages & features" documents for a manual language the request
# cannot serve) and a detected one ends the transcript with ``status: error``.
# The exact error texts are not published; those below say what to change.

# --- enums ----------------------------------------------------------------------------

PII_POLICIES: tuple[str, ...] = _words(
    """
    account_number banking_information blood_type credit_card_cvv
    credit_card_expiration credit_card_number date date_interval date_of_birth
    drivers_license drug duration email_address event filename gender
    gender_sexuality healthcare_number injury ip_address language location
    location_address location_address_street location_city location_coordinate
    location_country location_state location_zip marital_status medical_condition
    medical_process money_amount nationality number_sequence occupation organization
    organization_medical_facility passport_number password person_age person_name
    phone_number physical_attribute political_affiliation religion sexuality
    statistics time url us_social_security_number username vehicle_id zodiac_sign
    """
)
PII_SUBSTITUTIONS: tuple[str, ...] = ("entity_name", "hash")
PII_AUDIO_QUALITIES: tuple[str, ...] = ("mp3", "wav")
BOOST_PARAMS: tuple[str, ...] = ("low", "default", "high")
SUMMARY_MODELS: tuple[str, ...] = ("informative", "conversational", "catchy")
SUMMARY_TYPES: tuple[str, ...] = ("bullets", "bullets_verbose", "gist", "headline", "paragraph")

# --- parameters -------------------------------------------------------------------------

# name -> kind: "string", "boolean", "integer", "number", "object", "string[]",
# "object[]", or a tuple of allowed strings (an enum). ``nullable`` below lists
# the parameters that also take null.
PARAMETERS: Mapping[str, str | tuple[str, ...]] = {
    "audio_url": "string",
    "language_code": LANGUAGE_CODES,
    "language_codes": "string[]",
    "language_detection": "boolean",
    "language_detection_options": "object",
    "language_confidence_threshold": "number",
    "speech_model": LEGACY_SPEECH_MODEL_VALUES,
    "speech_models": "string[]",
    "prompt": "string",
    "keyterms_prompt": "string[]",
    "keyterms_prompt_options": "object",
    "temperature": "number",
    "remove_audio_tags": "string",
    "domain": "string",
    "punctuate": "boolean",
    "format_text": "boolean",
    "disfluencies": "boolean",
    "filter_profanity": "boolean",
    "dual_channel": "boolean",
    "multichannel": "boolean",
    "audio_channels": "integer",
    "audio_start_from": "integer",
    "audio_end_at": "integer",
    "webhook_url": "string",
    "webhook_auth_header_name": "string",
    "webhook_auth_header_value": "string",
    "speaker_labels": "boolean",
    "speakers_expected": "integer",
    "speaker_options": "object",
    "word_boost": "string[]",
    "boost_param": BOOST_PARAMS,
    "custom_spelling": "object[]",
    "redact_pii": "boolean",
    "redact_pii_audio": "boolean",
    "redact_pii_audio_quality": PII_AUDIO_QUALITIES,
    "redact_pii_audio_options": "object",
    "redact_pii_policies": "string[]",
    "redact_pii_sub": PII_SUBSTITUTIONS,
    "redact_pii_return_unredacted": "boolean",
    "speech_threshold": "number",
    "auto_highlights": "boolean",
    "auto_chapters": "boolean",
    "content_safety": "boolean",
    "content_safety_confidence": "integer",
    "iab_categories": "boolean",
    "sentiment_analysis": "boolean",
    "entity_detection": "boolean",
    "summarization": "boolean",
    "summary_model": SUMMARY_MODELS,
    "summary_type": SUMMARY_TYPES,
    "custom_topics": "boolean",
    "topics": "string[]",
    "speech_understanding": "object",
}
NULLABLE: frozenset[str] = frozenset(
    {
        "language_code",
        "speech_model",
        "speech_models",
        "webhook_auth_header_name",
        "webhook_auth_header_value",
        "speakers_expected",
        "redact_pii_sub",
        "speech_threshold",
    }
)
REQUIRED: tuple[str, ...] = ("audio_url",)


class InvalidParams(ValueError):
    """A submission AssemblyAI answers with 400; ``str(exc)`` is the ``error`` text."""


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "string[]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "object[]":
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    raise AssertionError(f"unknown kind {kind!r}")  # pragma: no cover - a table typo


def check_transcript_params(
    body: Any, default_models: tuple[str, ...] = DEFAULT_SPEECH_MODELS
) -> None:
    """Raise :class:`InvalidParams` if AssemblyAI would refuse this ``POST /v2/transcript`` body.

    ``default_models``: the account's models for a body without ``speech_models``.
    """
    if not isinstance(body, dict):
        raise InvalidParams("Transcript creation error, the body must be a JSON object")
    unknown = sorted(name for name in body if name not in PARAMETERS)
    if unknown:
        raise InvalidParams(
            f"Invalid request: unknown parameter(s) {', '.join(unknown)}; "
            "see the TranscriptParams schema for the accepted names"
        )
    for name in REQUIRED:
        if body.get(name) in (None, ""):
            raise InvalidParams(f"Transcript creation error, {name} is required")
    for name, value in body.items():
        kind = PARAMETERS[name]
        if value is None:
            if name in NULLABLE:
                continue
            raise InvalidParams(f"Invalid request: {name} cannot be null")
        if isinstance(kind, tuple):
            if not isinstance(value, str) or value not in kind:
                raise InvalidParams(
                    f"Invalid request: {value!r} is not a valid value for {name}; "
                    f"expected one of {', '.join(kind)}"
                )
        elif not _type_ok(value, kind):
            raise InvalidParams(f"Invalid request: {name} must be of type {kind}")
    _check_rules(body)
    language = body.get("language_code")
    models = requested_models(body, default_models)
    if language and speech_model_used(models, language) is None:
        raise InvalidParams(
            f"Invalid request: no model in speech_models ({', '.join(models)}) supports "
            f"language_code {language!r}; add one that does, such as universal-2, "
            "which transcribes every language code"
        )


def _check_rules(body: dict[str, Any]) -> None:
    if not str(body["audio_url"]).startswith(("http://", "https://")):
        raise InvalidParams("Transcript creation error, audio_url should start with http")
    for model in body.get("speech_models") or []:
        if model in RETIRED_SPEECH_MODELS:
            raise InvalidParams(
                f"Invalid speech_models: {RETIRED_SPEECH_MODELS[model]}. "
                f"Accepted models: {', '.join(SPEECH_MODELS)}"
            )
        if model not in SPEECH_MODELS:
            raise InvalidParams(
                f"Invalid speech_models: {model!r} is not a model. "
                f"Accepted models: {', '.join(SPEECH_MODELS)}"
            )
    for policy in body.get("redact_pii_policies") or []:
        if policy not in PII_POLICIES:
            raise InvalidParams(
                f"Invalid request: {policy!r} is not a valid value for redact_pii_policies"
            )
    if body.get("language_code") and body.get("language_detection"):
        raise InvalidParams(
            "Invalid request: language_code and language_detection cannot be used together; "
            "set the language or have it detected"
        )
    name, value = body.get("webhook_auth_header_name"), body.get("webhook_auth_header_value")
    if (name is None) != (value is None):
        raise InvalidParams(
            "Invalid request: webhook_auth_header_name and webhook_auth_header_value "
            "must be given together"
        )
    confidence = body.get("content_safety_confidence")
    if confidence is not None and not 25 <= confidence <= 100:
        raise InvalidParams("Invalid request: content_safety_confidence must be 25 to 100")
    threshold = body.get("speech_threshold")
    if threshold is not None and not 0 <= threshold <= 1:
        raise InvalidParams("Invalid request: speech_threshold must be between 0 and 1")


def requested_models(
    submission: Mapping[str, Any], default: tuple[str, ...] = DEFAULT_SPEECH_MODELS
) -> tuple[str, ...]:
    """The models the service tries, in order, for this (valid) submission."""
    models = submission.get("speech_models")
    if not models:  # none, or the deprecated singular form: the account default
        return default
    return tuple(SPEECH_MODEL_ALIASES.get(m, m) for m in models)


def speech_model_used(models: tuple[str, ...], language_code: str | None) -> str | None:
    """The first model that transcribes ``language_code``: what ``speech_model_used`` says.

    None when no listed model supports the language: the service no longer falls
    back to a model outside the list (see the note after ``MODEL_LANGUAGES``).
    """
    if not language_code:
        return models[0]
    for model in models:
        if language_code in MODEL_LANGUAGES.get(model, frozenset()):
            return model
    return None


def unsupported_language_error(models: tuple[str, ...], language_code: str) -> str:
    """The transcript's ``error`` when no listed model supports the detected language."""
    return (
        f"Transcription error: the detected language {language_code!r} is not supported "
        f"by any model in speech_models ({', '.join(models)}); add a model that supports "
        "it, such as universal-2"
    )
