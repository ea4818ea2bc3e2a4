"""Retention: nothing kept longer than the settings say, through the erasure code.

Run by the reconciler each time (every few minutes), each part batch-limited so
one run stays short; what a run leaves, the next one takes:

* a meeting received more than ``ACTA_RETENTION_DAYS`` ago is erased whole
  (:func:`voxcliente.pipeline.erasure.erase_meeting`, ``requested_by="retention"``);
* a transcript older than ``TRANSCRIPT_RETENTION_DAYS`` is purged: its row, its
  stored document and AssemblyAI's copy if still there, with a ``transcript``
  erasure row as the audit record (the acta stays until its own retention);
* trial confirmations older than two days are deleted (their codes expired long
  before; the daily limits look back one day).

The recording itself expires by the bucket's lifecycle rule
(``AUDIO_RETENTION_DAYS``); the same rules expire the documents' prefixes as a
backstop should this purge fall behind.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voxcliente.adapters.db import transaction
from voxcliente.adapters.repository import erasures as sql
from voxcliente.domain.errors import NotFound
from voxcliente.observability import logger
from voxcliente.pipeline import erasure
from voxcliente.settings import get_settings

# Per part and per run. Erasing one meeting makes up to five outside calls (its
# objects, AssemblyAI), some 100 ms each: 50 fit the reconciler's 120 s with room
# for its other work, and a backlog drains at 50 every run.
BATCH = 50
# One statement, no outside call.
CONFIRMATIONS_BATCH = 1000
CONFIRMATIONS_KEPT = timedelta(days=2)


def purge_expired(now: datetime | None = None) -> dict[str, int]:
    """Erase what is past its retention; return how many of each were purged
    (``now``: the clock to measure ages against, a test's moved one)."""
    cfg = get_settings()
    at = now or datetime.now(UTC)
    counts = {"meetings": 0, "transcripts": 0, "confirmations": 0, "abandoned_uploads": 0}
    with transaction() as tx:
        expired = sql.meetings_past_retention(
            tx, at - timedelta(days=cfg.acta_retention_days), BATCH
        )
    for meeting_id in expired:
        try:
            erasure.erase_meeting(meeting_id, requested_by="retention")
        except NotFound:  # pragma: no cover - meeting rows are never deleted
            continue
        counts["meetings"] += 1
    counts["transcripts"] = _purge_transcripts(at - timedelta(days=cfg.transcript_retention_days))
    with transaction() as tx:
        # The codes and their emails are no use once expired; neither is an upload
        # whose file never came once its presigned POST expired.
        counts["confirmations"] = sql.delete_confirmations_before(
            tx, at - CONFIRMATIONS_KEPT, CONFIRMATIONS_BATCH
        ) + sql.forget_confirmation_emails_before(tx, at - CONFIRMATIONS_KEPT, CONFIRMATIONS_BATCH)
        counts["abandoned_uploads"] = sql.delete_abandoned_uploads_before(
            tx, at - CONFIRMATIONS_KEPT, CONFIRMATIONS_BATCH
        )
    if any(counts.values()):
        logger.info("retention purge", extra=counts)
    return counts


def _purge_transcripts(before: datetime) -> int:
    """Transcripts of meetings received before ``before``: their rows deleted (one
    transaction, with each one's audit row), then their outside copies."""
    cfg = get_settings()
    started: list[sql.Erasure] = []
    with transaction() as tx:
        for meeting in sql.transcripts_past_retention(tx, before, BATCH):
            row, created = sql.start_erasure(
                tx,
                subject="transcript",
                subject_id=meeting.id,
                requested_by="retention",
                actor_user_id=None,
            )
            if created:
                pending = erasure.outside_copies(meeting, cfg, transcript_only=True)
                sql.purge_transcript_rows(tx, meeting.id)
                row = sql.save_pending(tx, row.id, pending)
            else:  # pragma: no cover - the row and the purge commit together
                sql.purge_transcript_rows(tx, meeting.id)
            started.append(row)
    for row in started:
        if row.status == "pending":
            erasure.finish_erasure(row, cfg)
    return len(started)
