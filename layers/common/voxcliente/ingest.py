"""Submit: an object landed in the bucket; make it a meeting and send it to AssemblyAI once.

S3 delivers events at least once and Lambda retries asynchronous invocations,
so the same record may arrive twice, even at the same moment in two execution
environments. The meeting is keyed by (bucket, key, version) in the database,
and only the run that wins the conditional claim submits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import unquote_plus
from uuid import UUID

from voxcliente import aws, media, queue, transcription
from voxcliente import repository as repo
from voxcliente.db import transaction
from voxcliente.errors import ProviderError, TransientError
from voxcliente.models import Meeting
from voxcliente.observability import logger, metrics
from voxcliente.settings import Settings, get_settings

# How long a Submit run may hold the claim before another run may take over
# (longer than the function's timeout: the holder is dead by then).
SUBMIT_CLAIM_STALE_S = 300


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


def valid_email(value: str | None) -> str | None:
    if not value:
        return None
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(value.strip(), check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


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
        return Recipient(
            email=valid_email(upload.email),
            client_name=upload.client_name,
            meeting_date=upload.meeting_date,
            language=upload.language,
            upload_id=upload.id,
            problem=None,
        )
    if ref.key.startswith(settings.upload_prefix):
        return Recipient(None, None, None, None, None, "upload_unknown")
    given = metadata.get("email")
    if given is None and ref.key.startswith(settings.inbox_prefix):
        parts = ref.key[len(settings.inbox_prefix) :].split("/")
        given = parts[0] if len(parts) > 1 else None
    email = valid_email(given)
    language, language_problem = _metadata_language(metadata.get("language"))
    problem = None if email else ("email_invalid" if given else "email_missing")
    return Recipient(
        email=email,
        client_name=(metadata.get("client") or metadata.get("client-name") or None),
        meeting_date=_parse_date(metadata.get("meeting-date")),
        language=language,
        upload_id=None,
        problem=problem or language_problem,
    )


def _metadata_language(given: str | None) -> tuple[str | None, str | None]:
    """The object's ``language`` metadata as AssemblyAI's code, or why it cannot be used."""
    from voxcliente.languages import UnsupportedLanguage, to_assemblyai

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
    "email_invalid": "The recipient address given with the file is not a valid email address.",
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
}


def _human_size(n: int) -> str:
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{n / 1024**2:.0f} MB"


def _refuse(meeting: Meeting, code: str, settings: Settings) -> Outcome:
    message = _REFUSALS[code].format(limit=_human_size(settings.max_upload_bytes))
    with transaction() as tx:
        failed = repo.fail_meeting(
            tx, meeting.id, code=code, message=message, expected=("received",)
        )
    if failed is not None:
        logger.warning("file refused", extra={"meeting_id": str(meeting.id), "code": code})
        metrics.add_metric(name="FilesRefused", unit="Count", value=1)
        if failed.recipient_email:
            queue.enqueue(failed.id, "failure", settings=settings)
    return Outcome(meeting.s3_key, meeting.id, "failed" if failed else "duplicate")


def process_object(ref: ObjectRef, *, settings: Settings | None = None) -> Outcome:
    """Turn one S3 object into a submitted meeting (or a failed one that says why)."""
    cfg = settings or get_settings()
    if ref.key.endswith("/") or not ref.key.startswith((cfg.upload_prefix, cfg.inbox_prefix)):
        logger.info("ignoring object outside uploads/ and inbox/", extra={"key": ref.key})
        return Outcome(ref.key, None, "skipped")
    s3 = aws.client("s3")
    head_args: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
    if ref.version_id:
        head_args["VersionId"] = ref.version_id
    try:
        head = s3.head_object(**head_args)
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            logger.warning("object gone before it could be read", extra={"key": ref.key})
            return Outcome(ref.key, None, "skipped")
        raise
    metadata = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
    size = int(head.get("ContentLength", ref.size or 0))
    who = resolve_recipient(ref, metadata, cfg)
    etag = str(ref.etag or head.get("ETag") or "").strip('"')
    filename = ref.key.rsplit("/", 1)[-1]

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
            content_type=head.get("ContentType"),
            original_filename=filename,
            user_id=user.id if user else None,
            client_id=client.id if client else None,
            upload_id=who.upload_id,
            recipient_email=who.email,
            meeting_date=who.meeting_date,
            language=who.language,
        )
    log = {"meeting_id": str(meeting.id), "key": ref.key, "new_meeting": created}
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
    head_bytes = s3.get_object(**get_args)["Body"].read()
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
    log = {"meeting_id": str(meeting.id), "key": meeting.s3_key}
    try:
        if cfg.assemblyai_upload_audio:
            audio_url = transcription.upload(
                s3.get_object(**head_args)["Body"].read(), settings=cfg
            )
        else:
            audio_url = s3.generate_presigned_url(
                "get_object", Params=head_args, ExpiresIn=cfg.presign_get_ttl_s
            )
        transcript_id = transcription.submit(
            audio_url, meeting_id=meeting.id, language_code=meeting.language, settings=cfg
        )
    except ProviderError as exc:
        with transaction() as tx:
            failed = repo.fail_meeting(
                tx, meeting.id, code=exc.code, message=exc.message, expected=("received",)
            )
        if failed is not None and failed.recipient_email:
            queue.enqueue(failed.id, "failure", settings=cfg)
        return Outcome(meeting.s3_key, meeting.id, "failed")
    except Exception as exc:
        # Nothing was (knowingly) accepted: give the claim back so the retry submits.
        # Should AssemblyAI have accepted the job after all, its webhook names the
        # meeting and is adopted (see webhook.handle).
        logger.exception("submission not completed; Lambda will retry", extra=log)
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
        logger.exception(
            "transcript accepted but its id was not recorded; the webhook will adopt it",
            extra={**log, "transcript_id": transcript_id},
        )
        raise
    metrics.add_metric(name="MeetingsSubmitted", unit="Count", value=1)
    logger.info("submitted to AssemblyAI", extra={**log, "transcript_id": transcript_id})
    return Outcome(meeting.s3_key, meeting.id, "submitted")


def process_event(event: dict[str, Any], *, settings: Settings | None = None) -> list[Outcome]:
    """Every record of the event. A transient failure of one record is raised after
    the others were handled, so Lambda's retry redoes only what is still pending."""
    outcomes: list[Outcome] = []
    pending: list[Exception] = []
    for ref in object_refs(event):
        try:
            outcomes.append(process_object(ref, settings=settings))
        except TransientError as exc:
            logger.exception("transient failure; Lambda will retry", extra={"key": ref.key})
            pending.append(exc)
    if pending:
        raise pending[0]
    return outcomes
