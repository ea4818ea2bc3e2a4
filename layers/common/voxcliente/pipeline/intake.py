"""One uploaded object -> a meeting, sent to AssemblyAI once (or failed, saying why).

The steps of the Submit function, here because the reconciler runs them too:
it resubmits a meeting whose Submit runs all failed, and replays S3 events
whose Lambda retries ran out.

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
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from voxcliente.adapters import assemblyai, s3
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import session
from voxcliente.adapters.s3 import ObjectRef
from voxcliente.domain import media, moves
from voxcliente.domain.errors import ObjectGone, ProviderError, RateLimited, TransientError
from voxcliente.domain.models import Meeting
from voxcliente.domain.refusals import refusal_message
from voxcliente.observability import log_unexpected, logger, metrics
from voxcliente.pipeline import lifecycle, spend
from voxcliente.pipeline.addressing import resolve_recipient
from voxcliente.settings import Settings, get_settings
from voxcliente.text import clean_text

# How long a Submit run may hold the claim before another run may take over
# (longer than the function's timeout: the holder is dead by then).
SUBMIT_CLAIM_STALE_S = 300
MAX_FILENAME = 255


@dataclass(frozen=True)
class Outcome:
    key: str
    meeting_id: UUID | None
    result: str  # submitted | duplicate | failed | skipped


def object_identity(ref: ObjectRef, etag: str) -> str:
    """What makes one upload one meeting: the version id, or (unversioned bucket) the ETag.

    Without versioning, the same name uploaded again with other content is a
    new meeting, while a redelivered event for the same upload is not.
    """
    return ref.version_id or (f"etag:{etag}" if etag else "")


def key_hash(key: str) -> str:
    """A short, stable name for an object key in logs (inbox keys hold addresses)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


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
    message = refusal_message(code, max_upload_bytes=settings.max_upload_bytes)
    failed = _fail(meeting.id, code, message, settings=settings)
    if failed is not None:
        logger.warning("file refused", extra={"meeting_id": str(meeting.id), "code": code})
        metrics.add_metric(name="FilesRefused", unit="Count", value=1)
    return Outcome(meeting.s3_key, meeting.id, "failed" if failed else "duplicate")


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
    except ObjectGone as gone:
        # Deleted (or made unreadable) between the event and our read: nothing to do.
        meeting = progress.meeting
        logger.warning(
            "object gone or unreadable (S3 403/404); skipped",
            extra={**where, "error": gone.message, "meeting_id": str(meeting and meeting.id)},
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
            with session() as conn:
                meeting, _ = repo.insert_meeting_once(
                    conn,
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
            refusal_message("internal_error", max_upload_bytes=cfg.max_upload_bytes),
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
    head = s3.head(ref)
    metadata, size, etag = head.metadata, head.size, head.etag
    progress.etag, progress.size = etag, size
    who = resolve_recipient(ref, metadata, cfg)
    progress.email = who.email
    filename = clean_text(ref.key.rsplit("/", 1)[-1], MAX_FILENAME) or "audio"

    # Autocommit: a user (or client) recorded without its meeting is harmless, and
    # the meeting and its first event are one statement.
    with session() as conn:
        user = repo.get_or_create_user(conn, who.email) if who.email else None
        client = (
            repo.get_or_create_client(conn, user.id, who.client_name)
            if user is not None and who.client_name
            else None
        )
        meeting, created = repo.insert_meeting_once(
            conn,
            s3_bucket=ref.bucket,
            s3_key=ref.key,
            s3_version_id=object_identity(ref, etag),
            s3_etag=etag or None,
            size_bytes=size,
            content_type=clean_text(head.content_type, MAX_FILENAME),
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
    if media.sniff(s3.read(ref, first=media.SNIFF_BYTES)) is None:
        return _refuse(meeting, "not_audio", cfg)
    with session() as conn:
        claimed = repo.claim_submission(conn, meeting.id, SUBMIT_CLAIM_STALE_S)
    if not claimed:
        logger.info("another run is submitting this meeting", extra=log)
        return Outcome(ref.key, meeting.id, "duplicate")
    # The daily spend guard, before anything is paid for (and under the claim, so no
    # other run is submitting what this one fails): the upload API checked it when it
    # handed out the POST, but an inbox drop never asked, and today's spend may have
    # reached the limit since.
    try:
        with session() as conn:
            spend.check_daily_spend(conn, cfg)
    except RateLimited:
        return _refuse(meeting, "daily_spend_limit", cfg)

    return _submit(meeting, ref, cfg)


def _submit(meeting: Meeting, ref: ObjectRef, cfg: Settings) -> Outcome:
    """Send a claimed meeting's file to AssemblyAI and record the transcript id."""
    log = {"meeting_id": str(meeting.id)}
    try:
        if cfg.assemblyai_upload_audio:
            audio_url = assemblyai.upload(s3.read(ref), settings=cfg)
        else:
            audio_url = s3.presigned_get(ref, expires_s=cfg.presign_get_ttl_s)
        transcript_id = assemblyai.submit(
            audio_url, meeting_id=meeting.id, language_code=meeting.language, settings=cfg
        )
    except ProviderError as exc:
        with session() as conn:
            repo.release_submission(conn, meeting.id)
        _fail(meeting.id, exc.code, exc.message, settings=cfg)
        return Outcome(meeting.s3_key, meeting.id, "failed")
    except Exception as exc:
        # Nothing was (knowingly) accepted: give the claim back so the retry submits.
        # Should AssemblyAI have accepted the job after all, its webhook names the
        # meeting and is adopted (see voxcliente.flows.webhook).
        log_unexpected("submission not completed; Lambda will retry", exc, **log)
        with session() as conn:
            repo.release_submission(conn, meeting.id)
        if isinstance(exc, TransientError):
            raise
        raise TransientError(
            f"Submitting the file failed unexpectedly ({exc.__class__.__name__}).",
            code="submit_failed",
        ) from exc
    try:
        with session() as conn:
            repo.transition(
                conn,
                meeting.id,
                moves.SUBMITTED,
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
    for ref in s3.object_refs(event):
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
