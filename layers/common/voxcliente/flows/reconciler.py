"""Reconciler: finish what a lost webhook or a dead worker left behind.

* ``received`` that nobody is submitting: Submit's retries ran out (its claim
  released, ``RECEIVED_GRACE_S`` ago), or a run died holding the claim, perhaps
  after AssemblyAI accepted the job (``RECONCILE_SUBMITTED_AFTER_S`` ago: the
  webhook, which names the meeting, had that long to adopt the transcript).
  Submit it again as the S3 event would, or, past ``MAX_ATTEMPTS``, fail it.
* ``submitted`` for longer than ``RECONCILE_SUBMITTED_AFTER_S``: AssemblyAI
  stops retrying a webhook after about 10 attempts, so ask it for the status
  and continue as the webhook would have.
* ``transcribed`` for more than a few minutes: its queue message was lost;
  queue it again.
* ``generating`` longer than the worker's timeout: that worker died; queue it
  again and the next worker takes the stale claim over, unless it was claimed
  ``MAX_ATTEMPTS`` times already: then it is failed (``internal_error``, with
  its notice) instead of being re-queued once more. One whose acta email may be
  with SES is always re-queued: the worker resolves that email (recorded,
  or ended unsent) without paying anything again.
* ``failed`` with somebody to tell and no failure notice: queue the notice.
* Events whose Lambda retries ran out (S3 for Submit, SNS for EmailEvents) wait
  in the on-failure destination queue (``ASYNC_FAILURES_QUEUE_URL``): each is
  replayed through the same code once per run, and removed when it went
  through. Without this, a Submit refused by the database three times in a row
  would leave no meeting row at all.
* Privacy chores (:mod:`voxcliente.pipeline.erasure`), after the above: erasures
  a failure left pending are finished, what is past its retention is purged, and
  the transcripts AssemblyAI still holds for meetings emailed more than five
  minutes ago are deleted there (when ``DELETE_PROVIDER_TRANSCRIPT``). A chore
  that finds a service down is logged and done by a later run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from voxcliente.adapters import assemblyai, sqs
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import transaction
from voxcliente.adapters.s3 import ObjectRef
from voxcliente.domain import error_codes
from voxcliente.domain.errors import TransientError
from voxcliente.domain.models import Meeting
from voxcliente.observability import logger, metrics
from voxcliente.pipeline import erasure, intake, lifecycle, ses_events
from voxcliente.pipeline.delivery import acta_email_in_flight
from voxcliente.pipeline.transcripts import apply_transcript_status
from voxcliente.settings import Settings, get_settings

# A transcribed meeting normally leaves that state within seconds.
TRANSCRIBED_GRACE_S = 600
# Lambda retries a failed S3 event twice within about three minutes.
RECEIVED_GRACE_S = 900


@dataclass
class Report:
    submitted_checked: int = 0
    continued: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    replayed: int = 0
    # erasures_finished, meetings_purged, transcripts_purged, confirmations_purged,
    # abandoned_uploads_purged, provider_transcripts_deleted
    privacy: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """What the run did: the function's answer and its log line."""
        return asdict(self)

    @property
    def stuck(self) -> int:
        return len(self.continued) + len(self.requeued) + len(self.notices) + len(self.failed)


def run(*, settings: Settings | None = None, limit: int = 100) -> Report:
    cfg = settings or get_settings()
    report = Report()
    with transaction() as tx:
        submitted = repo.find_meetings_waiting(
            tx, "submitted", cfg.reconcile_submitted_after_s, limit
        )
        transcribed = repo.find_meetings_waiting(tx, "transcribed", TRANSCRIBED_GRACE_S, limit)
        generating = repo.find_meetings_waiting(tx, "generating", cfg.acta_claim_timeout_s, limit)
        unnotified = repo.find_failed_without_notice(
            tx,
            error_codes.SILENT_CODES,
            settle_s=cfg.notice_settle_s,
            lookback_s=cfg.notice_lookback_s,
            limit=limit,
        )
        received = repo.find_received_unsubmitted(
            tx,
            unclaimed_after_s=RECEIVED_GRACE_S,
            claimed_after_s=cfg.reconcile_submitted_after_s,
            limit=limit,
        )
    report.replayed = replay_failed_events(cfg)
    for meeting in received:
        _resubmit(meeting, cfg, report)
    for meeting in submitted:
        report.submitted_checked += 1
        try:
            result = assemblyai.fetch(str(meeting.assemblyai_transcript_id), settings=cfg)
            if result.done:
                outcome = apply_transcript_status(meeting, result.status, settings=cfg)
                if outcome != "unchanged":
                    report.continued.append(str(meeting.id))
        except TransientError:
            logger.exception(
                "AssemblyAI unavailable; will try again next run",
                extra={"meeting_id": str(meeting.id)},
            )
    for meeting in generating:
        if meeting.attempts >= cfg.max_attempts and not acta_email_in_flight(meeting.id):
            failed = lifecycle.fail(
                meeting.id,
                error_codes.ErrorCode.INTERNAL_ERROR,
                f"Processing stopped after {meeting.attempts} attempts: every one ended "
                "without finishing.",
                expected=("generating",),
                stale_after_s=cfg.acta_claim_timeout_s,
                settings=cfg,
            )
            if failed is not None:
                report.failed.append(str(meeting.id))
            continue
        sqs.enqueue(meeting.id, "acta", settings=cfg)
        report.requeued.append(str(meeting.id))
    for meeting in transcribed:
        sqs.enqueue(meeting.id, "acta", settings=cfg)
        report.requeued.append(str(meeting.id))
    for meeting in unnotified:
        sqs.enqueue(meeting.id, "failure", settings=cfg)
        report.notices.append(str(meeting.id))
    report.privacy = privacy_chores()
    metrics.add_metric(name="MeetingsStuck", unit="Count", value=report.stuck)
    logger.info("reconciled", extra=report.as_dict())
    return report


def privacy_chores() -> dict[str, int]:
    """Finish pending erasures, purge what is past its retention, delete the
    transcripts AssemblyAI still holds; how many of each. Each part stands alone:
    one whose database or service is unavailable is left to the next run."""
    counts = {
        "erasures_finished": 0,
        "meetings_purged": 0,
        "transcripts_purged": 0,
        "confirmations_purged": 0,
        "abandoned_uploads_purged": 0,
        "provider_transcripts_deleted": 0,
    }
    try:
        counts["erasures_finished"] = erasure.finish_pending()
    except TransientError:
        logger.exception("finishing pending erasures failed; the next run tries again")
    try:
        purged = erasure.purge_expired()
        for part in ("meetings", "transcripts", "confirmations", "abandoned_uploads"):
            counts[f"{part}_purged"] = purged[part]
    except TransientError:
        logger.exception("the retention purge failed; the next run tries again")
    try:
        counts["provider_transcripts_deleted"] = erasure.provider_delete_sweep()
    except TransientError:
        logger.exception("the provider transcript sweep failed; the next run tries again")
    return counts


# Messages read from the on-failure queue per run (10 per request).
REPLAY_BATCHES = 5


def replay_failed_events(cfg: Settings) -> int:
    """Replay the events Lambda gave up on; return how many went through.

    Each message is Lambda's destination record (AWS Lambda guide, "Capturing
    records of asynchronous invocations"): the original event is its
    ``requestPayload``. A message that fails again stays for the next run (the
    queue's alarm keeps a person informed); one that is not ours is left alone.
    """
    if not cfg.async_failures_queue_url:
        return 0
    done = 0
    for _ in range(REPLAY_BATCHES):
        messages = sqs.receive(cfg.async_failures_queue_url, visibility_timeout_s=300)
        if not messages:
            break
        for message in messages:
            if _replay(message, cfg):
                sqs.delete(cfg.async_failures_queue_url, message["ReceiptHandle"])
                done += 1
    return done


def _replay(message: dict[str, Any], cfg: Settings) -> bool:
    try:
        payload = json.loads(message.get("Body") or "").get("requestPayload")
        sources = {str(r.get("eventSource") or r.get("EventSource")) for r in payload["Records"]}
    except (ValueError, TypeError, KeyError, AttributeError):
        logger.warning("an on-failure message that is not an S3 or SNS event; left alone")
        return False
    try:
        if sources == {"aws:s3"}:
            intake.process_event(payload, settings=cfg)
        elif sources == {"aws:sns"}:
            ses_events.handle_sns_event(payload)
        else:
            logger.warning("an on-failure event from another source; left alone")
            return False
    except Exception as exc:  # noqa: BLE001 - kept for the next run, whatever it was
        logger.warning(
            "replaying a failed event failed again; kept for the next run",
            extra={"error": type(exc).__name__},
        )
        return False
    return True


def _resubmit(meeting: Meeting, cfg: Settings, report: Report) -> None:
    """Submit a stranded ``received`` meeting as its S3 event would have."""
    if meeting.submit_attempts >= cfg.max_attempts:
        failed = lifecycle.fail(
            meeting.id,
            error_codes.ErrorCode.INTERNAL_ERROR,
            f"The file could not be sent for transcription after "
            f"{meeting.submit_attempts} attempts.",
            expected=("received",),
            settings=cfg,
        )
        if failed is not None:
            report.failed.append(str(meeting.id))
        return
    identity = meeting.s3_version_id or ""
    ref = ObjectRef(
        bucket=meeting.s3_bucket,
        key=meeting.s3_key,
        # An unversioned bucket's meeting is keyed by its ETag (intake.object_identity).
        version_id="" if identity.startswith("etag:") else identity,
        size=meeting.size_bytes,
        etag=meeting.s3_etag,
    )
    try:
        outcome = intake.process_object(ref, settings=cfg)
    except TransientError:
        logger.exception(
            "resubmission failed; will try again next run", extra={"meeting_id": str(meeting.id)}
        )
        return
    if outcome.result in ("submitted", "failed"):
        report.continued.append(str(meeting.id))
