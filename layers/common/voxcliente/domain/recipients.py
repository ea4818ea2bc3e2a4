"""Recipients: the one check of an email address we are about to store and send to.

What matters is not whether an address is valid in the abstract but whether
Amazon SES can deliver to it. SES does not support the SMTPUTF8 extension
(RFC 6531): addresses must be 7-bit ASCII, a domain with Unicode characters
must be sent as Punycode, and Punycode is not permitted in the local part
(SES API reference, ``Destination``). So:

* the local part is an ASCII dot-atom (RFC 5322 ``atext``; no quoted strings);
* an internationalised domain is converted with IDNA 2008 / UTS #46 (the
  ``idna`` package, imported only for such domains);
* RFC 5321 limits: 64 octets for the local part, 253 for the domain, 254 in all.

The result is the address as we store and send it: the local part as given,
the domain in lower-case ASCII. A ``ValueError`` subclass names what is wrong,
in a sentence the sender can act on.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LOCAL = 64
MAX_DOMAIN = 253
MAX_ADDRESS = 254

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class UndeliverableAddress(ValueError):
    """The address cannot be used; the message says why."""


def deliverable_address(value: str) -> str:
    """The address in the form SES can deliver to, or ``UndeliverableAddress``."""
    address = unicodedata.normalize("NFC", value).strip()
    if not address:
        raise UndeliverableAddress("the address is empty")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in address):
        raise UndeliverableAddress("the address contains control characters")
    if address.count("@") != 1:
        raise UndeliverableAddress("an address has exactly one @, as in name@example.com")
    local, domain = address.split("@")
    if not local or not domain:
        raise UndeliverableAddress("an address needs a name before the @ and a domain after it")
    if not local.isascii():
        raise UndeliverableAddress(
            "the part before the @ has accents or other non-ASCII characters, "
            "which our email service (Amazon SES) cannot send to; use an address "
            "without them"
        )
    if not _DOT_ATOM.fullmatch(local):
        raise UndeliverableAddress(
            "the part before the @ may hold letters, digits, dots (not at the ends, "
            "not two in a row) and ! # $ % & ' * + / = ? ^ _ ` { | } ~ -"
        )
    if len(local) > MAX_LOCAL:
        raise UndeliverableAddress(f"the part before the @ is longer than {MAX_LOCAL} characters")
    ascii_domain = _ascii_domain(domain)
    result = f"{local}@{ascii_domain}"
    if len(result) > MAX_ADDRESS:
        raise UndeliverableAddress(f"the address is longer than {MAX_ADDRESS} characters")
    return result


def usable_address(value: str | None) -> str | None:
    """The deliverable form of ``value``, or None if it is missing or cannot be used."""
    if value is None or not value.strip():
        return None
    try:
        return deliverable_address(value)
    except UndeliverableAddress:
        return None


def _ascii_domain(domain: str) -> str:
    if domain.startswith("[") or domain.endswith("."):
        raise UndeliverableAddress("the domain after the @ must be a name such as example.com")
    if domain.isascii():
        ascii_domain = domain.lower()
    else:
        import idna  # IDNA 2008 with UTS #46 mapping; only for internationalised domains

        try:
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise UndeliverableAddress(
                f"the domain after the @ is not a valid international domain name ({exc})"
            ) from exc
    labels = ascii_domain.split(".")
    if (
        len(labels) < 2
        or len(ascii_domain) > MAX_DOMAIN
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise UndeliverableAddress(
            "the domain after the @ must be a name such as example.com (letters, digits "
            "and hyphens, at least one dot)"
        )
    return ascii_domain
