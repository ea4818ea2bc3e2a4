"""Every error SES v2 SendEmail can answer is classified on purpose: transient or final.

The table is ``voxcliente.adapters.ses_errors.SES_SEND_ERRORS``; botocore's own service model
and retry rules are the reference, so a new error in either fails here first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3
import botocore.session
import pytest
from botocore.retries.standard import ThrottledRetryableChecker, TransientRetryableChecker
from botocore.stub import Stubber

from voxcliente.adapters.ses import send_raw_email
from voxcliente.adapters.ses_errors import FINAL, SES_SEND_ERRORS, TRANSIENT, classify_ses_error
from voxcliente.domain.errors import ProviderError, TransientError

SENDER = "VoxCliente <actas@voxcliente.example>"
RECIPIENT = "lucia@example.com"


def send_email_error_shapes() -> dict[str, int]:
    """Error shape name -> HTTP status, from botocore's model of SES v2 SendEmail."""
    model = botocore.session.get_session().get_service_model("sesv2")
    shapes = model.operation_model("SendEmail").error_shapes
    return {s.name: int(s.metadata.get("error", {}).get("httpStatusCode", 400)) for s in shapes}


@dataclass(frozen=True)
class Raised:
    kind: type[Exception]
    code: str
    message: str


def fail_send(code: str, status: int) -> Raised:
    """What ``send_raw_email`` raises when SES answers ``code`` with ``status``."""
    client = boto3.client("sesv2", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error(
        "send_email",
        service_error_code=code,
        service_message=f"What SES said about {code}.",
        http_status_code=status,
    )
    with stubber, pytest.raises((TransientError, ProviderError)) as caught:
        send_raw_email(
            b"x", sender=SENDER, recipient=RECIPIENT, configuration_set=None, ses_client=client
        )
    return Raised(type(caught.value), caught.value.code, caught.value.message)


# --------------------------------------------------------------------------- the table


def test_every_error_botocore_models_for_send_email_is_classified() -> None:
    modeled = send_email_error_shapes()

    missing = sorted(set(modeled) - set(SES_SEND_ERRORS))

    assert len(modeled) >= 8  # the model loaded (8 shapes in botocore 1.44)
    assert missing == [], (
        f"botocore's SES v2 SendEmail model has errors without a decision: {missing}. "
        "Add each to voxcliente.adapters.ses_errors.SES_SEND_ERRORS as transient or final, "
        "with the reason."
    )


def test_every_code_botocore_retries_is_transient() -> None:
    # botocore's own lists, private and absent from its stubs: read as they are.
    retried = set(TransientRetryableChecker._TRANSIENT_ERROR_CODES) | set(  # type: ignore[attr-defined]
        ThrottledRetryableChecker._THROTTLED_ERROR_CODES  # type: ignore[attr-defined]
    )

    wrong = sorted(code for code in retried if SES_SEND_ERRORS.get(code, (None,))[0] != TRANSIENT)

    assert retried, "botocore's retry rules were not found"
    assert wrong == [], f"botocore retries these, but the table does not say transient: {wrong}"


def test_every_entry_is_transient_or_final_with_a_reason() -> None:
    for code, (kind, reason) in SES_SEND_ERRORS.items():
        assert kind in {TRANSIENT, FINAL}, code
        assert reason.endswith("."), code


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("TooManyRequestsException", TRANSIENT),
        ("LimitExceededException", TRANSIENT),
        ("SendingPausedException", TRANSIENT),
        ("MailFromDomainNotVerifiedException", TRANSIENT),
        ("MessageRejected", FINAL),
        ("AccountSuspendedException", FINAL),
        ("NotFoundException", FINAL),
        ("BadRequestException", FINAL),
        ("Throttling", TRANSIENT),
        ("ThrottlingException", TRANSIENT),
        ("RequestTimeout", TRANSIENT),
        ("ServiceUnavailable", TRANSIENT),
        ("InternalFailure", TRANSIENT),
    ],
)
def test_the_decisions(code: str, kind: str) -> None:
    assert classify_ses_error(code)[0] == kind


# --------------------------------------------------------------------------- what a send raises


@pytest.mark.parametrize(("code", "status"), sorted(send_email_error_shapes().items()))
def test_each_modeled_error_raises_its_class(code: str, status: int) -> None:
    kind, reason = SES_SEND_ERRORS[code]

    got = fail_send(code, status)

    if kind == TRANSIENT:
        assert (got.kind, got.code) == (TransientError, "ses_unavailable")
    else:
        assert (got.kind, got.code) == (ProviderError, "ses_rejected")
    # The stored reason names the code, our explanation and SES's own words.
    assert got.message.startswith(f"SES {code} (HTTP {status}): {reason}")
    assert f"What SES said about {code}." in got.message


def test_an_acta_sent_during_a_sending_pause_is_retried_not_lost() -> None:
    got = fail_send("SendingPausedException", 400)

    assert got.kind is TransientError
    assert "paused" in got.message


@pytest.mark.parametrize("status", [400, 403, 500])
def test_an_unknown_code_is_transient_and_logged_for_classification(status: int) -> None:
    with mock.patch("voxcliente.adapters.ses.logger.warning") as warning:
        got = fail_send("BrandNewSesException", status)

    assert (got.kind, got.code) == (TransientError, "ses_unavailable")
    [call] = warning.call_args_list
    assert "SES_SEND_ERRORS" in call.args[0]
    extra: dict[str, Any] = call.kwargs["extra"]
    assert extra["ses_error"] == "BrandNewSesException"
    assert extra["status"] == status


def test_a_known_code_is_not_reported_as_unclassified() -> None:
    with mock.patch("voxcliente.adapters.ses.logger.warning") as warning:
        fail_send("MessageRejected", 400)

    warning.assert_not_called()
