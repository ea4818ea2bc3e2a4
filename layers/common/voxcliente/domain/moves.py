"""The meeting's state machine, as the moves the code makes.

A move names the timeline event that records it (``meeting_events.event``),
the states it may start from and the state it reaches.
``repository.transition`` applies one with a single conditional UPDATE, so of
two concurrent callers exactly one wins. ARCHITECTURE.md draws the same
machine; ``sql/`` holds the states in a CHECK constraint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from voxcliente.domain.models import ACTIVE_STATUSES, MeetingStatus


class Move(NamedTuple):
    event: str
    expected: tuple[MeetingStatus, ...]
    to: MeetingStatus


# Submit (or the reconciler) had the file accepted by AssemblyAI.
SUBMITTED = Move("submitted_to_assemblyai", ("received",), "submitted")
# A webhook arrived before Submit could record the transcript id: it adopts it.
ADOPTED_FROM_WEBHOOK = Move("transcript_adopted_from_webhook", ("received",), "submitted")
# AssemblyAI finished (the webhook, or the reconciler's poll).
TRANSCRIBED = Move("transcript_completed", ("submitted",), "transcribed")
# An Acta worker claimed the meeting (``repository.claim_generation``).
GENERATION_STARTED = Move("generation_started", ("transcribed",), "generating")
# The acta email was accepted by SES.
EMAILED = Move("acta_emailed", ("generating",), "emailed")

FINAL_STATUSES: tuple[MeetingStatus, ...] = ("emailed", "failed")


def failed(code: str, expected: Sequence[MeetingStatus] = ACTIVE_STATUSES) -> Move:
    """Any active state to ``failed``; the event is the error code."""
    return Move(code, tuple(expected), "failed")
