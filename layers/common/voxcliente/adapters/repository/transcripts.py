"""What a meeting produced: its transcript (from AssemblyAI) and its acta (from OpenAI).

All SQL of the project lives in this package, one module per aggregate.
Each is one row per meeting; saving again replaces it, so a retried step
leaves the same row a first success would have.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from voxcliente.adapters.db import Connection
from voxcliente.adapters.repository._rows import fetch_optional
from voxcliente.adapters.repository.usage import UsageLines, meeting_cost_changes, usage_ctes
from voxcliente.domain.errors import MeetingErased
from voxcliente.domain.models import ActaRecord, MeetingStatus, Transcript, Utterance


@dataclass(frozen=True)
class StageEvent:
    """The timeline row a stored result adds (``meeting_events``), in the same statement."""

    status: MeetingStatus  # the meeting's status, before and after: a stage, not a move
    event: str
    details: dict[str, Any]


def _extras(
    meeting_id: UUID, usage: UsageLines | None, event: StageEvent | None
) -> tuple[sql.Composable, dict[str, Any]]:
    """The usage and event CTEs (each with a leading comma) and their parameters."""
    parts: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if usage is not None:
        ctes, params = usage_ctes(usage, meeting_id)
        parts.append(ctes)
    if event is not None:
        parts.append(
            sql.SQL(
                """
        logged AS (
            INSERT INTO meeting_events (meeting_id, from_status, to_status, event, details)
            VALUES (%(event_meeting)s, %(event_status)s, %(event_status)s, %(event_name)s,
                    %(event_details)s)
        )"""
            )
        )
        params |= {
            "event_meeting": meeting_id,
            "event_status": event.status,
            "event_name": event.event,
            "event_details": Jsonb(event.details),
        }
    return sql.SQL("").join(sql.SQL(",") + part for part in parts), params


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
    usage: UsageLines | None = None,
    event: StageEvent | None = None,
) -> Transcript:
    """Store the transcript, copy its duration (and language, if none was given) to the
    meeting, and record its ``usage`` (the meeting's and user's totals moved by it) and
    its ``event``: one statement, so one autocommit round trip is the whole change.
    A meeting erased meanwhile gets no transcript (:class:`MeetingErased`); what
    was paid for it is still recorded.

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
    extras, extra_params = _extras(meeting_id, usage, event)
    costs: sql.Composable = sql.SQL("")
    source: sql.Composable = sql.SQL("")
    if usage is not None:
        costs = sql.SQL(", ") + meeting_cost_changes(usage.provider)
        source = sql.SQL(" FROM usage_change")
    query = sql.SQL(
        """
        WITH saved AS (
            INSERT INTO transcripts (meeting_id, text, utterances, language, confidence,
                                     word_count, audio_duration_s)
            SELECT %(meeting_id)s, %(text)s, %(utterances)s, %(language)s, %(confidence)s,
                   %(word_count)s, %(audio_duration_s)s
            WHERE NOT EXISTS (SELECT 1 FROM meetings
                              WHERE id = %(meeting_id)s AND erased_at IS NOT NULL)
            ON CONFLICT (meeting_id) DO UPDATE
            SET text = EXCLUDED.text, utterances = EXCLUDED.utterances,
                language = EXCLUDED.language, confidence = EXCLUDED.confidence,
                word_count = EXCLUDED.word_count, audio_duration_s = EXCLUDED.audio_duration_s
            RETURNING id, created_at, updated_at
        ){extras},
        meeting AS (
            UPDATE meetings m SET audio_duration_s = %(audio_duration_s)s,
                                  language = coalesce(m.language, %(language)s){costs}{source}
            WHERE m.id = %(meeting_id)s
        )
        SELECT * FROM saved
        """
    ).format(extras=extras, costs=costs, source=source)
    row = conn.execute(query, {**values, **extra_params}).fetchone()
    if row is None:
        raise MeetingErased(meeting_id)
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
    usage: UsageLines | None = None,
    event: StageEvent | None = None,
) -> ActaRecord:
    """Store the acta (a second save replaces it), with its ``usage`` (the meeting's and
    user's totals moved by it) and its ``event``, in one statement: the paid result,
    its cost and its timeline row commit together, in one round trip. A meeting
    erased while its acta was being written gets no acta (:class:`MeetingErased`);
    the generation's cost is still recorded: it was paid."""
    extras, extra_params = _extras(meeting_id, usage, event)
    costed: sql.Composable = sql.SQL("")
    if usage is not None:
        costed = sql.SQL(
            """,
        meeting AS (
            UPDATE meetings m SET {costs}
            FROM usage_change WHERE m.id = %(meeting_id)s AND usage_change.usd <> 0
        )"""
        ).format(costs=meeting_cost_changes(usage.provider))
    query = sql.SQL(
        """
        WITH saved AS (
            INSERT INTO actas (meeting_id, content, language, model, input_tokens,
                               output_tokens, parts, generation_ms)
            SELECT %(meeting_id)s, %(content)s, %(language)s, %(model)s, %(input_tokens)s,
                   %(output_tokens)s, %(parts)s, %(generation_ms)s
            WHERE NOT EXISTS (SELECT 1 FROM meetings
                              WHERE id = %(meeting_id)s AND erased_at IS NOT NULL)
            ON CONFLICT (meeting_id) DO UPDATE
            SET content = EXCLUDED.content, language = EXCLUDED.language,
                model = EXCLUDED.model, input_tokens = EXCLUDED.input_tokens,
                output_tokens = EXCLUDED.output_tokens, parts = EXCLUDED.parts,
                generation_ms = EXCLUDED.generation_ms
            RETURNING *
        ){extras}{costed}
        SELECT * FROM saved
        """
    ).format(extras=extras, costed=costed)
    values = {
        "meeting_id": meeting_id,
        "content": Jsonb(content),
        "language": language,
        "model": model,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "parts": parts,
        "generation_ms": generation_ms,
    }
    saved = fetch_optional(conn, ActaRecord, query, {**values, **extra_params})
    if saved is None:
        raise MeetingErased(meeting_id)
    return saved


def get_acta(conn: Connection, meeting_id: UUID) -> ActaRecord | None:
    return fetch_optional(
        conn, ActaRecord, "SELECT * FROM actas WHERE meeting_id = %s", (meeting_id,)
    )
