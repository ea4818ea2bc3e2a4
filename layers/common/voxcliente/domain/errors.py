"""Domain errors: what went wrong, in words a person can act on.

Every error that ends a meeting carries a stable ``code`` (stored in
``meetings.error_code``) and a ``message`` written for the person waiting
for the acta (stored in ``meetings.error_message`` and sent in the failure
notice). The codes are the registry's (``voxcliente.domain.error_codes``), so
one list says what each means for the person.
"""

from __future__ import annotations

from voxcliente.domain.error_codes import ErrorCode


class VoxError(Exception):
    """Base class of the project's own errors."""

    code: str = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigurationError(VoxError):
    """A setting is missing or invalid; the message names the variable."""

    code = ErrorCode.CONFIGURATION_ERROR


class InputRejected(VoxError):
    """The file or request cannot become an acta; retrying will not help."""

    # str: the upload API's refusals (bad_request...) are answers, not meeting outcomes.
    code: str = ErrorCode.INPUT_REJECTED


class ProviderError(VoxError):
    """An outside service (AssemblyAI, OpenAI, SES) refused the request for good."""

    code = ErrorCode.PROVIDER_ERROR


class TransientError(VoxError):
    """Worth retrying: a service was unreachable, overloaded or timed out."""

    code = ErrorCode.TRANSIENT_ERROR


class OutcomeUnknown(TransientError):
    """A request was sent and no answer came back (a read timeout, a dropped
    connection): the service may have done it. Not to be repeated blindly."""

    code = ErrorCode.OUTCOME_UNKNOWN


class NotFound(VoxError):
    """The thing asked for does not exist (or is not yours to see)."""

    code = ErrorCode.NOT_FOUND


class ObjectGone(VoxError):
    """The uploaded file was deleted, or may no longer be read, before it was checked."""

    code = ErrorCode.FILE_MISSING


class RateLimited(VoxError):
    """429: a limit was reached (trial limits, the daily spend guard, a monthly
    quota); ``retry_after_s`` is when trying again can succeed (Retry-After)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = max(1, int(retry_after_s))


class Conflict(VoxError):
    """409: the request clashes with the thing's state (a name taken, no acta yet)."""

    code = "conflict"


class MeetingErased(InputRejected):
    """The meeting was erased while a step was under way: its result is not stored."""

    code = ErrorCode.ERASED

    def __init__(self, meeting_id: object) -> None:
        super().__init__(f"Meeting {meeting_id} was erased; its result is not kept.")
