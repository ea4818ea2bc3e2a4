"""Every error code a meeting can end with, and what each one means for the person.

One registry instead of lists kept in several modules (and in SQL): each code
says whether its failure notice is sent (``notifies``: False when there is
nobody who can be told, or telling them is exactly what must not happen) and
whether the notice's own sentence explains it all (``self_explanatory``: the
stored English message, written for support, would only repeat it).

``meetings.error_code`` holds the value; the reconciler's SQL takes the list of
codes that do not notify from here as a parameter.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """``ErrorCode.NO_SPEECH == "no_speech"``; ``.notifies``, ``.self_explanatory``."""

    notifies: bool
    self_explanatory: bool

    def __new__(
        cls, value: str, notifies: bool = True, self_explanatory: bool = False
    ) -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.notifies = notifies
        member.self_explanatory = self_explanatory
        return member

    # --- no valid recipient: nobody to tell ---------------------------------------
    EMAIL_MISSING = ("email_missing", False)
    # Told only when another address given with the file (the inbox folder's) is usable.
    EMAIL_INVALID = ("email_invalid", True, True)
    UPLOAD_UNKNOWN = ("upload_unknown", False)
    # Earlier emails bounced or were reported as spam: sending a notice is the harm.
    RECIPIENT_SUPPRESSED = ("recipient_suppressed", False)
    # Erased at the person's (or the retention's) request while still in the
    # pipeline: stopped, and there is nobody left to tell.
    ERASED = ("erased", False)

    # --- the file itself (the notice's sentence says it all) ----------------------
    EMPTY_FILE = ("empty_file", True, True)
    TOO_LARGE = ("too_large", True, True)
    NOT_AUDIO = ("not_audio", True, True)
    LANGUAGE_UNSUPPORTED = ("language_unsupported", True, True)
    NO_SPEECH = ("no_speech", True, True)
    INPUT_REJECTED = "input_rejected"
    # The object was deleted (or unreadable) before Submit could read it.
    FILE_MISSING = ("file_missing", True, True)

    # --- limits ----------------------------------------------------------------------
    # Today's spend reached DAILY_SPEND_LIMIT_USD before the file was sent to
    # AssemblyAI: nothing was spent on it; the notice says to send it again tomorrow.
    DAILY_SPEND_LIMIT = ("daily_spend_limit", True, True)

    # --- AssemblyAI -----------------------------------------------------------------
    ASSEMBLYAI_REJECTED = "assemblyai_rejected"
    ASSEMBLYAI_UNAVAILABLE = "assemblyai_unavailable"
    TRANSCRIPTION_FAILED = "transcription_failed"
    SUBMIT_FAILED = "submit_failed"

    # --- OpenAI ---------------------------------------------------------------------
    GENERATION_FAILED = "generation_failed"
    OPENAI_LENGTH = "openai_length"
    OPENAI_REFUSAL = "openai_refusal"
    OPENAI_INVALID_OUTPUT = "openai_invalid_output"
    OPENAI_UNAVAILABLE = "openai_unavailable"
    OPENAI_QUOTA = "openai_quota"
    OPENAI_REJECTED = "openai_rejected"

    # --- SES --------------------------------------------------------------------------
    SES_REJECTED = "ses_rejected"
    SES_UNAVAILABLE = "ses_unavailable"
    # The acta was handed to SES but whether SES accepted it is unknown (the worker
    # was lost in between and no Send event arrived): not resent, the person is told.
    EMAIL_OUTCOME_UNKNOWN = ("email_outcome_unknown", True, True)
    # A request went out and no answer came back (errors.OutcomeUnknown).
    OUTCOME_UNKNOWN = "outcome_unknown"

    # --- ours -------------------------------------------------------------------------
    INTERNAL_ERROR = "internal_error"
    CONFIGURATION_ERROR = "configuration_error"
    PROVIDER_ERROR = "provider_error"
    TRANSIENT_ERROR = "transient_error"
    NOT_FOUND = "not_found"


def lookup(code: str | None) -> ErrorCode:
    """The registered code, or ``internal_error`` for anything unknown (which notifies)."""
    try:
        return ErrorCode(code or ErrorCode.INTERNAL_ERROR)
    except ValueError:
        return ErrorCode.INTERNAL_ERROR


def notifies(code: str | None) -> bool:
    """Whether a meeting failed with ``code`` gets a failure notice (if it has a recipient)."""
    return lookup(code).notifies


# The HTTP API's refusals that are answers only, never a meeting's outcome (the
# error body's ``code``; see the README's API section). ``daily_spend_limit`` is
# both: a 429 at the API, and a meeting's failure in Submit.
ANSWER_CODES: frozenset[str] = frozenset(
    {
        "bad_request",
        "unsupported_type",
        "unauthenticated",
        "forbidden",
        "conflict",
        "rate_limited",
        "anonymous_uploads_off",
        "code_invalid",
        "code_expired",
        "code_not_sent",
        "code_used",
        "trial_limit_address",
        "trial_limit_ip",
        "monthly_quota",
        "not_ready",
        "name_taken",
        "resend_limit",
    }
)

SILENT_CODES: tuple[str, ...] = tuple(c.value for c in ErrorCode if not c.notifies)
SELF_EXPLANATORY_CODES: frozenset[str] = frozenset(c.value for c in ErrorCode if c.self_explanatory)
