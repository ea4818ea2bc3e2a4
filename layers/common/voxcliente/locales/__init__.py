"""One file per language: everything a person reads in that language.

Each language is a TOML file here (``es.toml``, ``en.toml``, ...), named by its
ISO 639-1 code; adding a language means adding one file. The texts are data,
read into the typed :class:`Locale` below, which says what every file must hold:
a file that leaves a text out, or holds one the code does not know, is refused
by name when the package first reads it (and by the unit tests before that).

Languages without a file still get an acta in their own language (the
model writes it); only the labels around it fall back to English and dates to
ISO 8601.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields, is_dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, get_args, get_origin, get_type_hints

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@dataclass(frozen=True)
class PromptPhrases:
    """The phrases of an acta in this language, for the model's instructions.

    The instructions themselves are in English (see ``voxcliente.acta.prompts``);
    these are the words the model must write verbatim in the target language,
    and one short example per rule, so that each rule shows what it asks for
    (docs/acta-standard.md). A language without a file gets the English
    examples, to be rendered in its own words.
    """

    name: str
    """The language as the English instructions name it: ``"Spanish (español)"``."""
    participant: str
    """A speaker never named: ``"Participante"`` -> "Participante A"."""
    agreement: str
    """How every decision sentence starts: ``"Se acuerda"``."""
    unknown_date: str
    """A date mentioned but not made out, in running text only: "fecha no precisada"."""
    past_example: str
    """An impersonal sentence in the formal past tense of the minutes."""
    named_example: str
    """A person, by name and surname, without a courtesy title: "Laura Méndez indicó que…"."""
    unnamed_example: str
    """A speaker never named, without an article: "Participante C preguntó…"."""
    colleague_example: str
    """A speaker introducing a colleague (who then belongs to the speaker's organisation)."""
    decision_example: str
    """A decision that stands on its own, starting with ``agreement``."""
    task_example: str
    """An action item: one sentence starting with an infinitive."""
    deadline_example: str
    """A relative deadline, kept as said: "la semana que viene"."""
    partial_date_example: str
    """A date said without month or year, kept as said: "el jueves 12"."""
    amount_example: str
    """An amount in figures with its currency: "16.000 euros"."""
    correction_example: str
    """A spoken self-correction whose corrected value is ``amount_example``."""
    modality_example: str
    """How a meeting is held: "videollamada"."""
    title_example: str
    """An acta's title: the subject in a few words."""


@dataclass(frozen=True)
class Labels:
    """Every label, heading and fixed sentence of the documents (email, .docx, transcript)."""

    # the acta's sections and details (the standard's order: docs/acta-standard.md)
    title: str
    summary: str
    details: str
    date: str
    start_time: str
    end_time: str
    approximate_time: str
    """An end time computed from the start and the recording's duration; holds ``{time}``."""
    modality: str
    place: str
    client: str
    duration: str
    recording: str
    attendees: str
    agenda: str
    discussion: str
    decisions: str
    action_items: str
    task: str
    owner: str
    due_date: str
    no_date: str
    no_owner: str
    open_questions: str
    next_meeting: str
    time: str
    purpose: str
    date_unknown: str
    # what an empty section says
    none_attendees: str
    none_agenda: str
    none_decisions: str
    none_action_items: str
    none_open_questions: str
    none_next_meeting: str
    # the closing lines; ``closing`` holds ``{filename}``
    closing: str
    approved_by: str
    """The .docx's approval block: "Revisado y aprobado por: ____"."""
    approval_date: str
    page_of: str
    """The .docx footer; holds ``{page}`` and ``{pages}`` (Word fills them in)."""
    attachments_note: str
    reference: str
    emulated: str
    """Shown on an acta the local emulator wrote instead of a language model."""
    # the transcript attachment and file names
    transcript_title: str
    transcript_note: str
    participant: str
    no_utterances: str
    acta_file: str
    transcript_file: str
    default_title: str
    # failure notices
    what_happened: str
    what_to_do: str
    detail: str
    automatic_notice: str
    failure_kicker: str


@dataclass(frozen=True)
class FailureNotice:
    """One failure email: the headline (also the subject), what happened, what to do.

    ``happened`` holds ``{filename}``, the recording's name.
    """

    headline: str
    happened: str
    todo: str


@dataclass(frozen=True)
class FailureNotices:
    """A notice per error code that notifies (``voxcliente.domain.error_codes``)."""

    input_rejected: FailureNotice
    not_audio: FailureNotice
    empty_file: FailureNotice
    too_large: FailureNotice
    email_invalid: FailureNotice
    file_missing: FailureNotice
    language_unsupported: FailureNotice
    transcription_failed: FailureNotice
    no_speech: FailureNotice
    generation_failed: FailureNotice
    email_outcome_unknown: FailureNotice
    ses_rejected: FailureNotice
    daily_spend_limit: FailureNotice
    default: FailureNotice
    """Any other code."""

    def by_code(self) -> dict[str, FailureNotice]:
        """The notices by error code (``"default"`` included)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ConfirmationEmail:
    """Trial mode's one-time code email. ``subject`` and ``body`` hold ``{code}``
    and ``{minutes}``, how long the code is valid."""

    subject: str
    heading: str
    body: str
    ignore: str
    """Said last: what to do if the person did not ask for a code."""


@dataclass(frozen=True)
class Locale:
    """The texts of one language."""

    language: str
    """ISO 639-1 code, the file's name (not written inside the file)."""
    months: tuple[str, str, str, str, str, str, str, str, str, str, str, str]
    date_pattern: str
    """The long date, with ``{day}``, ``{month}`` and ``{year}``."""
    prompt: PromptPhrases
    labels: Labels
    failures: FailureNotices
    confirmation: ConfirmationEmail
    word_language_tag: str
    """The .docx spell-check language (``es-ES``): Word wants a region."""


# Languages without a file are still written by the model; the English
# instructions name them so. A language that gets a file is named there.
LANGUAGE_NAMES = {
    "pt": "Portuguese (português)",
    "fr": "French (français)",
    "it": "Italian (italiano)",
    "de": "German (Deutsch)",
    "ca": "Catalan (català)",
    "nl": "Dutch (Nederlands)",
    "gl": "Galician (galego)",
    "eu": "Basque (euskara)",
}

DEFAULT_LANGUAGE = "es"
"""The product's language when a code is missing or unusable."""
FALLBACK_LANGUAGE = "en"
"""Labels for a language without a file of its own."""

_LANG_RE = re.compile(r"^[A-Za-z]{2,3}$")


def language_code(language: str | None) -> str:
    """``"es-MX"`` -> ``"es"``; anything unusable -> ``"es"`` (the product's default)."""
    code = (language or "").strip().replace("_", "-").split("-")[0].lower()
    return code if _LANG_RE.match(code) else DEFAULT_LANGUAGE


LOCALES_DIR = Path(__file__).resolve().parent
"""Where the language files are; ``sam build`` copies them into the layer with the code."""


class LocaleFileError(ValueError):
    """A language file that does not hold exactly the texts :class:`Locale` asks for."""


def load_locale(path: Path) -> Locale:
    """Read one language file into its :class:`Locale`, refusing a missing or unknown text."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LocaleFileError(f"{path.name}: not valid TOML: {exc}") from exc
    return _read(Locale, data, path.name, "", language=path.stem)


def _read[T: DataclassInstance](
    cls: type[T], table: object, file: str, at: str, **given: object
) -> T:
    # The bound is evaluated lazily (PEP 695), so the typing-only import suffices.
    """Build the dataclass ``cls`` from a TOML table, field by field, naming what is wrong."""
    if not isinstance(table, dict):
        raise LocaleFileError(f"{file}: {at or 'the file'} must be a table of texts")
    expected = {f.name for f in fields(cls)} - set(given)
    missing = sorted(expected - set(table))
    unknown = sorted(set(table) - expected)
    if missing or unknown:
        problems = [f"missing {at}{name}" for name in missing]
        problems += [f"unknown {at}{name}" for name in unknown]
        raise LocaleFileError(f"{file}: " + "; ".join(problems))
    hints = get_type_hints(cls)
    values = dict(given)
    for name in sorted(expected):
        value, hint = table[name], hints[name]
        if is_dataclass(hint):
            values[name] = _read(hint, value, file, f"{at}{name}.")  # type: ignore[arg-type]
        elif get_origin(hint) is tuple:
            size = len(get_args(hint))
            if (
                not isinstance(value, list)
                or len(value) != size
                or not all(isinstance(item, str) for item in value)
            ):
                raise LocaleFileError(f"{file}: {at}{name} must be a list of {size} texts")
            values[name] = tuple(value)
        elif isinstance(value, str):
            values[name] = value
        else:
            raise LocaleFileError(f"{file}: {at}{name} must be a text")
    return cls(**values)


@lru_cache(maxsize=1)
def all_locales() -> dict[str, Locale]:
    """Every language file of this package, by language code."""
    return {path.stem: load_locale(path) for path in sorted(LOCALES_DIR.glob("*.toml"))}


def locale_or_none(language: str | None) -> Locale | None:
    """The locale of a language, or None when it has no file."""
    return all_locales().get(language_code(language))


def locale_for(language: str | None) -> Locale:
    """The locale of a language; English for a language without a file."""
    return locale_or_none(language) or all_locales()[FALLBACK_LANGUAGE]
