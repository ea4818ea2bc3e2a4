"""Turn a rendered email (:mod:`voxcliente.render`) into a MIME message and send it with SES.

The message is ``multipart/mixed``: first a ``multipart/alternative`` with the
plain text and the HTML, then the attachments. It is built with the standard
library's ``EmailMessage`` under ``policy.SMTP`` (7-bit), which writes CRLF line
endings, RFC 2047 encoded-words for non-ASCII headers and RFC 2231 parameters
for non-ASCII file names, and keeps every body line under SMTP's 998
characters (SES v2 ``RawMessage``: lines of at most 1,000 characters).

Header injection is ruled out by construction: the sender, recipient and
reply-to are each parsed as exactly one address (a CR, LF, comma-separated
list or a second address is a ``ValueError``) and the subject, which comes
from model text, is reduced to a single line of printable characters.

Sending uses SES v2 ``SendEmail`` with ``Content={"Raw": {"Data": ...}}``:
the SDK base64-encodes the bytes. SES replaces any ``Date`` and
``Message-ID`` header with its own (SES developer guide, "Amazon SES header
fields"), so the ones written here matter only locally.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from email.utils import format_datetime, getaddresses, make_msgid
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from voxcliente.adapters.ses_errors import FINAL, SES_SEND_ERRORS, classify_ses_error
from voxcliente.domain import recipients
from voxcliente.domain.errors import OutcomeUnknown, ProviderError, TransientError
from voxcliente.observability import logger
from voxcliente.text import one_line

if TYPE_CHECKING:
    from email.headerregistry import Address
    from email.message import EmailMessage, MIMEPart
    from email.policy import EmailPolicy

    from voxcliente.render import RenderedEmail
    from voxcliente.settings import Settings

# SES v2 accepts messages up to 40 MB including attachments, "after base64
# encoding": the MIME message as built here, attachments base64-encoded inside it
# (SES developer guide, "Service quotas in Amazon SES"; v1 stays at 10 MB).
SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024
MAX_SUBJECT_CHARS = 200


# SMTP line endings and 7-bit output: SES asks that content outside 7-bit ASCII
# be encoded (SES v2 API reference, RawMessage). Text parts use quoted-printable,
# which keeps Spanish readable in the source and lines under 76 characters.
# Built on first use: email.policy and its header registry cost a function that
# only reads SES events (EmailEvents) some 6 ms of its cold start.
@lru_cache(maxsize=1)
def _policy() -> EmailPolicy[EmailMessage]:
    from email import policy

    return policy.SMTP.clone(cte_type="7bit")


_TEXT_CTE = "quoted-printable"

# The EmailTags every message of a meeting carries (see send_raw_email).
TAG_MEETING = "voxcliente_meeting_id"
TAG_KIND = "voxcliente_email_kind"


def meeting_tags(meeting_id: object, kind: str) -> dict[str, str]:
    return {TAG_MEETING: str(meeting_id), TAG_KIND: kind}


def parse_single_address(value: str, *, field: str) -> Address:
    """Exactly one mailbox (``a@b.example`` or ``Name <a@b.example>``), or ValueError.

    Rejects CR, LF and every other control character, lists (``a@x, b@y``),
    groups, and any address :func:`voxcliente.domain.recipients.deliverable_address`
    refuses; an internationalised domain is converted to its IDNA (punycode) form.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field}: an email address is required.")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in value):
        raise ValueError(f"{field}: control characters are not allowed in an address.")
    parsed = getaddresses([value])
    if len(parsed) != 1:
        raise ValueError(f"{field}: exactly one address is allowed, got {len(parsed)}.")
    display_name, addr_spec = parsed[0]
    if not display_name and "<" not in value and value.strip() != addr_spec:
        # getaddresses() is lenient: "a@b c@d" must not quietly become one address.
        raise ValueError(f"{field}: {value!r} is not a single plain email address.")
    try:
        # The same check as every address we store (the domain comes back as IDNA).
        addr_spec = recipients.deliverable_address(addr_spec)
    except recipients.UndeliverableAddress as exc:
        raise ValueError(f"{field}: {value!r} cannot be used: {exc}.") from exc
    from email.headerregistry import Address

    return Address(display_name=display_name, addr_spec=addr_spec)


def clean_subject(subject: str, *, limit: int = MAX_SUBJECT_CHARS) -> str:
    """One line of printable text (:func:`voxcliente.text.one_line`), cut to ``limit``."""
    cleaned = one_line(subject)
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned or "VoxCliente"


def build_mime(
    rendered: RenderedEmail,
    *,
    sender: str,
    recipient: str,
    reply_to: str | None,
    message_id_domain: str | None = None,
) -> bytes:
    """The raw message: ``multipart/mixed(multipart/alternative(text, html), attachments...)``.

    ``sender`` may carry a display name (``VoxCliente <actas@x.example>``);
    ``recipient`` and ``reply_to`` must each be one address. Raises ValueError
    for anything else.
    """
    from_address = parse_single_address(sender, field="sender")
    to_address = parse_single_address(recipient, field="recipient")
    reply_address = parse_single_address(reply_to, field="reply_to") if reply_to else None

    from email.message import EmailMessage

    message = EmailMessage(policy=_policy())
    message["From"] = from_address
    message["To"] = to_address
    if reply_address is not None:
        message["Reply-To"] = reply_address
    message["Subject"] = clean_subject(rendered.subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    # make_msgid() without a domain asks the resolver for this host's FQDN: slow in Lambda.
    message["Message-ID"] = make_msgid(domain=message_id_domain or from_address.domain)
    # RFC 3834: automatic messages; asks auto-responders (out of office) not to answer.
    message["Auto-Submitted"] = "auto-generated"

    bodies = _Bodies()
    message.set_content("", subtype="plain", charset="utf-8", cte=_TEXT_CTE)
    message.add_alternative("", subtype="html", charset="utf-8", cte=_TEXT_CTE)
    for part, text in zip(message.iter_parts(), (rendered.text, rendered.html), strict=True):
        bodies.quoted_printable(part, text)
    for filename, mime_type, data in rendered.attachments:
        _attach(message, bodies, filename, mime_type, data)
    return bodies.fill(message.as_bytes(policy=_policy()))


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _Bodies:
    """Text bodies encoded by :mod:`binascii` and put into the generated message.

    The email package encodes quoted-printable in pure Python and its generator
    then splits every body into lines with regular expressions, twice (line
    endings, and a search for the boundary in the whole text): for a 10-hour
    meeting's transcript (800 kB) that was some 35 ms of the acta worker's time.
    So each text part is given its headers by ``set_content`` and, as its body,
    a line naming it (a random token); the generated bytes then get each body,
    encoded here, in place of its line.

    Each body is what ``set_content`` would have encoded (the text's lines, as
    ``bytes.splitlines`` splits them, each ending in a line feed), encoded by
    ``binascii.b2a_qp``: quoted-printable lines of at most 76 characters (RFC
    2045, 6.7), ``=`` always escaped, so no body can contain the generator's
    boundary (``===============`` and digits) or another part's token; CRLF
    line endings, as ``policy.SMTP`` writes every other line.
    """

    def __init__(self) -> None:
        import secrets

        self._prefix = f"voxcliente-body-{secrets.token_hex(16)}-"
        self._bodies: list[bytes] = []

    def quoted_printable(self, part: MIMEPart, text: str) -> None:
        import binascii

        data = _normalise_newlines(text).encode("utf-8")
        if not data.endswith(b"\n"):
            data += b"\n"
        encoded = binascii.b2a_qp(data, istext=True)
        part.set_payload(f"{self._prefix}{len(self._bodies)}\n")
        self._bodies.append(encoded.replace(b"\n", b"\r\n"))

    def fill(self, raw: bytes) -> bytes:
        for number, body in enumerate(self._bodies):
            head, found, tail = raw.partition(f"{self._prefix}{number}\r\n".encode("ascii"))
            if not found:
                raise RuntimeError(f"body {number} is missing from the generated message")
            raw = head + body + tail
        return raw


def _attach(
    message: EmailMessage, bodies: _Bodies, filename: str, mime_type: str, data: bytes
) -> None:
    maintype, _, subtype = mime_type.partition("/")
    if not maintype or not subtype or any(ch in mime_type for ch in "\r\n;"):
        raise ValueError(f"Attachment {filename!r}: invalid MIME type {mime_type!r}.")
    safe_name = clean_subject(filename, limit=150).replace("/", "-").replace("\\", "-")
    if maintype == "text":
        # Text stays text (charset=utf-8) so that mail clients preview it correctly.
        message.add_attachment(
            "", subtype=subtype, charset="utf-8", cte=_TEXT_CTE, filename=safe_name
        )
        *_, part = message.iter_parts()
        bodies.quoted_printable(part, data.decode("utf-8"))
    else:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=safe_name)


# --------------------------------------------------------------------------- SES


def send_rendered(
    rendered: RenderedEmail, *, recipient: str, settings: Settings, tags: dict[str, str]
) -> str:
    """Build ``rendered`` for ``recipient`` with the settings' sender, reply-to and
    configuration set, and send it (:func:`build_mime`, then :func:`send_raw_email`)."""
    raw = build_mime(
        rendered, sender=settings.ses_from, recipient=recipient, reply_to=settings.ses_reply_to
    )
    return send_raw_email(
        raw,
        sender=settings.ses_from,
        recipient=recipient,
        configuration_set=settings.ses_configuration_set,
        tags=tags,
    )


def send_raw_email(
    raw: bytes,
    *,
    sender: str,
    recipient: str,
    configuration_set: str | None,
    ses_client: Any | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    """Send a message built by :func:`build_mime` through SES v2; return SES's MessageId.

    ``tags`` become the message's ``EmailTags``: SES repeats them in every event
    of the configuration set (``mail.tags``), the Send event included, which is
    how a message whose MessageId we never stored is found again.

    Raises ValueError for a message over :data:`SES_MAX_MESSAGE_BYTES` or a bad
    address; :class:`ProviderError` (``ses_rejected``) when SES refuses it for
    good; :class:`TransientError` (``ses_unavailable``) when SES answered that
    trying again later may work, or could not be reached at all (every code
    :data:`SES_SEND_ERRORS` marks transient or does not know);
    :class:`OutcomeUnknown` when the request went out and no answer came back
    (SES may have accepted it: do not send it again blindly).
    """
    if len(raw) > SES_MAX_MESSAGE_BYTES:
        raise ValueError(
            f"The message is {len(raw):,} bytes; SES accepts at most {SES_MAX_MESSAGE_BYTES:,}."
        )
    from_address = parse_single_address(sender, field="sender")
    to_address = parse_single_address(recipient, field="recipient")
    client = ses_client if ses_client is not None else get_ses_client()

    request: dict[str, Any] = {
        # The bare addresses: the headers inside the raw message carry the display names.
        "FromEmailAddress": from_address.addr_spec,
        "Destination": {"ToAddresses": [to_address.addr_spec]},
        "Content": {"Raw": {"Data": raw}},
    }
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    if tags:
        # Tag names and values: ASCII letters, digits, '_' and '-', at most 256
        # characters (SES API v2 reference, MessageTag).
        request["EmailTags"] = [{"Name": k, "Value": v} for k, v in tags.items()]

    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        HTTPClientError,
        ReadTimeoutError,
    )
    from botocore.exceptions import ConnectionError as BotoConnectionError

    try:
        response = client.send_email(**request)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        kind, reason = classify_ses_error(code)
        extra = {"ses_error": code, "status": status, "classified_as": kind}
        if code not in SES_SEND_ERRORS:
            logger.warning(
                "Unclassified SES error code: retried as transient; classify it in "
                "voxcliente.adapters.ses_errors.SES_SEND_ERRORS",
                extra=extra,
            )
        logger.exception("SES refused the message", extra=extra)
        detail = f"SES {code or 'error'} (HTTP {status}): {reason} {error.get('Message', '')}"
        if kind == FINAL:
            raise ProviderError(detail.strip(), code="ses_rejected") from exc
        raise TransientError(detail.strip(), code="ses_unavailable") from exc
    except (ReadTimeoutError, ConnectionClosedError) as exc:
        # The request left; whether SES accepted it is unknown.
        logger.exception("SES did not answer; the message may have been accepted")
        raise OutcomeUnknown(
            f"SES did not answer ({type(exc).__name__}); the message may have been sent.",
            code="ses_unavailable",
        ) from exc
    except (BotoConnectionError, HTTPClientError) as exc:
        # Not connected (endpoint unreachable, connect timeout): nothing was sent.
        logger.exception("SES could not be reached")
        raise TransientError(f"SES could not be reached: {exc}", code="ses_unavailable") from exc
    return str(response["MessageId"])


def get_ses_client() -> Any:
    """The SES v2 client of this execution environment (``AWS_ENDPOINT_URL`` honoured by boto3)."""
    from voxcliente.adapters import aws

    return aws.client("sesv2")
