"""Erasure: a meeting, or a person, forgotten everywhere we put them.

One meeting's personal data lives in three places: PostgreSQL (address, file
name, transcript, acta, email and timeline details), S3 (the recording, whose
inbox key holds the address, and the stored .docx and transcript) and
AssemblyAI (the transcript, and the audio if it was uploaded there). Erasing
it is two steps:

1. In one transaction: the audit row (``erasures``, unique per subject, so a
   second request finds the first), the list of what lives outside PostgreSQL
   saved into it as ``pending``, and the PostgreSQL part erased
   (:func:`voxcliente.adapters.repository.erasures.erase_meeting_rows`). Once
   this commits the meeting is erased for every reader of the database.
2. Then each outside item is deleted and crossed off ``pending``; when none is
   left the row is ``done`` and keeps no key or id. A failure (AssemblyAI down,
   S3 refusing) leaves the rest pending, with the attempt counted and the error's
   class and status code (never a key) in ``last_error``: the reconciler's
   :func:`finish_pending` retries it every run until done.

What survives, for accounting: the meeting row (status, timestamps, duration,
costs) and its usage lines, without a person. Erasing again is a no-op answer.
Retention (:mod:`voxcliente.pipeline.retention`) erases through the same code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from voxcliente.adapters import assemblyai, s3
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import Connection, session, transaction
from voxcliente.adapters.repository import erasures as sql
from voxcliente.domain.error_codes import ErrorCode
from voxcliente.domain.errors import NotFound, ProviderError, TransientError
from voxcliente.domain.frozen import Frozen
from voxcliente.domain.models import Meeting
from voxcliente.observability import logger, metrics
from voxcliente.settings import Settings, get_settings

RequestedBy = Literal["user", "operator", "retention"]

# The error code an erased meeting that was still in the pipeline ends with: the
# webhook and the worker move only meetings in the state they expect, so nothing
# is transcribed, written or sent for it afterwards. Nobody is told (no address).
STOPPED_BY_ERASURE = ErrorCode.ERASED
# The provider sweep leaves a just-emailed meeting to the worker's own call.
PROVIDER_DELETE_AFTER = timedelta(minutes=5)


class ErasureOutcome(Frozen):
    """``erased``: PostgreSQL holds nothing personal any more. ``pending``: the
    kinds of outside copies not yet deleted ("s3", "assemblyai"), which the
    reconciler finishes."""

    erased: bool
    meetings: int
    pending: tuple[str, ...]


def erase_meeting(
    meeting_id: UUID,
    *,
    requested_by: RequestedBy,
    actor_user_id: UUID | None = None,
) -> ErasureOutcome:
    """Erase one meeting (raises :class:`NotFound` for an unknown id)."""
    cfg = get_settings()
    with transaction() as tx:
        erasure = _erase_meeting_in(tx, meeting_id, requested_by, actor_user_id, cfg)
    if erasure.status == "done":
        return ErasureOutcome(erased=True, meetings=1, pending=())
    left = finish_erasure(erasure, cfg)
    return ErasureOutcome(erased=True, meetings=1, pending=_kinds(left))


def erase_user(
    user_id: UUID,
    *,
    requested_by: RequestedBy,
    actor_user_id: UUID | None = None,
) -> ErasureOutcome:
    """Erase a person: each of their meetings, then their uploads, trial
    confirmations, clients and users row (raises :class:`NotFound` for an unknown
    id that was never erased). Costs stay, on meetings that no longer have an owner."""
    cfg = get_settings()
    with transaction() as tx:
        user_erasure, created = sql.start_erasure(
            tx,
            subject="user",
            subject_id=user_id,
            requested_by=requested_by,
            actor_user_id=actor_user_id,
        )
        if created:
            email = sql.lock_user_email(tx, user_id)
            if email is None:
                raise NotFound(f"There is no user {user_id}.")
            meeting_ids = sql.meeting_ids_of_user(tx, user_id)
            meetings = [
                _erase_meeting_in(tx, mid, requested_by, actor_user_id, cfg) for mid in meeting_ids
            ]
            sql.delete_user_rows(tx, user_id, email)
            unfinished = [str(m.subject_id) for m in meetings if m.status == "pending"]
            user_erasure = sql.save_pending(tx, user_erasure.id, {"meetings": unfinished})
        elif user_erasure.status == "done":
            # Erased before: nothing more to do (the meetings were counted then).
            return ErasureOutcome(erased=True, meetings=0, pending=())
        else:
            meeting_ids = [UUID(m) for m in user_erasure.pending.get("meetings", [])]
            meetings = [
                e
                for mid in meeting_ids
                if (e := sql.get_erasure(tx, "meeting", mid)) is not None and e.status == "pending"
            ]
    kinds: set[str] = set()
    for erasure in meetings:
        if erasure.status == "pending":
            kinds.update(_kinds(finish_erasure(erasure, cfg)))
    if user_erasure.status == "pending":
        finish_erasure(user_erasure, cfg)
    return ErasureOutcome(erased=True, meetings=len(meeting_ids), pending=tuple(sorted(kinds)))


def erase_address(email: str) -> int:
    """Erase what names an address that has no account (trial codes, their emails,
    uploads whose file never came); how many rows. With an account, use
    :func:`erase_user`, which does this too."""
    with transaction() as tx:
        return sql.forget_address_rows(tx, email)


def finish_pending(limit: int = 50) -> int:
    """Retry the erasures a failure left pending; return how many are done now.

    The reconciler calls this each run. Meetings come before the users whose
    erasure waits for them (a user's row is done once its meetings' are)."""
    cfg = get_settings()
    with transaction() as tx:
        rows = sql.find_pending_erasures(tx, limit)
    done = 0
    for erasure in sorted(rows, key=lambda e: e.subject == "user"):
        if not finish_erasure(erasure, cfg):
            done += 1
    metrics.add_metric(name="ErasuresPending", unit="Count", value=len(rows) - done)
    return done


def purge_expired(now: datetime | None = None) -> dict[str, int]:
    """Retention: see :func:`voxcliente.pipeline.retention.purge_expired`."""
    from voxcliente.pipeline import retention

    return retention.purge_expired(now)


def forget_at_provider(meeting_id: UUID, transcript_id: str | None = None) -> bool:
    """Delete an emailed meeting's transcript at AssemblyAI and record it; True when
    AssemblyAI holds nothing for it any more. A failure is logged and left to the
    reconciler's sweep (:func:`provider_delete_sweep`): it never fails the meeting.

    ``transcript_id``: given by the worker that has just moved the meeting to
    emailed, so the meeting is not read again (one statement in all: the record).
    """
    if transcript_id is not None:
        return _forget(transcript_id, meeting_id)
    with session() as conn:
        meeting = repo.get_meeting(conn, meeting_id)
    if meeting is None or meeting.status != "emailed":
        return False
    if meeting.provider_transcript_deleted_at is not None or not meeting.assemblyai_transcript_id:
        return True
    return _forget(meeting.assemblyai_transcript_id, meeting_id)


def provider_delete_sweep(*, now: datetime | None = None, limit: int = 50) -> int:
    """Delete at AssemblyAI the transcripts of meetings emailed more than five
    minutes ago that it still holds (the worker's own call failed or was lost);
    return how many were deleted. Off with ``DELETE_PROVIDER_TRANSCRIPT=false``."""
    if not get_settings().delete_provider_transcript:
        return 0
    before = (now or datetime.now(UTC)) - PROVIDER_DELETE_AFTER
    with transaction() as tx:
        meetings = sql.provider_transcripts_to_delete(tx, before, limit)
    return sum(
        _forget(str(m.assemblyai_transcript_id), m.id)
        for m in meetings
        if m.assemblyai_transcript_id
    )


# --- inside the transaction ------------------------------------------------------------
def _erase_meeting_in(
    tx: Connection,
    meeting_id: UUID,
    requested_by: RequestedBy,
    actor_user_id: UUID | None,
    cfg: Settings,
) -> sql.Erasure:
    """Step 1 for one meeting, in the caller's transaction: its erasure row, with
    what is left outside PostgreSQL in ``pending``. An existing row is returned as
    it is: its transaction erased the meeting already."""
    meeting = sql.lock_meeting(tx, meeting_id)
    if meeting is None:
        raise NotFound(f"There is no meeting {meeting_id}.")
    erasure, created = sql.start_erasure(
        tx,
        subject="meeting",
        subject_id=meeting_id,
        requested_by=requested_by,
        actor_user_id=actor_user_id,
    )
    if not created:
        return erasure
    pending = outside_copies(meeting, cfg)
    sql.erase_meeting_rows(tx, meeting_id, stop_code=STOPPED_BY_ERASURE)
    return sql.save_pending(tx, erasure.id, pending)


def outside_copies(
    meeting: Meeting, cfg: Settings, *, transcript_only: bool = False
) -> dict[str, list[Any]]:
    """What of ``meeting`` lives outside PostgreSQL: in S3 the recording and the
    stored documents (at their recorded keys, and at the keys the worker writes
    them to, in case one was stored and the worker lost before recording it), and
    the AssemblyAI transcript unless already deleted there. ``transcript_only``:
    the transcript document and AssemblyAI's copy, for the transcript's retention."""
    objects: list[list[str]] = []
    if not transcript_only and not meeting.s3_key.startswith("erased/"):
        objects.append([meeting.s3_bucket, meeting.s3_key])
    if cfg.audio_bucket:
        keys = [
            meeting.transcript_s3_key,
            f"{cfg.transcript_documents_prefix}{meeting.id}/transcript.txt",
        ]
        if not transcript_only:
            keys += [meeting.docx_s3_key, f"{cfg.acta_documents_prefix}{meeting.id}/acta.docx"]
        for key in dict.fromkeys(k for k in keys if k):
            objects.append([cfg.audio_bucket, key])
    pending: dict[str, list[Any]] = {"s3": objects}
    if meeting.assemblyai_transcript_id and meeting.provider_transcript_deleted_at is None:
        pending["assemblyai"] = [meeting.assemblyai_transcript_id]
    return pending


# --- outside PostgreSQL -----------------------------------------------------------------
def finish_erasure(erasure: sql.Erasure, cfg: Settings) -> dict[str, list[Any]]:
    """Step 2: delete what ``erasure`` has pending, cross off what went, and return
    what is left ({} when done)."""
    pending: dict[str, list[Any]] = {k: list(v) for k, v in erasure.pending.items()}
    errors: list[str] = []
    done_s3: list[list[str]] = []
    done_provider: list[str] = []
    for bucket, key in pending.get("s3", []):
        try:
            s3.delete(bucket, key)  # every version, in a versioned bucket
            done_s3.append([bucket, key])
        except TransientError as exc:
            errors.append(f"s3: {_describe(exc)}")
    for transcript_id in pending.get("assemblyai", []):
        try:
            assemblyai.delete_transcript(transcript_id, settings=cfg)
            done_provider.append(transcript_id)
        except (TransientError, ProviderError) as exc:
            errors.append(f"assemblyai: {_describe(exc)}")
    with transaction() as tx:
        # Read again under lock: another run may have crossed items off meanwhile.
        current = sql.lock_erasure(tx, erasure.subject, erasure.subject_id)
        left = {k: list(v) for k, v in current.pending.items()}
        if "s3" in left:
            left["s3"] = [item for item in left["s3"] if item not in done_s3]
        if "assemblyai" in left:
            left["assemblyai"] = [t for t in left["assemblyai"] if t not in done_provider]
        if "meetings" in left:
            ids = [UUID(m) for m in left["meetings"]]
            left["meetings"] = [str(m) for m in sql.unfinished_meeting_erasures(tx, ids)]
        if done_provider:
            sql.mark_provider_transcript_deleted(tx, done_provider)
        saved = sql.save_pending(tx, current.id, left)
        if errors and saved.status == "pending":
            sql.record_failure(tx, current.id, "; ".join(errors))
    if saved.status == "pending":
        logger.warning(
            "erasure left pending; the reconciler retries it",
            extra={
                "erasure_id": str(saved.id),
                "subject": saved.subject,
                "pending": sorted(saved.pending),
                "errors": errors,
            },
        )
    return dict(saved.pending)


def _forget(transcript_id: str, meeting_id: UUID) -> bool:
    try:
        assemblyai.delete_transcript(transcript_id)
    except (TransientError, ProviderError) as exc:
        logger.warning(
            "AssemblyAI transcript not deleted; the reconciler's sweep retries it",
            extra={"meeting_id": str(meeting_id), "error": _describe(exc)},
        )
        return False
    # One statement: autocommit is its transaction.
    with session() as conn:
        sql.mark_provider_transcript_deleted(conn, [transcript_id])
    return True


def _describe(exc: Exception) -> str:
    """An error without personal data: its class and, for HTTP, the status code
    (our adapters' messages name the status, never a key or an address)."""
    cause = exc.__cause__
    status = getattr(cause, "status_code", None) or getattr(
        getattr(cause, "response", None), "status_code", None
    )
    if status is None and cause is not None and hasattr(cause, "response"):
        response = getattr(cause, "response", None)
        if isinstance(response, dict):
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    name = type(cause).__name__ if cause is not None else type(exc).__name__
    return f"{type(exc).__name__}({name}{f', HTTP {status}' if status else ''})"


def _kinds(pending: dict[str, list[Any]]) -> tuple[str, ...]:
    return tuple(sorted(kind for kind, items in pending.items() if items and kind != "meetings"))
