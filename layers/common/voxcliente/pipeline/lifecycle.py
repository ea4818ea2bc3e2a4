"""A meeting's way to its one outcome: the transitions that end it, in one place.

``fail`` is the single "fail the meeting, then tell the person if there is
somebody to tell" step of every function (Submit's refusals and AssemblyAI's
answers, the webhook's failed transcript, the worker, the reconciler). In one
transaction it moves the meeting to ``failed`` (only from one of ``expected``:
of two concurrent callers exactly one wins) and, when the code notifies
(:mod:`voxcliente.domain.error_codes`) and the meeting has a recipient, enqueues the
failure notice. The message is sent before the commit: if SQS refuses it the
transaction rolls back and the caller's retry does both again; if the commit
fails after SQS took it, the worker finds the meeting not failed and skips the
notice, and the retry fails the meeting and enqueues it again. Either way the
meeting never ends ``failed`` without its notice queued, and the notice itself
is sent at most once (its delivery row is a claim, see the worker).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from voxcliente.adapters import repository as repo
from voxcliente.adapters import sqs
from voxcliente.adapters.db import transaction
from voxcliente.domain import error_codes, recipients
from voxcliente.domain.models import ACTIVE_STATUSES, Meeting, MeetingStatus
from voxcliente.observability import logger, metrics
from voxcliente.settings import Settings


def fail(
    meeting_id: UUID,
    code: str,
    message: str,
    *,
    expected: Sequence[MeetingStatus] = ACTIVE_STATUSES,
    details: dict[str, Any] | None = None,
    settings: Settings,
    stale_after_s: int | None = None,
) -> Meeting | None:
    """Fail the meeting with ``code`` and ``message`` and queue its notice; None if it
    was not in one of ``expected`` (someone else moved it: nothing was done).

    ``code`` should be an :class:`~voxcliente.domain.error_codes.ErrorCode` (an unknown
    one notifies, like ``internal_error``). ``message`` is written for the person
    waiting and for support, and never contains the recipient's address or the
    transcript. ``stale_after_s``: only when the meeting's current stage started
    longer ago than that (the reconciler failing a claim nobody holds any more).
    """
    with transaction() as tx:
        failed = repo.fail_meeting(
            tx,
            meeting_id,
            code=str(code),
            message=message,
            expected=expected,
            details=details,
            stale_after_s=stale_after_s,
        )
        notify = (
            failed is not None
            and recipients.usable_address(failed.recipient_email) is not None
            and error_codes.notifies(failed.error_code)
        )
        if notify:
            sqs.enqueue(meeting_id, "failure", settings=settings)
    if failed is None:
        return None
    logger.warning(
        "meeting failed",
        extra={"meeting_id": str(meeting_id), "code": str(code), "notice_queued": notify},
    )
    metrics.add_metric(name="MeetingsFailed", unit="Count", value=1)
    return failed
