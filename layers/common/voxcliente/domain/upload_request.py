"""What the upload API reads from a request body: each field checked, every bad one named.

A body is a JSON object; each field is read by its own function, which
returns the value or raises ValueError saying what it must be. A request is
refused (400) naming every bad field at once, never failing later with a 500
on something the database cannot hold (NUL, unpaired surrogates).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

from voxcliente.domain import recipients
from voxcliente.domain.errors import InputRejected
from voxcliente.domain.frozen import Frozen


class BadRequest(InputRejected):
    """400, naming each bad field."""

    code = "bad_request"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("Invalid request: " + "; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class UploadRequest(Frozen):
    """The browser's request, checked by :func:`parse_request`. No address: the acta
    goes to the signed-in caller's verified email, or to the trial's confirmed one."""

    filename: str
    content_type: str
    size_bytes: int
    client_name: str | None = None
    meeting_date: date | None = None
    # Any BCP 47 tag AssemblyAI can transcribe (es, es-MX, en-GB, pt_BR...),
    # stored as AssemblyAI's own code.
    language: str | None = None


def text_field(value: object, *, min_length: int = 0, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")  # noqa: TRY004 - reported as a bad field
    # PostgreSQL text cannot hold NUL, and no field has a use for control
    # characters or unpaired surrogates: refuse them here, naming the field,
    # rather than fail at the INSERT with a 500.
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must not contain control characters (such as NUL)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("is not valid Unicode text") from exc
    if len(value) < min_length:
        raise ValueError(f"must have at least {min_length} character(s)")
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"must have at most {max_length} characters")
    return value


def email_field(value: object) -> str:
    try:
        return recipients.deliverable_address(text_field(value))
    except recipients.UndeliverableAddress as exc:
        raise ValueError(f"not an address we can send the acta to: {exc}") from exc


def _size(value: object) -> int:
    # A whole number, also written as "123" or 123.0 (as the JSON of a form may).
    if isinstance(value, bool):
        raise ValueError("must be a whole number of bytes")  # noqa: TRY004 - a bad field
    try:
        size = int(value) if isinstance(value, int | str) else None
        if isinstance(value, float) and value.is_integer():
            size = int(value)
    except ValueError:
        size = None
    if size is None:
        raise ValueError("must be a whole number of bytes")
    if size <= 0:
        raise ValueError("must be greater than 0")
    return size


def _client_name(value: object) -> str | None:
    return None if value is None else text_field(value, max_length=200).strip() or None


def _meeting_date(value: object) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(text_field(value, max_length=10))
    except ValueError:
        raise ValueError("must be a date as YYYY-MM-DD") from None


def language_field(value: object) -> str | None:
    from voxcliente.domain.languages import UnsupportedLanguage, to_assemblyai

    if value is None:
        return None
    text = text_field(value, max_length=40)
    if not text.strip():
        return None
    try:
        return to_assemblyai(text)
    except UnsupportedLanguage as exc:
        raise ValueError(exc.message) from exc


type Fields = dict[str, tuple[bool, Callable[[object], Any]]]

# Each field: whether it must be given, and how it is read. An ``email`` in the
# body is ignored: nobody chooses where an acta goes but the token or the code.
UPLOAD_FIELDS: Fields = {
    "filename": (True, lambda v: text_field(v, min_length=1, max_length=255)),
    "content_type": (True, lambda v: text_field(v, min_length=3, max_length=100)),
    "size_bytes": (True, _size),
    "client_name": (False, _client_name),
    "meeting_date": (False, _meeting_date),
    "language": (False, language_field),
}


def read_fields(body: Any, spec: Fields) -> dict[str, Any]:
    """The fields of ``spec`` read from ``body``, or :class:`BadRequest` naming every bad one."""
    if not isinstance(body, dict):
        raise BadRequest({"body": "must be a JSON object"})
    values: dict[str, Any] = {}
    fields: dict[str, str] = {}
    for name, (required, read) in spec.items():
        if name not in body:
            if required:
                fields[name] = "is required"
            continue
        try:
            values[name] = read(body[name])
        except ValueError as exc:
            fields[name] = str(exc)
    if fields:
        raise BadRequest(fields)
    return values


def parse_request(body: Any) -> UploadRequest:
    """The request, or :class:`BadRequest` naming every bad field (other keys are ignored)."""
    return UploadRequest(**read_fields(body, UPLOAD_FIELDS))
