"""UploadApi: hand out presigned POSTs for web uploads, and report progress."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from voxcliente.adapters import repository as repo
from voxcliente.adapters import s3
from voxcliente.adapters.db import transaction
from voxcliente.domain import media, recipients
from voxcliente.domain.errors import InputRejected, NotFound
from voxcliente.domain.frozen import Frozen
from voxcliente.settings import Settings, get_settings


class BadRequest(InputRejected):
    """400, naming each bad field."""

    code = "bad_request"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("Invalid request: " + "; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class TooLarge(InputRejected):
    code = "too_large"


class UnsupportedType(InputRejected):
    code = "unsupported_type"


class UploadRequest(Frozen):
    """The browser's request, checked by :func:`parse_request`."""

    email: str
    filename: str
    content_type: str
    size_bytes: int
    client_name: str | None = None
    meeting_date: date | None = None
    # Any BCP 47 tag AssemblyAI can transcribe (es, es-MX, en-GB, pt_BR...),
    # stored as AssemblyAI's own code.
    language: str | None = None


def _text(value: object, *, min_length: int = 0, max_length: int | None = None) -> str:
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


def _email(value: object) -> str:
    try:
        return recipients.deliverable_address(_text(value))
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
    return None if value is None else _text(value, max_length=200).strip() or None


def _meeting_date(value: object) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(_text(value, max_length=10))
    except ValueError:
        raise ValueError("must be a date as YYYY-MM-DD") from None


def _language(value: object) -> str | None:
    from voxcliente.domain.languages import UnsupportedLanguage, to_assemblyai

    if value is None:
        return None
    text = _text(value, max_length=40)
    if not text.strip():
        return None
    try:
        return to_assemblyai(text)
    except UnsupportedLanguage as exc:
        raise ValueError(exc.message) from exc


# Each field: whether it must be given, and how it is read.
_FIELDS: dict[str, tuple[bool, Callable[[object], Any]]] = {
    "email": (True, _email),
    "filename": (True, lambda v: _text(v, min_length=1, max_length=255)),
    "content_type": (True, lambda v: _text(v, min_length=3, max_length=100)),
    "size_bytes": (True, _size),
    "client_name": (False, _client_name),
    "meeting_date": (False, _meeting_date),
    "language": (False, _language),
}


def parse_request(body: Any) -> UploadRequest:
    """The request, or :class:`BadRequest` naming every bad field (other keys are ignored)."""
    if not isinstance(body, dict):
        raise BadRequest({"body": "must be a JSON object"})
    values: dict[str, Any] = {}
    fields: dict[str, str] = {}
    for name, (required, read) in _FIELDS.items():
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
    return UploadRequest(**values)


def create_upload(body: Any, *, settings: Settings | None = None) -> dict[str, Any]:
    """Validate, record the upload, and return the presigned POST for the browser."""
    cfg = settings or get_settings()
    cfg.require("audio_bucket")
    request = parse_request(body)
    content_type = request.content_type.lower().split(";")[0].strip()
    if content_type not in media.ALLOWED_TYPES:
        raise UnsupportedType(
            f"content_type {request.content_type!r} is not an audio or video type we accept; "
            f"accepted: {', '.join(sorted(media.ALLOWED_TYPES))}."
        )
    if not media.type_matches_extension(content_type, request.filename):
        allowed = ", ".join(media.ALLOWED_TYPES[content_type])
        raise UnsupportedType(
            f"filename {request.filename!r} does not match content_type {content_type} "
            f"(expected {allowed})."
        )
    if request.size_bytes > cfg.max_upload_bytes:
        raise TooLarge(
            f"size_bytes {request.size_bytes} is over the limit of {cfg.max_upload_bytes} bytes."
        )
    upload_id = uuid4()
    key = f"{cfg.upload_prefix}{upload_id}/{media.sanitise_filename(request.filename)}"
    expires_at = datetime.now(UTC) + timedelta(seconds=cfg.presign_post_ttl_s)
    # The policy pins the exact key (boto3 adds {"key": key}), the type, the size
    # range and the upload id metadata: the browser can upload that file only.
    presigned = s3.presigned_post(
        str(cfg.audio_bucket),
        key,
        fields={"Content-Type": content_type, "x-amz-meta-upload-id": str(upload_id)},
        conditions=[
            {"Content-Type": content_type},
            {"x-amz-meta-upload-id": str(upload_id)},
            ["content-length-range", 1, request.size_bytes],
        ],
        expires_s=cfg.presign_post_ttl_s,
    )
    with transaction() as tx:
        repo.create_upload(
            tx,
            upload_id=upload_id,
            email=request.email,
            s3_key=key,
            original_filename=request.filename,
            content_type=content_type,
            size_bytes=request.size_bytes,
            expires_at=expires_at,
            client_name=request.client_name,
            meeting_date=request.meeting_date,
            language=request.language,
        )
    return {
        "upload_id": str(upload_id),
        "url": presigned["url"],
        "fields": presigned["fields"],
        "expires_at": expires_at.isoformat(),
        "max_bytes": request.size_bytes,
    }


def upload_status(upload_id: str) -> dict[str, Any]:
    """Progress of one upload. Knowing the (random) id is the credential: nothing
    personal is returned, neither the email nor the acta."""
    try:
        uid = UUID(upload_id)
    except ValueError as exc:
        raise NotFound("No upload has this id.") from exc
    with transaction() as tx:
        upload = repo.get_upload(tx, uid)
        if upload is None:
            raise NotFound("No upload has this id.")
        meeting = repo.get_latest_meeting_for_upload(tx, uid)
    result: dict[str, Any] = {
        "upload_id": str(uid),
        "filename": upload.original_filename,
        "created_at": upload.created_at.isoformat(),
        "status": "waiting_for_file",
        "timestamps": {},
        "error": None,
    }
    if meeting is not None:
        stamps = {
            "received": meeting.received_at,
            "submitted": meeting.submitted_at,
            "transcribed": meeting.transcribed_at,
            "generating": meeting.generating_at,
            "emailed": meeting.emailed_at,
            "failed": meeting.failed_at,
        }
        result["status"] = meeting.status
        result["timestamps"] = {k: v.isoformat() for k, v in stamps.items() if v is not None}
        if meeting.status == "failed":
            result["error"] = {"code": meeting.error_code, "message": meeting.error_message}
    # While waiting: whether the presigned POST can still be used.
    result["upload_url_expired"] = meeting is None and upload.expires_at < datetime.now(UTC)
    return result
