"""The one recipient check: what Amazon SES can deliver to, and why not otherwise."""

from __future__ import annotations

import pytest

from voxcliente.domain.recipients import UndeliverableAddress, deliverable_address, usable_address


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("ana@example.com", "ana@example.com"),
        ("  Luis@Example.COM ", "Luis@example.com"),  # the domain is case-insensitive
        ("ana.mendez+actas@sub.example.co", "ana.mendez+actas@sub.example.co"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        # IDN domains are converted to Punycode, which SES accepts
        ("ana@bücher.de", "ana@xn--bcher-kva.de"),
        ("ana@ejemplo.españa", "ana@ejemplo.xn--espaa-rta"),
        ("ana@xn--bcher-kva.de", "ana@xn--bcher-kva.de"),
        ("a" * 64 + "@example.com", "a" * 64 + "@example.com"),
    ],
)
def test_addresses_ses_can_deliver_to(given: str, stored: str) -> None:
    assert deliverable_address(given) == stored
    assert usable_address(given) == stored


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        # SES does not support SMTPUTF8: no non-ASCII local part
        ("josé@example.com", "non-ASCII"),
        ("ñandú@ejemplo.es", "non-ASCII"),
        ("ana@example.com\x00", "control"),
        ("ana\n@example.com", "control"),
        ("", "empty"),
        ("ana", "exactly one @"),
        ("ana@@example.com", "exactly one @"),
        ("@example.com", "before the @"),
        ("ana@", "before the @"),
        (".ana@example.com", "dots"),
        ("ana..m@example.com", "dots"),
        ('"ana m"@example.com', "dots"),
        ("a" * 65 + "@example.com", "64"),
        ("ana@localhost", "such as example.com"),
        ("ana@[192.0.2.1]", "such as example.com"),
        ("ana@example.com.", "such as example.com"),
        ("ana@-example.com", "such as example.com"),
        ("ana@exa_mple.com", "such as example.com"),
        ("ana@example.123", "such as example.com"),
        ("ana@" + "a" * 64 + ".com", "such as example.com"),
        ("ana@" + ("a" * 60 + ".") * 5 + "com", "such as example.com"),  # domain > 253
        ("a" * 64 + "@" + ("a" * 60 + ".") * 3 + "b" * 10 + ".com", "longer than 254"),
    ],
)
def test_addresses_ses_cannot_deliver_to_say_why(given: str, reason: str) -> None:
    with pytest.raises(UndeliverableAddress) as info:
        deliverable_address(given)
    assert reason in str(info.value)
    assert usable_address(given) is None


def test_missing_is_not_an_error_for_usable_address() -> None:
    assert usable_address(None) is None
    assert usable_address("   ") is None
