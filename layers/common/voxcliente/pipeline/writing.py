"""The acta written and stored, with its cost: the one step that is paid for.

Stored in one statement with its usage lines and its event, before anything
else can fail, so that a retry resumes at the email and never pays OpenAI twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import Connection, transaction_retried
from voxcliente.domain.models import Meeting, Transcript
from voxcliente.pipeline import costs
from voxcliente.settings import Settings

if TYPE_CHECKING:
    from voxcliente.acta.model import Acta


def write_acta(
    meeting: Meeting,
    transcript: Transcript,
    client_name: str | None,
    settings: Settings,
    budget_s: float,
) -> tuple[Acta, str]:
    """Write the acta with OpenAI and store it with its cost: the one paid step.
    Returns the acta and the model that answered."""
    from voxcliente.acta import generation

    generated = generation.generate_acta(
        generation.TranscriptInput(
            text=transcript.text,
            utterances=transcript.utterances,
            language_code=transcript.language,
            audio_duration_s=float(transcript.audio_duration_s)
            if transcript.audio_duration_s is not None
            else None,
            meeting_date=meeting.meeting_date,
            client_name=client_name,
            original_filename=meeting.original_filename,
        ),
        settings=settings,
        budget_s=budget_s,
    )

    usage = costs.generation_usage(
        settings,
        meeting,
        model=generated.model,
        input_tokens=generated.input_tokens,
        output_tokens=generated.output_tokens,
    )
    event = repo.StageEvent(
        "generating",
        "acta_written",
        {
            "model": generated.model,
            "parts": generated.parts,
            "input_tokens": generated.input_tokens,
            "output_tokens": generated.output_tokens,
        },
    )

    # Stored before anything else can fail: a retry from here on resumes at the email.
    # One statement (the acta, its cost and its event), so autocommit is its transaction.
    def store(conn: Connection) -> None:
        repo.save_acta(
            conn,
            meeting.id,
            content=generated.acta.model_dump(mode="json"),
            language=generated.language,
            model=generated.model,
            input_tokens=generated.input_tokens,
            output_tokens=generated.output_tokens,
            parts=generated.parts,
            generation_ms=generated.generation_ms,
            usage=usage,
            event=event,
        )

    transaction_retried(store, what="storing the acta", single_statement=True)
    return generated.acta, generated.model
