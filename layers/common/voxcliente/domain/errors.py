"""Domain errors: what went wrong, in words a person can act on.

Every error that ends a meeting carries a stable ``code`` (stored in
``meetings.error_code``) and a ``message`` written for the person waiting
for the acta (stored in ``meetings.error_message`` and sent in the failure
notice).
"""

from __future__ import annotations


class VoxError(Exception):
    """Base class of the project's own errors."""

    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigurationError(VoxError):
    """A setting is missing or invalid; the message names the variable."""

    code = "configuration_error"


class InputRejected(VoxError):
    """The file or request cannot become an acta; retrying will not help."""

    code = "input_rejected"


class ProviderError(VoxError):
    """An outside service (AssemblyAI, OpenAI, SES) refused the request for good."""

    code = "provider_error"


class TransientError(VoxError):
    """Worth retrying: a service was unreachable, overloaded or timed out."""

    code = "transient_error"


class OutcomeUnknown(TransientError):
    """A request was sent and no answer came back (a read timeout, a dropped
    connection): the service may have done it. Not to be repeated blindly."""

    code = "outcome_unknown"


class NotFound(VoxError):
    """The thing asked for does not exist (or is not yours to see)."""

    code = "not_found"


class ObjectGone(VoxError):
    """The uploaded file was deleted, or may no longer be read, before it was checked."""

    code = "file_missing"
