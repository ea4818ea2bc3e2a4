"""Reconciler: finish what a lost webhook or a dead worker left behind.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from voxcliente import error_codes, lifecycle, queue, transcription
from voxcliente import repository as repo
from voxcliente.db import transaction
from voxcliente.errors import TransientError
from voxcliente.observability import logger, metrics
from voxcliente.settings import Settings, get_settings
from voxcliente.webhook import apply_transcript_status

# A transcribed meeting normally leaves that state within seconds.
TRANSCRIBED_GRACE_S = 600


@dataclass
class Report:
    submitted_checked: int = 0
    continued: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

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
        unnotified = repo.find_failed_without_notice(tx, error_codes.SILENT_CODES, limit)
    for meeting in submitted:
        report.submitted_checked += 1
        try:
            result = transcription.fetch(str(meeting.assemblyai_transcript_id), settings=cfg)
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
        if meeting.attempts >= cfg.max_attempts and not _email_in_flight(meeting.id):
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
        queue.enqueue(meeting.id, "acta", settings=cfg)
        report.requeued.append(str(meeting.id))
    for meeting in transcribed:
        queue.enqueue(meeting.id, "acta", settings=cfg)
        report.requeued.append(str(meeting.id))
    for meeting in unnotified:
        queue.enqueue(meeting.id, "failure", settings=cfg)
        report.notices.append(str(meeting.id))
    metrics.add_metric(name="MeetingsStuck", unit="Count", value=report.stuck)
    logger.info(
        "reconciled",
        extra={
            "submitted_checked": report.submitted_checked,
            "continued": report.continued,
            "requeued": report.requeued,
            "notices": report.notices,
            "failed": report.failed,
        },
    )
    return report


def _email_in_flight(meeting_id: UUID) -> bool:
    with transaction() as tx:
        delivery = repo.get_delivery(tx, meeting_id, "acta")
    return delivery is not None and delivery.status not in ("pending", "failed", "suppressed")
