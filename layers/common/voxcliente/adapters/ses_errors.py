"""Every error SES v2 ``SendEmail`` can answer, and whether trying again may help.

Kept apart from :mod:`voxcliente.adapters.ses` (which builds and sends the
message) because it is a table that grows with SES, checked against botocore's
model by tests/unit/test_ses_errors.py.
"""

from __future__ import annotations

# Every error SES v2 ``SendEmail`` can answer, decided once: ``transient`` (the
# same request may succeed later: TransientError, the queue retries it within its
# receive limit) or ``final`` (this message can never be sent as it is:
# ProviderError, the meeting fails with the reason). tests/unit/test_ses_errors.py
# fails when botocore's model of SendEmail gains an error missing here.
# Sources: SES API v2 reference, SendEmail "Errors" and the error shapes' docs in
# botocore's sesv2 model; SES developer guide, "Service quotas in Amazon SES";
# AWS "Common Errors" of every API; botocore/retries/standard.py.
TRANSIENT = "transient"
FINAL = "final"
SES_SEND_ERRORS: dict[str, tuple[str, str]] = {
    # --- the error shapes of SendEmail in botocore's sesv2 model ------------------
    "TooManyRequestsException": (
        TRANSIENT,
        "SES is throttling this account (sending rate exceeded); try again later.",
    ),
    "LimitExceededException": (
        TRANSIENT,
        "An SES sending limit was reached (such as the 24-hour quota, which is a "
        "rolling window); try again later.",
    ),
    # A pause is a state that ends: AWS lifts an account pause after its review,
    # and an operator re-enables a paused configuration set. Failing for good
    # would lose every acta of the pause; the queue's receive limit bounds retries.
    "SendingPausedException": (
        TRANSIENT,
        "Sending is paused for the SES account or the configuration set; the message "
        "is sent once sending is resumed.",
    ),
    # Only returned when the identity's custom MAIL FROM is set to RejectMessage and
    # SES cannot read its MX record (states Pending, Failed, TemporaryFailure: SES
    # API v2 reference, MailFromAttributes). An operator fixes DNS, or the DNS
    # failure was temporary: nothing is wrong with this message, so retry.
    "MailFromDomainNotVerifiedException": (
        TRANSIENT,
        "SES cannot read the MX record of the sender's custom MAIL FROM domain; the "
        "message is sent once that DNS record resolves.",
    ),
    # Invalid content, an unverified sender, a message over the size limit: the
    # same bytes are refused the same way every time.
    "MessageRejected": (FINAL, "SES rejected the message itself."),
    "AccountSuspendedException": (
        FINAL,
        "The SES account's ability to send email has been permanently restricted.",
    ),
    # A configuration set (or other named resource) that does not exist: the
    # request is wrong as built and no retry creates the resource.
    "NotFoundException": (FINAL, "A resource named in the request does not exist in SES."),
    "BadRequestException": (FINAL, "SES found the request invalid."),
    # --- codes botocore's standard retry mode retries (throttling, transient) ----
    "Throttling": (TRANSIENT, "SES is throttling requests; try again later."),
    "ThrottlingException": (TRANSIENT, "SES is throttling requests; try again later."),
    "ThrottledException": (TRANSIENT, "SES is throttling requests; try again later."),
    "RequestThrottledException": (TRANSIENT, "SES is throttling requests; try again later."),
    "RequestThrottled": (TRANSIENT, "SES is throttling requests; try again later."),
    "RequestLimitExceeded": (TRANSIENT, "SES is throttling requests; try again later."),
    "BandwidthLimitExceeded": (TRANSIENT, "SES is throttling bandwidth; try again later."),
    "SlowDown": (TRANSIENT, "SES asked to slow down; try again later."),
    "ProvisionedThroughputExceededException": (TRANSIENT, "Throughput exceeded; try again."),
    "TransactionInProgressException": (TRANSIENT, "A conflicting request is in progress."),
    "EC2ThrottledException": (TRANSIENT, "Requests are being throttled; try again later."),
    "PriorRequestNotComplete": (TRANSIENT, "A previous request is still being processed."),
    "RequestTimeout": (TRANSIENT, "The request to SES timed out."),
    "RequestTimeoutException": (TRANSIENT, "The request to SES timed out."),
    # --- errors common to every AWS API (AWS "Common Errors") ---------------------
    "InternalFailure": (TRANSIENT, "SES failed internally; try again later."),
    "InternalServiceErrorException": (TRANSIENT, "SES failed internally; try again later."),
    "ServiceUnavailable": (TRANSIENT, "SES is temporarily unavailable."),
    "RequestExpired": (TRANSIENT, "The signed request reached SES too late; a new one is sent."),
    "ExpiredTokenException": (TRANSIENT, "The credentials expired; new ones are used next time."),
    # SES v1 (and moto, which answers v2 with v1's backend) for an invalid address.
    "InvalidParameterValue": (FINAL, "SES found a parameter of the request invalid."),
}
# An unknown code is retried (with a warning to add it above): the receive limit
# of the queue bounds the cost, and guessing "final" would lose the acta.
UNKNOWN_SES_ERROR = (TRANSIENT, "SES answered an error this code does not know.")


def classify_ses_error(code: str) -> tuple[str, str]:
    """``(TRANSIENT | FINAL, reason)`` for an SES ``SendEmail`` error code."""
    return SES_SEND_ERRORS.get(code, UNKNOWN_SES_ERROR)
