"""A meeting's transcript: AssemblyAI's news about it, and the transcript itself.

Shared by the webhook and the reconciler (AssemblyAI's answer moves a submitted
meeting on, whichever of them heard it first), and by the acta worker, which
fetches and stores the transcript once.
"""

from __future__ import annotations

from uuid import UUID

from voxcliente.adapters import assemblyai, sqs
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import session, transaction
from voxcliente.domain import moves
from voxcliente.domain.error_codes import ErrorCode
from voxcliente.domain.errors import ProviderError, TransientError
from voxcliente.domain.models import Meeting, Transcript
from voxcliente.observability import metrics
from voxcliente.pipeline import costs, lifecycle
from voxcliente.settings import Settings


def complete_transcript(transcript_id: str, *, settings: Settings) -> UUID | None:
    """AssemblyAI's ``completed`` for the submitted meeting of ``transcript_id``: moved
    to ``transcribed`` and its acta queued; the id of the meeting, found by the
    statement that moves it (no lookup before it, and only its id read back: the
    webhook's usual case in three round trips).

    None when no submitted meeting has that transcript (not recorded yet, adopted
    from the URL, a repeat): :func:`apply_transcript_status` then decides.
    """
    details = {"transcript_id": transcript_id}
    with transaction() as tx:
        moved = repo.moved_by_transcript(tx, transcript_id, moves.TRANSCRIBED, details=details)
        if moved is None:
            return None
        # Enqueued before the commit, as in apply_transcript_status.
        sqs.enqueue(moved, "acta", settings=settings)
    metrics.add_metric(name="TranscriptsCompleted", unit="Count", value=1)
    return moved


def apply_transcript_status(meeting: Meeting, status: str, *, settings: Settings) -> str:
    """Move a submitted meeting on, as AssemblyAI's news about its transcript says.

    Returns what happened: ``queued``, ``failed`` or ``unchanged`` (a repeat).
    Shared by the webhook and the reconciler (when the webhook never came).
    """
    if status == "completed":
        with transaction() as tx:
            moved = repo.transition(
                tx,
                meeting.id,
                moves.TRANSCRIBED,
                details={"transcript_id": meeting.assemblyai_transcript_id},
            )
            if moved is None:
                return "unchanged"
            # Enqueued before the commit: if sending fails, nothing is recorded and
            # AssemblyAI's retry (after our 5xx) does it all again.
            sqs.enqueue(meeting.id, "acta", settings=settings)
        metrics.add_metric(name="TranscriptsCompleted", unit="Count", value=1)
        return "queued"
    if status == "error":
        if meeting.status != "submitted":
            return "unchanged"
        try:
            result = assemblyai.fetch(str(meeting.assemblyai_transcript_id), settings=settings)
            reason = result.error or "AssemblyAI gave no reason."
        except ProviderError as exc:
            # The transcript failed and AssemblyAI refuses for good to say why (a 4xx):
            # asking again cannot help, so the meeting ends now rather than after ten
            # retried webhooks.
            reason = f"AssemblyAI gave no reason ({exc.message})"
        failed = lifecycle.fail(
            meeting.id,
            ErrorCode.TRANSCRIPTION_FAILED,
            f"AssemblyAI could not transcribe the file: {reason}",
            expected=("submitted",),
            details={"assemblyai_error": reason},
            settings=settings,
        )
        if failed is None:
            return "unchanged"
        metrics.add_metric(name="TranscriptionsFailed", unit="Count", value=1)
        return "failed"
    return "unchanged"


def fetch_transcript(meeting: Meeting, settings: Settings) -> Transcript:
    """Fetch the transcript from AssemblyAI and store it (with its cost), once."""
    result = assemblyai.fetch(str(meeting.assemblyai_transcript_id), settings=settings)
    if result.status != "completed":
        raise TransientError(f"The transcript is {result.status}, not completed yet.")
    words = len(result.text.split())
    usage = costs.transcription_usage(
        settings,
        meeting,
        audio_seconds=result.audio_duration_s or 0.0,
        model=result.speech_model or settings.assemblyai_speech_models[0],
    )
    event = repo.StageEvent(
        "generating", "transcript_stored", {"words": words, "language": result.language_code}
    )
    # One statement (the transcript, its cost and its event): no BEGIN/COMMIT around it.
    with session() as conn:
        return repo.save_transcript(
            conn,
            meeting.id,
            text=result.text,
            utterances=result.utterances,
            language=result.language_code,
            confidence=result.confidence,
            audio_duration_s=result.audio_duration_s,
            word_count=words,
            usage=usage,
            event=event,
        )
