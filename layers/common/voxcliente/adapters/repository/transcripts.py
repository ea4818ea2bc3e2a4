"""What a meeting produced: its transcript (from AssemblyAI) and its acta (from OpenAI).

All SQL of the project lives in this package, one module per aggregate.
Each is one row per meeting; saving again replaces it, so a retried step
leaves the same row a first success would have.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from voxcliente.adapters.db import Connection
from voxcliente.adapters.repository._rows import fetch_optional, upsert
from voxcliente.domain.models import ActaRecord, Transcript, Utterance


def save_transcript(
    conn: Connection,
    meeting_id: UUID,
    *,
    text: str,
    utterances: Iterable[Utterance],
    language: str | None,
    confidence: float | None,
    audio_duration_s: float | None,
) -> Transcript:
    """Store the transcript and copy its duration (and language, if none was given) to the
    meeting."""
    transcript = upsert(
        conn,
        Transcript,
        "transcripts",
        {
            "meeting_id": meeting_id,
            "text": text,
            "utterances": Jsonb([u.model_dump() for u in utterances]),
            "language": language,
            "confidence": confidence,
            "word_count": len(text.split()),
            "audio_duration_s": audio_duration_s,
        },
        key=("meeting_id",),
    )
    conn.execute(
        "UPDATE meetings SET audio_duration_s = %s, language = coalesce(language, %s) "
        "WHERE id = %s",
        (audio_duration_s, language, meeting_id),
    )
    return transcript


def get_transcript(conn: Connection, meeting_id: UUID) -> Transcript | None:
    return fetch_optional(
        conn, Transcript, "SELECT * FROM transcripts WHERE meeting_id = %s", (meeting_id,)
    )


def save_acta(
    conn: Connection,
    meeting_id: UUID,
    *,
    content: dict[str, Any],
    language: str,
    model: str,
    input_tokens: int,
    output_tokens: int,
    parts: int,
    generation_ms: int,
) -> ActaRecord:
    return upsert(
        conn,
        ActaRecord,
        "actas",
        {
            "meeting_id": meeting_id,
            "content": Jsonb(content),
            "language": language,
            "model": model,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "parts": parts,
            "generation_ms": generation_ms,
        },
        key=("meeting_id",),
    )


def get_acta(conn: Connection, meeting_id: UUID) -> ActaRecord | None:
    return fetch_optional(
        conn, ActaRecord, "SELECT * FROM actas WHERE meeting_id = %s", (meeting_id,)
    )
