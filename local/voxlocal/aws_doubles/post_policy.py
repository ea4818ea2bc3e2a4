"""S3's evaluation of a browser-based upload (a presigned POST), which moto leaves out.

:func:`parse_form` reads a ``multipart/form-data`` body the way S3 does, and
:func:`check_post_policy` accepts it or raises the :class:`S3Error` S3 answers:
the SigV4 signature of the policy, its expiration and every condition against
the form fields and the file size.

Sources: S3 API reference, "Authenticating Requests: Browser-Based Uploads Using
POST (AWS Signature Version 4)", "Creating a POST Policy" and "Error Responses";
S3 user guide, "HTML Forms" (fields after the file are ignored, the fields before
it at most 20 KB, every field but a few must be named by a condition).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import HeaderParser
from email.policy import HTTP
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
