"""Strict AWS doubles: the rules of S3 and SES that moto leaves out, enforced.

moto stores whatever a browser POSTs to a bucket and sends mail of any size.
This module adds, in front of or around moto:

* :func:`check_post_policy`: S3's evaluation of a browser-based upload (a
  presigned POST): the SigV4 signature of the policy, its expiration and every
  condition against the form fields and the file size, refused with the error S3
  answers. :class:`PostPolicyMiddleware` applies it to every form POST a moto
  server receives, and :class:`StrictMotoServer` is moto's threaded server with
  that middleware in front.
* :func:`strict_ses`: SES v2 ``SendEmail`` refuses a sender that is not a
  verified identity, a message over 40 MB, a configuration set the account does
  not have and message tags outside SES's character set, as SES does.

Sources: S3 API reference, "Authenticating Requests: Browser-Based Uploads Using
POST (AWS Signature Version 4)", "Creating a POST Policy" and "Error Responses";
S3 user guide, "HTML Forms" (fields after the file are ignored, the fields before
it at most 20 KB, every field but a few must be named by a condition); SES
developer guide, "Service quotas in Amazon SES" (40 MB per message through the v2
API, after base64 encoding) and "Why am I getting a 400 Message rejected error
with the message Email address is not verified" (AWS re:Post knowledge center);
SES API v2 reference, "SendEmail" (errors NotFoundException, BadRequestException)
and "MessageTag" (docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import HeaderParser
from email.policy import HTTP
from email.utils import getaddresses, parseaddr
from typing import Any
from xml.sax.saxutils import escape

# --------------------------------------------------------------------------- S3 errors


class S3Error(Exception):
    """An error S3 answers to a POST upload: HTTP status, code, message, extra elements."""

    def __init__(self, status: int, code: str, message: str, **details: str | int | None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}

    def to_xml(self) -> bytes:
        """The body S3 sends: ``<Error><Code>..</Code><Message>..</Message>...</Error>``."""
        extra = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in self.details.items())
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>"
            f"{extra}</Error>"
        ).encode()


def _policy_denied(reason: str) -> S3Error:
    return S3Error(403, "AccessDenied", f"Invalid according to Policy: {reason}")


# --------------------------------------------------------------------------- the form


# The form fields before the file, boundaries included, may not exceed 20 KB.
MAX_PRE_DATA_BYTES = 20 * 1024
# Fields no condition has to name (SigV4 POST): the signature, the file, the policy.
_EXEMPT_FIELDS = frozenset({"x-amz-signature", "file", "policy"})


@dataclass(frozen=True)
class PostForm:
    """A parsed ``multipart/form-data`` upload: the fields before the file, and the file."""

    fields: list[tuple[str, str]]  # in order, names as sent
    filename: str | None = None
    file: bytes | None = field(default=None, repr=False)
    pre_data_bytes: int = 0  # bytes of the form before the file's content


def parse_form(body: bytes, content_type: str) -> PostForm:
    """Split a ``multipart/form-data`` body into its fields and its file, the way S3 reads it.

    The file is the part named ``file``; anything after it is ignored. Raises
    :class:`S3Error` (400 MalformedPOSTRequest) for a body that is not a form.
    """
    boundary = _boundary(content_type)
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    segments = (b"\r\n" + body).split(delimiter)
    fields: list[tuple[str, str]] = []
    offset = 0
    for segment in segments[1:]:
        if segment.startswith(b"--"):
            break  # the closing delimiter
        header_block, sep, content = segment.partition(b"\r\n\r\n")
        if not sep:
            raise _malformed()
        # Browsers send a non-ASCII file name as raw UTF-8 inside the quotes.
        text = header_block.lstrip(b" \t\r\n").decode("utf-8", "replace")
        headers = HeaderParser(policy=HTTP).parsestr(text + "\r\n\r\n")
        disposition: Any = headers.get("content-disposition")
        params = dict(getattr(disposition, "params", {}) or {})
        name = params.get("name")
        if name is None:
            raise _malformed()
        if name.lower() == "file":
            pre_data = offset + len(delimiter) + len(header_block) + len(sep)
            return PostForm(fields, params.get("filename"), content, pre_data)
        fields.append((name, content.decode("utf-8")))
        offset += len(delimiter) + len(segment)
    return PostForm(fields, None, None, offset)


def _boundary(content_type: str) -> str:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/form-data") or match is None:
        raise _malformed()
    return match.group(1)


def _malformed() -> S3Error:
    return S3Error(
        400,
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
    )


# --------------------------------------------------------------------------- the policy


def check_post_policy(
    form: PostForm,
    *,
    bucket: str,
    credentials: Mapping[str, str],
    now: datetime | None = None,
) -> None:
    """Accept the upload as S3 would, or raise the :class:`S3Error` S3 answers.

    ``credentials`` maps access key ids to secret keys (the signer's account).
    Checks, in order: the form's shape (size before the file, a ``key``, one
    file), the SigV4 signature of the policy, the policy document and its
    expiration, every condition (``eq`` / exact match, ``starts-with``,
    ``content-length-range``, ``bucket``) and that no form field is left
    unnamed by a condition.
    """
    if form.pre_data_bytes > MAX_PRE_DATA_BYTES:
        raise S3Error(
            400,
            "MaxPostPreDataLengthExceeded",
            "Your POST request fields preceeding the upload file was too large.",
        )
    values = _field_values(form.fields)
    if "key" not in values:
        raise S3Error(
            400,
            "InvalidArgument",
            "Bucket POST must contain a field named 'key'.  If it is specified, please "
            "check the order of the fields.",
            ArgumentName="key",
        )
    if form.file is None:
        raise S3Error(400, "InvalidArgument", "POST requires exactly one file upload per request.")
    if form.filename is not None:
        # ${filename} is the browser's file name, without any directory part.
        name = re.split(r"[/\\]", form.filename)[-1]
        values["key"] = values["key"].replace("${filename}", name)
    policy_b64 = values.get("policy")
    if policy_b64 is None:
        # Without a policy the request is anonymous: only a public-write bucket takes it.
        raise S3Error(403, "AccessDenied", "Access Denied")
    _verify_signature(values, policy_b64, credentials)
    policy = _decode_policy(policy_b64)
    _check_expiration(policy, now or datetime.now(UTC))
    named = _check_conditions(policy["conditions"], values, bucket, len(form.file))
    extra = [
        name
        for name, _ in form.fields
        if name.lower() not in named
        and name.lower() not in _EXEMPT_FIELDS
        and not name.lower().startswith("x-ignore-")
    ]
    if extra:
        raise _policy_denied(f"Extra input fields: {', '.join(extra)}")


def _field_values(fields: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case names to values; a repeated field's values joined by commas, as S3 does."""
    values: dict[str, str] = {}
    for name, value in fields:
        lowered = name.lower()
        values[lowered] = f"{values[lowered]},{value}" if lowered in values else value
    return values


def _verify_signature(
    values: Mapping[str, str], policy_b64: str, credentials: Mapping[str, str]
) -> None:
    algorithm = values.get("x-amz-algorithm")
    if algorithm != "AWS4-HMAC-SHA256":
        raise S3Error(
            400,
            "InvalidArgument",
            "Only AWS Signature Version 4 (x-amz-algorithm AWS4-HMAC-SHA256) is "
            f"supported here; got {algorithm!r}.",
            ArgumentName="x-amz-algorithm",
        )
    credential = values.get("x-amz-credential", "")
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or parts[3] != "s3":
        raise S3Error(
            400,
            "InvalidArgument",
            f"Invalid credential {credential!r}: expected "
            "<access key>/<yyyymmdd>/<region>/s3/aws4_request.",
            ArgumentName="x-amz-credential",
        )
    access_key, date, region, service, terminator = parts
    secret = credentials.get(access_key)
    if secret is None:
        raise S3Error(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            AWSAccessKeyId=access_key,
        )
    key = f"AWS4{secret}".encode()
    for scope in (date, region, service, terminator):
        key = hmac.new(key, scope.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()
    given = values.get("x-amz-signature", "")
    if not hmac.compare_digest(expected, given):
        raise S3Error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you "
            "provided. Check your key and signing method.",
            AWSAccessKeyId=access_key,
            StringToSign=policy_b64,
        )


def _decode_policy(policy_b64: str) -> dict[str, Any]:
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from exc
    if not isinstance(policy, dict):
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if "expiration" not in policy:
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing expiration.")
    if not isinstance(policy.get("conditions"), list):
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing conditions.")
    return policy


def _check_expiration(policy: Mapping[str, Any], now: datetime) -> None:
    try:
        expiration = datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
    except ValueError as exc:
        raise S3Error(
            400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value."
        ) from exc
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=UTC)
    if now >= expiration:
        raise _policy_denied("Policy expired.")


def _check_conditions(
    conditions: Sequence[Any], values: Mapping[str, str], bucket: str, size: int
) -> set[str]:
    """Evaluate every condition; return the (lower-case) field names they name."""
    named: set[str] = set()
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            [(name, expected)] = condition.items()
            op, field_name = "eq", str(name)
        elif isinstance(condition, list) and len(condition) == 3:
            op = str(condition[0]).lower()
            if op == "content-length-range":
                _check_length(condition, size)
                continue
            field_name, expected = str(condition[1]), condition[2]
            if not field_name.startswith("$"):
                raise _invalid_condition(condition)
            field_name = field_name[1:]
        else:
            raise _invalid_condition(condition)
        lowered = field_name.lower()
        named.add(lowered)
        actual = bucket if lowered == "bucket" else values.get(lowered)
        rendered = json.dumps([op, f"${field_name}", expected])
        if op == "eq":
            ok = actual is not None and actual == str(expected)
        elif op == "starts-with":
            ok = actual is not None and actual.startswith(str(expected))
        else:
            raise _invalid_condition(condition)
        if not ok:
            raise _policy_denied(f"Policy Condition failed: {rendered}")
    return named


def _check_length(condition: Sequence[Any], size: int) -> None:
    low, high = condition[1], condition[2]
    if not isinstance(low, int) or not isinstance(high, int):
        raise _invalid_condition(condition)
    if size > high:
        raise S3Error(
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            ProposedSize=size,
            MaxSizeAllowed=high,
        )
    if size < low:
        raise S3Error(
            400,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
            ProposedSize=size,
            MinSizeAllowed=low,
        )


def _invalid_condition(condition: Any) -> S3Error:
    return S3Error(
        400,
        "InvalidPolicyDocument",
        f"Invalid Policy: Invalid Condition: {json.dumps(condition)}",
    )


# --------------------------------------------------------------------------- in front of moto

_WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_BUCKET_PATH = re.compile(r"^/([^/]+)/?$")
# A virtual-hosted bucket: ``<bucket>.s3.<region>.amazonaws.com`` or the global
# ``<bucket>.s3.amazonaws.com``, with an optional port (S3 user guide, "Virtual
# hosting of buckets"); the form is then POSTed to ``/``.
_BUCKET_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3(?:\.[a-z0-9-]+)?\.amazonaws\.com(?::\d+)?$",
    re.IGNORECASE,
)


def post_bucket(environ: Mapping[str, Any]) -> str | None:
    """The bucket a request addresses: path-style ``/<bucket>`` on any host, or
    virtual-hosted (``Host: <bucket>.s3.<region>.amazonaws.com``, path ``/``)."""
    path = environ.get("PATH_INFO", "")
    host = _BUCKET_HOST.match(environ.get("HTTP_HOST", ""))
    if host is not None:
        return host.group("bucket").lower() if path in ("", "/") else None
    match = _BUCKET_PATH.match(path)
    return match.group(1) if match else None


class PostPolicyMiddleware:
    """WSGI middleware: every form POST to a bucket (path-style ``/<bucket>``, or
    virtual-hosted ``<bucket>.s3.<region>.amazonaws.com/`` as the HTTPS proxy of the
    production tier relays it) is checked with :func:`check_post_policy` before
    moto sees it."""

    def __init__(
        self,
        app: _WsgiApp,
        credentials: Mapping[str, str],
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.app = app
        self.credentials = credentials
        self.clock = clock or (lambda: datetime.now(UTC))

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        bucket = post_bucket(environ)
        content_type = environ.get("CONTENT_TYPE", "")
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or bucket is None
            or environ.get("QUERY_STRING")
            or not content_type.lower().startswith("multipart/form-data")
        ):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
        try:
            form = parse_form(body, content_type)
            check_post_policy(form, bucket=bucket, credentials=self.credentials, now=self.clock())
        except S3Error as error:
            data = error.to_xml()
            start_response(
                f"{error.status} {_REASONS.get(error.status, 'Error')}",
                [("Content-Type", "application/xml"), ("Content-Length", str(len(data)))],
            )
            return [data]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


_REASONS = {400: "Bad Request", 403: "Forbidden"}


class StrictMotoServer:
    """moto's threaded server (same methods as ``moto.server.ThreadedMotoServer``)
    with :class:`PostPolicyMiddleware` in front; ``credentials`` maps access key
    ids to secret keys."""

    def __init__(
        self,
        credentials: Mapping[str, str],
        ip_address: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.credentials = dict(credentials)
        self._ip_address = ip_address
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = PostPolicyMiddleware(
            DomainDispatcherApplication(create_backend_app), self.credentials
        )
        self._server = make_server(
            self._ip_address, self._port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def get_host_and_port(self) -> tuple[str, int]:
        if self._server is None:
            raise RuntimeError("StrictMotoServer: call start() first.")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None


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
