"""SES v2 ``SendEmail`` as strict as SES, where moto is not.

Sources: SES developer guide, "Service quotas in Amazon SES" (40 MB per message
through the v2 API, after base64 encoding) and "Why am I getting a 400 Message
rejected error with the message Email address is not verified" (AWS re:Post
knowledge center); SES API v2 reference, "SendEmail" (errors NotFoundException,
BadRequestException) and "MessageTag"
(docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.parser import HeaderParser
from email.policy import HTTP
from email.utils import getaddresses, parseaddr
from typing import Any

# --------------------------------------------------------------------------- SES v2

# SES v2 (and SMTP): 40 MB per message including attachments, after base64
# encoding, that is the MIME message as sent; not adjustable.
SES_V2_MAX_MESSAGE_BYTES = 40 * 1024 * 1024
# The headers whose addresses SES requires to be verified identities (From,
# Sender, Return-Path; Reply-To is exempt).
_SENDER_HEADERS = ("From", "Sender", "Return-Path")


# MessageTag (SES API v2 reference): a tag's Name and Value "can only contain ASCII
# letters (a-z, A-Z), numbers (0-9), underscores (_), or dashes (-)" and "no more
# than 256 characters".
SES_TAG_MAX_CHARS = 256
_SES_TAG_TEXT = re.compile(r"[A-Za-z0-9_-]*")


def check_email_tags(tags: Any) -> str | None:
    """Why SES refuses these ``EmailTags`` (the error message), or None if it takes them.

    The wording is SES's own for a tag outside the character set ("Invalid tag
    value <...>: only alphanumeric ASCII characters, '_', and '-' are allowed.",
    as AWS answers it, quoted in localstack/localstack#8588); the length message
    keeps that shape.
    """
    for tag in tags or []:
        for part in ("Name", "Value"):
            text = str(tag.get(part, "")) if isinstance(tag, dict) else ""
            label = part.lower()
            if not _SES_TAG_TEXT.fullmatch(text):
                return (
                    f"Invalid tag {label} <{text}>: only alphanumeric ASCII characters, "
                    "'_', and '-' are allowed."
                )
            if len(text) > SES_TAG_MAX_CHARS:
                return (
                    f"Invalid tag {label} <{text[:32]}...>: it has {len(text)} characters; "
                    f"at most {SES_TAG_MAX_CHARS} are allowed."
                )
    return None


@contextmanager
def strict_ses() -> Iterator[None]:
    """While active, moto's SES v2 ``SendEmail`` (raw content) refuses, like SES:

    * a ``ConfigurationSetName`` the account does not have in that region:
      ``NotFoundException`` (404), "Configuration set <name> does not exist.";
    * ``EmailTags`` whose Name or Value is not ASCII letters, digits, ``_`` and
      ``-``, or is over 256 characters: ``BadRequestException`` (400, the v2 code
      for what v1 answers ``InvalidParameterValue``);
    * a message over :data:`SES_V2_MAX_MESSAGE_BYTES`: ``MessageRejected``,
      "Message length is more than <limit> bytes long: '<size>'.";
    * a ``FromEmailAddress`` or a From / Sender / Return-Path header that is not
      a verified identity (the address or its domain): ``MessageRejected``,
      "Email address is not verified. The following identities failed the check
      in region <REGION>: <addresses>".

    The account is modelled out of the sandbox: recipients need no verification.
    Patches the backend and response classes, so both moto's server and
    ``mock_aws`` obey it.
    """
    from unittest import mock

    from moto.core.exceptions import ServiceException
    from moto.ses.exceptions import MessageRejectedError
    from moto.sesv2.models import SESV2Backend
    from moto.sesv2.responses import SESV2Response

    class NotFoundException(ServiceException):
        code = "NotFoundException"

    class BadRequestException(ServiceException):
        code = "BadRequestException"

    original_send_email: Any = SESV2Response.send_email

    def send_email(self: Any) -> Any:
        # moto's handler drops ConfigurationSetName and EmailTags before the backend.
        params = json.loads(self.body or "{}")
        name = params.get("ConfigurationSetName")
        if name is not None and name not in self.sesv2_backend.core_backend.config_sets:
            raise NotFoundException(f"Configuration set {name} does not exist.")
        refusal = check_email_tags(params.get("EmailTags"))
        if refusal is not None:
            raise BadRequestException(refusal)
        return original_send_email(self)

    original: Any = SESV2Backend.send_raw_email

    def send_raw_email(
        self: Any, source: str | None, destinations: list[str], raw_data: str
    ) -> Any:
        size = len(raw_data.encode("utf-8"))
        if size > SES_V2_MAX_MESSAGE_BYTES:
            raise MessageRejectedError(
                f"Message length is more than {SES_V2_MAX_MESSAGE_BYTES} bytes long: '{size}'."
            )
        unverified = [
            address
            for address in sender_addresses(source, raw_data)
            if not self.core_backend._is_verified_address(address)
        ]
        if unverified:
            raise MessageRejectedError(
                "Email address is not verified. The following identities failed the "
                f"check in region {self.region_name.upper()}: {', '.join(unverified)}"
            )
        return original(self, source, destinations, raw_data)

    with (
        mock.patch.object(SESV2Backend, "send_raw_email", send_raw_email),
        mock.patch.object(SESV2Response, "send_email", send_email),
    ):
        yield


def sender_addresses(source: str | None, raw_data: str) -> list[str]:
    """The addresses SES checks: the envelope sender and the sender headers, once each."""
    header_block = raw_data.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
    headers = HeaderParser(policy=HTTP).parsestr(header_block + "\r\n\r\n")
    found: list[str] = []
    if source:
        found.append(parseaddr(source)[1])
    for name in _SENDER_HEADERS:
        values = [str(v) for v in headers.get_all(name) or []]
        found.extend(address for _, address in getaddresses(values) if address)
    return list(dict.fromkeys(a for a in found if a))
