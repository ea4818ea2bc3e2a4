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
    word_count: int | None = None,
) -> Transcript:
    """Store the transcript and copy its duration (and language, if none was given) to the
    meeting, in one statement.

    The stored row is not read back (a 10-hour transcript is megabytes of text and
    utterances the caller already holds): the returned :class:`Transcript` is built
    from what was given, with the row's id and timestamps.
    """
    kept = list(utterances)
    values: dict[str, Any] = {
        "meeting_id": meeting_id,
        "text": text,
        "utterances": Jsonb([u.model_dump() for u in kept]),
        "language": language,
        "confidence": confidence,
        "word_count": len(text.split()) if word_count is None else word_count,
        "audio_duration_s": audio_duration_s,
    }
    row = conn.execute(
        """
        WITH saved AS (
            INSERT INTO transcripts (meeting_id, text, utterances, language, confidence,
                                     word_count, audio_duration_s)
            VALUES (%(meeting_id)s, %(text)s, %(utterances)s, %(language)s, %(confidence)s,
                    %(word_count)s, %(audio_duration_s)s)
            ON CONFLICT (meeting_id) DO UPDATE
            SET text = EXCLUDED.text, utterances = EXCLUDED.utterances,
                language = EXCLUDED.language, confidence = EXCLUDED.confidence,
                word_count = EXCLUDED.word_count, audio_duration_s = EXCLUDED.audio_duration_s
            RETURNING id, created_at, updated_at
        ),
        meeting AS (
            UPDATE meetings SET audio_duration_s = %(audio_duration_s)s,
                                language = coalesce(language, %(language)s)
            WHERE id = %(meeting_id)s
        )
        SELECT * FROM saved
        """,
        values,
    ).fetchone()
    if row is None:  # pragma: no cover - an upsert returns its row
        raise LookupError("the transcript upsert returned no row")
    stored = {  # as the numeric columns keep them
        "confidence": None if confidence is None else round(confidence, 4),
        "audio_duration_s": None if audio_duration_s is None else round(audio_duration_s, 3),
    }
    return Transcript.model_validate({**values, **row, **stored, "utterances": kept})


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
