"""Submit: an object landed in the bucket; make it a meeting and send it to AssemblyAI once.

S3 delivers events at least once and Lambda retries asynchronous invocations,
so the same record may arrive twice, even at the same moment in two execution
environments. The meeting is keyed by (bucket, key, version) in the database,
and only the run that wins the conditional claim submits.

Each record of an event ends in its own outcome: an unexpected exception on one
is recorded as that meeting failed (with a notice when there is someone to
tell) and never stops the others; only transient errors are raised, after every
record was handled, so that Lambda's retry redoes what is still pending.

Object keys under inbox/ name the recipient's address: logs carry the meeting
id or ``key_hash(key)``, never the key itself.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import unquote_plus
from uuid import UUID

from botocore.exceptions import BotoCoreError, ClientError

from voxcliente.adapters import assemblyai, aws
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import transaction
from voxcliente.domain import media, recipients
from voxcliente.domain.errors import ProviderError, TransientError
from voxcliente.domain.models import Meeting
from voxcliente.observability import log_unexpected, logger, metrics
from voxcliente.pipeline import lifecycle
from voxcliente.settings import Settings, get_settings

# How long a Submit run may hold the claim before another run may take over
# (longer than the function's timeout: the holder is dead by then).
SUBMIT_CLAIM_STALE_S = 300
# Longest client name the clients table holds (CHECK length(name) <= 200).
MAX_CLIENT_NAME = 200
MAX_FILENAME = 255
# S3 errors that mean "the object is gone, or we may not read it". Without
# s3:ListBucket, HEAD on a missing key answers 403, not 404 (S3 API reference,
# HeadObject, "Permissions"); GET answers NoSuchKey / AccessDenied.
_GONE = frozenset({"403", "404", "NoSuchKey", "NotFound", "NoSuchVersion", "AccessDenied"})


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    version_id: str
    size: int | None
    etag: str | None


@dataclass(frozen=True)
class Recipient:
    email: str | None
    client_name: str | None
    meeting_date: date | None
    language: str | None
    upload_id: UUID | None
    problem: str | None  # why no valid recipient was found


@dataclass(frozen=True)
class Outcome:
    key: str
    meeting_id: UUID | None
    result: str  # submitted | duplicate | failed | skipped


def object_refs(event: dict[str, Any]) -> list[ObjectRef]:
    """Every record of an S3 event, keys URL-decoded (spaces arrive as '+')."""
    refs = []
    for record in event.get("Records") or []:
        s3 = record.get("s3") or {}
        obj = s3.get("object") or {}
        refs.append(
            ObjectRef(
                bucket=str((s3.get("bucket") or {}).get("name")),
                key=unquote_plus(str(obj.get("key", ""))),
                version_id=str(obj.get("versionId") or ""),
                size=obj.get("size"),
                etag=obj.get("eTag"),
            )
        )
    return refs


def object_identity(ref: ObjectRef, etag: str) -> str:
    """What makes one upload one meeting: the version id, or (unversioned bucket) the ETag.

    Without versioning, the same name uploaded again with other content is a
    new meeting, while a redelivered event for the same upload is not.
    """
    return ref.version_id or (f"etag:{etag}" if etag else "")


def key_hash(key: str) -> str:
    """A short, stable name for an object key in logs (inbox keys hold addresses)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def clean_text(value: str | None, limit: int) -> str | None:
    """A metadata value fit for a text column: NUL and other control or format
    characters removed, whitespace collapsed, at most ``limit`` characters."""
    if value is None:
        return None
    kept = "".join(
        " " if c.isspace() else c
        for c in unicodedata.normalize("NFC", value)
        if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    cleaned = " ".join(kept.split())[:limit].rstrip()
    return cleaned or None


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def resolve_recipient(ref: ObjectRef, metadata: dict[str, str], settings: Settings) -> Recipient:
    """Who gets the acta: the upload's row, the object's metadata, or inbox/<email>/."""
    with transaction() as tx:
        upload = repo.get_upload_by_key(tx, ref.key)
        if upload is None and metadata.get("upload-id"):
            try:
                upload = repo.get_upload(tx, UUID(metadata["upload-id"]))
            except ValueError:
                upload = None
    if upload is not None:
        # Checked when the upload was requested; checked again for rows written
        # before the check was as strict as SES.
        email = recipients.usable_address(upload.email)
        return Recipient(
            email=email,
            client_name=clean_text(upload.client_name, MAX_CLIENT_NAME),
            meeting_date=upload.meeting_date,
            language=upload.language,
            upload_id=upload.id,
            problem=None if email else "email_invalid",
        )
    if ref.key.startswith(settings.upload_prefix):
        return Recipient(None, None, None, None, None, "upload_unknown")
    # The metadata's address first, else the inbox/<email>/ folder's. When the
    # one given cannot be used, the meeting is refused, and the other (if
    # usable) is told why.
    given = [metadata.get("email")]
    if ref.key.startswith(settings.inbox_prefix):
        parts = ref.key[len(settings.inbox_prefix) :].split("/")
        given.append(parts[0] if len(parts) > 1 else None)
    checked = [recipients.usable_address(g) for g in given if g and g.strip()]
    email = next((e for e in checked if e), None)
    problem: str | None = None
    if not checked:
        problem = "email_missing"
    elif checked[0] is None:
        problem = "email_invalid"
    language, language_problem = _metadata_language(metadata.get("language"))
    return Recipient(
        email=email,
        client_name=clean_text(
            metadata.get("client") or metadata.get("client-name"), MAX_CLIENT_NAME
        ),
        meeting_date=_parse_date(metadata.get("meeting-date")),
        language=language,
        upload_id=None,
        problem=problem or language_problem,
    )


def _metadata_language(given: str | None) -> tuple[str | None, str | None]:
    """The object's ``language`` metadata as AssemblyAI's code, or why it cannot be used."""
    from voxcliente.domain.languages import UnsupportedLanguage, to_assemblyai

    if not given or not given.strip():
        return None, None
    try:
        return to_assemblyai(given), None
    except UnsupportedLanguage:
        return None, "language_unsupported"


_REFUSALS = {
    "upload_unknown": "The file arrived under uploads/ but matches no upload that was "
    "requested, so there is nobody to send the acta to.",
    "email_missing": "The file has no recipient: drop it under inbox/<your email>/ or add "
    "the metadata email=<your email> when copying it.",
    "email_invalid": "The recipient address given with the file is not one we can send "
    "email to. Check it for typos; addresses with accents or other non-ASCII characters "
    "before the @ cannot be used. Send the file again with another address.",
    "empty_file": "The file is empty (0 bytes): the upload did not finish or the recording "
    "is missing. Upload it again.",
    "too_large": "The file is larger than the {limit} limit. Split the recording or "
    "compress it (for example to MP3) and upload it again.",
    "language_unsupported": "The language given with the file (metadata language=...) is "
    "not one AssemblyAI can transcribe. Send the file again with a code such as 'es', "
    "'es-MX' or 'en-GB', or without the language to have it detected.",
    "not_audio": "The file does not contain audio or video that can be transcribed "
    "(its first bytes are not those of any audio or video format). Check that you sent "
    "the recording itself.",
    "file_missing": "The file was deleted, or could no longer be read, before we could "
    "check it. Upload it again.",
    "internal_error": "Something unexpected went wrong while we read the file, so no acta "
    "will be written for it. Send the file again; if it happens again, tell us the date "
    "and time you sent it.",
}


def _human_size(n: int) -> str:
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{n / 1024**2:.0f} MB"


def _fail(
    meeting_id: UUID,
    code: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    settings: Settings,
) -> Meeting | None:
    """Fail a received meeting and queue its notice (when there is someone to tell)."""
    return lifecycle.fail(
        meeting_id, code, message, expected=("received",), details=details, settings=settings
    )


def _refuse(meeting: Meeting, code: str, settings: Settings) -> Outcome:
    message = _REFUSALS[code].format(limit=_human_size(settings.max_upload_bytes))
    failed = _fail(meeting.id, code, message, settings=settings)
    if failed is not None:
        logger.warning("file refused", extra={"meeting_id": str(meeting.id), "code": code})
        metrics.add_metric(name="FilesRefused", unit="Count", value=1)
    return Outcome(meeting.s3_key, meeting.id, "failed" if failed else "duplicate")


class _Gone(Exception):
    """The object was deleted, or we may not read it (S3 answers 403 or 404)."""


def _s3_read(operation: str, **kwargs: Any) -> Any:
    """One S3 read: ``_Gone`` for a missing/unreadable object, ``TransientError``
    for everything else S3 or the network may answer."""
    s3 = aws.client("s3")
    try:
        return getattr(s3, operation)(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _GONE:
            raise _Gone(operation) from exc
        raise TransientError(
            f"S3 {operation} failed ({exc.response.get('Error', {}).get('Code')}).",
            code="s3_unavailable",
        ) from exc
    except BotoCoreError as exc:
        raise TransientError(
            f"S3 could not be reached ({exc.__class__.__name__}).", code="s3_unavailable"
        ) from exc


@dataclass
class _Progress:
    """What one record's processing had learnt when it stopped."""

    etag: str = ""
    size: int | None = None
    email: str | None = None
    meeting: Meeting | None = None


def process_object(ref: ObjectRef, *, settings: Settings | None = None) -> Outcome:
    """Turn one S3 object into a submitted meeting (or a failed one that says why).

    Raises only ``TransientError``; anything else ends this object's meeting
    ``failed`` (``internal_error``) with a notice when there is someone to tell.
    """
    cfg = settings or get_settings()
    where = {"key_hash": key_hash(ref.key)}
    if ref.key.endswith("/") or not ref.key.startswith((cfg.upload_prefix, cfg.inbox_prefix)):
        logger.info("ignoring object outside uploads/ and inbox/", extra=where)
        return Outcome(ref.key, None, "skipped")
    if "\x00" in ref.key:
        logger.warning("ignoring an object whose key holds NUL (cannot be stored)", extra=where)
        return Outcome(ref.key, None, "skipped")
    progress = _Progress(etag=str(ref.etag or "").strip('"'), size=ref.size)
    try:
        return _process(ref, cfg, progress)
    except _Gone as gone:
        # Deleted (or made unreadable) between the event and our read: nothing to do.
        meeting = progress.meeting
        logger.warning(
            "object gone or unreadable (S3 403/404); skipped",
            extra={**where, "operation": str(gone), "meeting_id": str(meeting and meeting.id)},
        )
        if meeting is None:
            return Outcome(ref.key, None, "skipped")
        return _refuse(meeting, "file_missing", cfg)
    except TransientError:
        raise
    except Exception as exc:  # noqa: BLE001 - one record's outcome, whatever went wrong
        return _fail_unexpected(ref, progress, exc, cfg)


def _fail_unexpected(ref: ObjectRef, progress: _Progress, exc: Exception, cfg: Settings) -> Outcome:
    """Record the object's meeting failed (creating the row if it never was)."""
    meeting = progress.meeting
    log_unexpected(
        "unexpected failure on one file; recording its meeting failed",
        exc,
        key_hash=key_hash(ref.key),
        meeting_id=str(meeting.id) if meeting else None,
    )
    metrics.add_metric(name="FilesFailedUnexpectedly", unit="Count", value=1)
    try:
        if meeting is None:
            filename = clean_text(ref.key.rsplit("/", 1)[-1], MAX_FILENAME) or "audio"
            with transaction() as tx:
                meeting, _ = repo.insert_meeting_once(
                    tx,
                    s3_bucket=ref.bucket,
                    s3_key=ref.key,
                    s3_version_id=object_identity(ref, progress.etag),
                    s3_etag=progress.etag or None,
                    size_bytes=progress.size,
                    original_filename=filename,
                    recipient_email=progress.email,
                )
        failed = _fail(
            meeting.id,
            "internal_error",
            _REFUSALS["internal_error"],
            details={"error_type": type(exc).__name__},
            settings=cfg,
        )
    except TransientError:
        raise
    except Exception as again:  # noqa: BLE001 - nothing more can be recorded
        log_unexpected(
            "the failure could not be recorded either", again, key_hash=key_hash(ref.key)
        )
        return Outcome(ref.key, meeting.id if meeting else None, "failed")
    return Outcome(ref.key, meeting.id, "failed" if failed else "duplicate")


def _process(ref: ObjectRef, cfg: Settings, progress: _Progress) -> Outcome:
    head_args: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
    if ref.version_id:
        head_args["VersionId"] = ref.version_id
    head = _s3_read("head_object", **head_args)
    metadata = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
    size = int(head.get("ContentLength", ref.size or 0))
    etag = str(ref.etag or head.get("ETag") or "").strip('"')
    progress.etag, progress.size = etag, size
    who = resolve_recipient(ref, metadata, cfg)
    progress.email = who.email
    filename = clean_text(ref.key.rsplit("/", 1)[-1], MAX_FILENAME) or "audio"

    with transaction() as tx:
        user = repo.get_or_create_user(tx, who.email) if who.email else None
        client = (
            repo.get_or_create_client(tx, user.id, who.client_name)
            if user is not None and who.client_name
            else None
        )
        meeting, created = repo.insert_meeting_once(
            tx,
            s3_bucket=ref.bucket,
            s3_key=ref.key,
            s3_version_id=object_identity(ref, etag),
            s3_etag=etag or None,
            size_bytes=size,
            content_type=clean_text(head.get("ContentType"), MAX_FILENAME),
            original_filename=filename,
            user_id=user.id if user else None,
            client_id=client.id if client else None,
            upload_id=who.upload_id,
            recipient_email=who.email,
            meeting_date=who.meeting_date,
            language=who.language,
        )
    progress.meeting = meeting
    log = {"meeting_id": str(meeting.id), "new_meeting": created}
    if meeting.status != "received":
        logger.info("duplicate event for a meeting already past received", extra=log)
        return Outcome(ref.key, meeting.id, "duplicate")

    # Refuse what cannot become an acta, before spending money.
    if who.problem:
        return _refuse(meeting, who.problem, cfg)
    if size == 0:
        return _refuse(meeting, "empty_file", cfg)
    if size > cfg.max_upload_bytes:
        return _refuse(meeting, "too_large", cfg)
    get_args = {**head_args, "Range": f"bytes=0-{media.SNIFF_BYTES - 1}"}
    head_bytes = _s3_read("get_object", **get_args)["Body"].read()
    if media.sniff(head_bytes) is None:
        return _refuse(meeting, "not_audio", cfg)

    with transaction() as tx:
        claimed = repo.claim_submission(tx, meeting.id, SUBMIT_CLAIM_STALE_S)
    if not claimed:
        logger.info("another run is submitting this meeting", extra=log)
        return Outcome(ref.key, meeting.id, "duplicate")

    return _submit(meeting, head_args, cfg)


def _submit(meeting: Meeting, head_args: dict[str, Any], cfg: Settings) -> Outcome:
    """Send a claimed meeting's file to AssemblyAI and record the transcript id."""
    s3 = aws.client("s3")
    log = {"meeting_id": str(meeting.id)}
    try:
        if cfg.assemblyai_upload_audio:
            audio_url = assemblyai.upload(s3.get_object(**head_args)["Body"].read(), settings=cfg)
        else:
            audio_url = s3.generate_presigned_url(
                "get_object", Params=head_args, ExpiresIn=cfg.presign_get_ttl_s
            )
        transcript_id = assemblyai.submit(
            audio_url, meeting_id=meeting.id, language_code=meeting.language, settings=cfg
        )
    except ProviderError as exc:
        with transaction() as tx:
            repo.release_submission(tx, meeting.id)
        _fail(meeting.id, exc.code, exc.message, settings=cfg)
        return Outcome(meeting.s3_key, meeting.id, "failed")
    except Exception as exc:
        # Nothing was (knowingly) accepted: give the claim back so the retry submits.
        # Should AssemblyAI have accepted the job after all, its webhook names the
        # meeting and is adopted (see webhook.handle).
        log_unexpected("submission not completed; Lambda will retry", exc, **log)
        with transaction() as tx:
            repo.release_submission(tx, meeting.id)
        if isinstance(exc, TransientError):
            raise
        raise TransientError(
            f"Submitting the file failed unexpectedly ({exc.__class__.__name__}).",
            code="submit_failed",
        ) from exc
    try:
        with transaction() as tx:
            repo.transition(
                tx,
                meeting.id,
                expected=("received",),
                to="submitted",
                event="submitted_to_assemblyai",
                details={
                    "transcript_id": transcript_id,
                    "models": list(cfg.assemblyai_speech_models),
                },
                fields={"assemblyai_transcript_id": transcript_id},
            )
    except TransientError:
        # AssemblyAI has the job but we could not record its id. The claim stays
        # held (a retry must not submit again); the webhook URL carries the meeting
        # id, so the webhook adopts the transcript when it arrives.
        logger.error(
            "transcript accepted but its id was not recorded; the webhook will adopt it",
            extra={**log, "transcript_id": transcript_id},
        )
        raise
    metrics.add_metric(name="MeetingsSubmitted", unit="Count", value=1)
    logger.info("submitted to AssemblyAI", extra={**log, "transcript_id": transcript_id})
    return Outcome(meeting.s3_key, meeting.id, "submitted")


def process_event(event: dict[str, Any], *, settings: Settings | None = None) -> list[Outcome]:
    """Every record of the event, each to its own outcome. A transient failure of
    one record is raised after the others were handled, so Lambda's retry redoes
    only what is still pending (the others answer "duplicate")."""
    outcomes: list[Outcome] = []
    pending: list[Exception] = []
    for ref in object_refs(event):
        try:
            outcomes.append(process_object(ref, settings=settings))
        except TransientError as exc:
            logger.warning(
                "transient failure; Lambda will retry",
                extra={"key_hash": key_hash(ref.key), "code": exc.code, "error": exc.message},
            )
            pending.append(exc)
    if pending:
        raise pending[0]
    return outcomes
