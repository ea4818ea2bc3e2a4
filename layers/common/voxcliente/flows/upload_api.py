"""UploadApi: hand out presigned POSTs for web uploads, and report progress.

Signed in (``POST /uploads``), the acta goes to the caller's verified email and
the upload is theirs, within their monthly audio quota. In trial mode
(``ANONYMOUS_UPLOADS=confirm-email``) an address first confirms a one-time code
(:mod:`voxcliente.pipeline.trial`) and that code pays for one upload. Either
way the daily spend guard (:mod:`voxcliente.pipeline.spend`) comes before any
presigned POST is handed out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from voxcliente.adapters import repository as repo
from voxcliente.adapters import s3
from voxcliente.adapters.db import Connection, transaction
from voxcliente.domain import media, recipients
from voxcliente.domain.errors import Conflict, InputRejected, NotFound
from voxcliente.domain.frozen import Frozen
from voxcliente.domain.identity import Caller, Unauthenticated
from voxcliente.domain.upload_request import (
    UPLOAD_FIELDS,
    BadRequest,
    Fields,
    UploadRequest,
    email_field,
    language_field,
    parse_request,
    read_fields,
    text_field,
)
from voxcliente.pipeline import spend
from voxcliente.pipeline.account_views import when
from voxcliente.settings import Settings, get_settings

__all__ = [
    "BadRequest",
    "TooLarge",
    "UnsupportedType",
    "UploadRequest",
    "create_trial_upload",
    "create_upload",
    "parse_request",
    "request_trial_code",
    "require_trial_mode",
    "trial_upload_status",
    "upload_status",
]


class TooLarge(InputRejected):
    code = "too_large"


class UnsupportedType(InputRejected):
    code = "unsupported_type"


def _code(value: object) -> str:
    from voxcliente.pipeline.trial import CODE_DIGITS

    text = text_field(value, max_length=20).strip()
    if len(text) != CODE_DIGITS or not (text.isascii() and text.isdigit()):
        raise ValueError(f"must be the {CODE_DIGITS} digits of the code we emailed")
    return text


def _uuid(value: object) -> UUID:
    try:
        return UUID(text_field(value, max_length=40))
    except ValueError:
        raise ValueError("must be the confirmation_id POST /trial/codes answered") from None


_TRIAL_FIELDS: Fields = {"confirmation_id": (True, _uuid), "code": (True, _code)}
_CODE_FIELDS: Fields = {"email": (True, email_field), "language": (False, language_field)}


class _Offer(Frozen):
    """A checked request and the presigned POST made for it, not yet recorded."""

    request: UploadRequest
    content_type: str
    upload_id: UUID
    key: str
    expires_at: datetime
    presigned: Mapping[str, Any]

    def record(self, tx: Connection, *, email: str, **owner: Any) -> dict[str, Any]:
        """Record the upload (``owner``: user_id, or confirmation_id and source_ip) and
        return the browser's answer."""
        request = self.request
        repo.create_upload(
            tx,
            upload_id=self.upload_id,
            email=email,
            s3_key=self.key,
            original_filename=request.filename,
            content_type=self.content_type,
            size_bytes=request.size_bytes,
            expires_at=self.expires_at,
            client_name=request.client_name,
            meeting_date=request.meeting_date,
            language=request.language,
            **owner,
        )
        return {
            "upload_id": str(self.upload_id),
            "url": self.presigned["url"],
            "fields": self.presigned["fields"],
            "expires_at": when(self.expires_at),
            "max_bytes": request.size_bytes,
        }


def _offer(request: UploadRequest, cfg: Settings) -> _Offer:
    """Check the file's type and size, then sign its POST (no network: signing is local)."""
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
    return _Offer(
        request=request,
        content_type=content_type,
        upload_id=upload_id,
        key=key,
        expires_at=expires_at,
        presigned=presigned,
    )


def create_upload(body: Any, caller: Caller, *, settings: Settings | None = None) -> dict[str, Any]:
    """A signed-in upload: validate, check the caller's quota and the daily spend guard,
    record the upload as theirs, and return the presigned POST for the browser."""
    cfg = settings or get_settings()
    cfg.require("audio_bucket")
    try:
        email = recipients.deliverable_address(caller.verified_email)
    except recipients.UndeliverableAddress as exc:
        raise BadRequest(
            {"email": f"your account's address is not one we can send the acta to: {exc}"}
        ) from exc
    offer = _offer(parse_request(body), cfg)
    with transaction() as tx:
        user = repo.user_for_caller(tx, caller)
        spend.check_monthly_quota(tx, user, cfg)
        spend.check_daily_spend(tx, cfg)
        return offer.record(tx, email=email, user_id=user.id)


# --- trial mode ---------------------------------------------------------------------------
def require_trial_mode(settings: Settings | None = None) -> None:
    """401 ``anonymous_uploads_off`` unless trial mode is on (every /trial route, first)."""
    if (settings or get_settings()).anonymous_uploads != "confirm-email":
        raise Unauthenticated(
            "Uploads need sign-in: this service does not take anonymous trial uploads. "
            "Sign in and send the file with POST /uploads.",
            code="anonymous_uploads_off",
        )


def request_trial_code(
    body: Any, source_ip: str | None, *, settings: Settings | None = None
) -> dict[str, Any]:
    """POST /trial/codes: email a one-time code to the address, within the daily limits."""
    from voxcliente.pipeline import trial

    cfg = settings or get_settings()
    require_trial_mode(cfg)
    values = read_fields(body, _CODE_FIELDS)
    confirmation_id, expires_at = trial.request_code(
        values["email"], source_ip, cfg, language=values.get("language")
    )
    return {"confirmation_id": str(confirmation_id), "expires_at": when(expires_at)}


def create_trial_upload(
    body: Any, source_ip: str | None, *, settings: Settings | None = None
) -> dict[str, Any]:
    """POST /trial/uploads: the code comes back; a right one pays for one presigned POST
    to the confirmed address, after the same checks as a signed-in upload."""
    from voxcliente.adapters.repository import confirmations
    from voxcliente.pipeline import trial

    cfg = settings or get_settings()
    require_trial_mode(cfg)
    cfg.require("audio_bucket")
    values = read_fields(body, {**_TRIAL_FIELDS, **UPLOAD_FIELDS})
    confirmation_id, code = values.pop("confirmation_id"), values.pop("code")
    offer = _offer(UploadRequest(**values), cfg)
    confirmation = trial.redeem(confirmation_id, code)
    with transaction() as tx:
        spend.check_daily_spend(tx, cfg)
        if confirmations.use_confirmation(tx, confirmation_id) is None:
            raise Conflict(
                "This code was already used for an upload; ask for a new code to send "
                "another file.",
                code="code_used",
            )
        return offer.record(
            tx, email=confirmation.email, confirmation_id=confirmation_id, source_ip=source_ip
        )


# --- progress -------------------------------------------------------------------------------
def upload_status(upload_id: str, caller: Caller | None = None) -> dict[str, Any]:
    """Progress of one upload. Knowing the (random) id is the credential for progress:
    neither the email nor the acta is returned. The file name, which can say who the
    meeting was with, only to the signed-in caller who asked for the upload; the
    meeting's id (for GET /meetings/{id}) to signed-in callers; the trial route
    (``caller`` None) answers progress only."""
    try:
        uid = UUID(upload_id)
    except ValueError as exc:
        raise NotFound("No upload has this id.") from exc
    with transaction() as tx:
        upload = repo.get_upload(tx, uid)
        if upload is None:
            raise NotFound("No upload has this id.")
        meeting = repo.get_latest_meeting_for_upload(tx, uid)
        owner = caller is not None and repo.caller_owns_upload(
            tx, uid, caller.issuer, caller.subject
        )
    result: dict[str, Any] = {
        "upload_id": str(uid),
        "created_at": when(upload.created_at),
        "status": "waiting_for_file",
        "timestamps": {},
        "error": None,
    }
    if owner:
        result["filename"] = upload.original_filename
    if caller is not None:
        result["meeting_id"] = str(meeting.id) if meeting is not None else None
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
        result["timestamps"] = {k: when(v) for k, v in stamps.items() if v is not None}
        if meeting.status == "failed":
            result["error"] = {"code": meeting.error_code, "message": meeting.error_message}
    # While waiting: whether the presigned POST can still be used.
    result["upload_url_expired"] = meeting is None and upload.expires_at < datetime.now(UTC)
    return result


def trial_upload_status(upload_id: str, *, settings: Settings | None = None) -> dict[str, Any]:
    """GET /trial/uploads/{upload_id}: progress only, never the file name."""
    require_trial_mode(settings)
    return upload_status(upload_id, None)
