"""Acta generation without a network: language, splitting, guards.

The words sent to the model are tested in test_prompts.py.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from voxcliente.acta.attempts import MIN_ATTEMPT_S, Deadline
from voxcliente.acta.generation import (
    TranscriptInput,
    _finish,
    acta_language,
    generate_acta,
    split_transcript,
    transcript_segments,
)
from voxcliente.acta.model import Acta, NextMeeting
from voxcliente.adapters.openai_api import Unavailable, unavailable
from voxcliente.domain.errors import InputRejected, TransientError
from voxcliente.domain.models import Utterance
from voxcliente.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def transcript(utterances: list[Utterance], text: str | None = None) -> TranscriptInput:
    return TranscriptInput(
        text=text if text is not None else " ".join(u.text for u in utterances),
        utterances=utterances,
        language_code="es",
        audio_duration_s=3600.0,
        meeting_date=None,
        client_name=None,
        original_filename="reunion.mp3",
    )


def utterances(count: int, words: int = 12) -> list[Utterance]:
    return [
        Utterance(
            speaker="AB"[i % 2],
            start_ms=i * 7_000,
            end_ms=i * 7_000 + 6_500,
            text=f"Intervención {i}: " + " ".join(f"palabra{i}x{w}" for w in range(words)) + ".",
        )
        for i in range(count)
    ]


# --- language -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "code", "expected"),
    [
        ({}, None, "es"),
        ({}, "es", "es"),
        ({}, "en", "en"),
        ({}, "en_us", "en"),
        ({}, "EN-GB", "en"),
        ({}, "pt", "pt"),
        ({}, "haw", "es"),  # not ISO 639-1: the configured language
        ({"ACTA_FOLLOW_MEETING_LANGUAGE": "false"}, "en_us", "es"),
        ({"ACTA_LANGUAGE": "en"}, None, "en"),
        ({"ACTA_LANGUAGE": "en", "ACTA_FOLLOW_MEETING_LANGUAGE": "false"}, "es", "en"),
    ],
)
def test_acta_language(env: dict[str, str], code: str | None, expected: str) -> None:
    assert acta_language(load_settings(env), code) == expected


# --- splitting --------------------------------------------------------------------


def test_short_transcript_is_one_part_with_every_utterance() -> None:
    given = utterances(5)
    parts = split_transcript(transcript(given), 200_000)
    assert len(parts) == 1
    assert [s.utterance_index for s in parts[0]] == [0, 1, 2, 3, 4]
    assert parts[0][0].line().startswith("[00:00:00] A: Intervención 0:")
    assert parts[0][1].line().startswith("[00:00:07] B: Intervención 1:")


def test_long_transcript_splits_between_utterances_keeping_each_once_in_order() -> None:
    given = utterances(400)
    max_chars = 5_000
    parts = split_transcript(transcript(given), max_chars)

    assert len(parts) > 5
    for part in parts:
        assert sum(len(s.line()) + 1 for s in part) <= max_chars
    # every utterance is in exactly one part, whole, and the order is kept
    seen = [s.utterance_index for part in parts for s in part]
    assert seen == list(range(len(given)))
    for part in parts:
        for segment in part:
            assert segment.text == given[segment.utterance_index].text


def test_an_utterance_longer_than_a_part_is_split_on_sentence_boundaries() -> None:
    sentences = [f"Esta es la frase número {n} del monólogo largo." for n in range(200)]
    monologue = Utterance(speaker="C", start_ms=60_000, end_ms=3_600_000, text=" ".join(sentences))
    given = [*utterances(3), monologue, *utterances(2)]
    max_chars = 1_000

    parts = split_transcript(transcript(given), max_chars)

    for part in parts:
        assert sum(len(s.line()) + 1 for s in part) <= max_chars
    pieces = [s for part in parts for s in part if s.utterance_index == 3]
    assert len(pieces) > 1
    assert " ".join(p.text for p in pieces) == monologue.text  # nothing lost
    for piece in pieces:
        assert piece.text.endswith("monólogo largo.")  # cut between sentences only
        assert piece.line().startswith("[00:01:00] C: ")
    indexes = [s.utterance_index for part in parts for s in part]
    assert indexes == sorted(indexes)
    assert set(indexes) == set(range(len(given)))


def test_a_single_run_on_sentence_is_cut_between_words() -> None:
    run_on = Utterance(speaker="A", start_ms=0, end_ms=1, text=" ".join(["palabra"] * 600))
    parts = split_transcript(transcript([run_on]), 1_000)
    assert len(parts) > 1
    assert " ".join(s.text for part in parts for s in part) == run_on.text


def test_empty_utterances_are_skipped_and_plain_text_is_used_without_utterances() -> None:
    given = [
        Utterance(speaker="A", start_ms=0, end_ms=1, text="  "),
        Utterance(speaker="B", start_ms=5_000, end_ms=6_000, text="Hola,\n  buenos días."),
    ]
    segments = transcript_segments(transcript(given), 1_000)
    assert [s.line() for s in segments] == ["[00:00:05] B: Hola, buenos días."]

    plain = transcript_segments(transcript([], text="Sin etiquetas de hablante."), 1_000)
    assert [s.line() for s in plain] == ["Sin etiquetas de hablante."]


# --- guards and finishing touches ----------------------------------------------------


def test_empty_transcript_is_rejected_as_no_speech_before_any_request() -> None:
    settings = load_settings({})  # no API key: a request would fail differently
    with pytest.raises(InputRejected) as caught:
        generate_acta(transcript([], text="  \n "), settings=settings)
    assert caught.value.code == "no_speech"


def test_finish_sets_language_and_fills_what_code_knows() -> None:
    acta = Acta(
        language="xx",
        meeting_date=None,
        start_time=None,
        end_time=None,
        modality=None,
        place=None,
        client=None,
        participants=[],
        topics=[],
        decisions=[],
        action_items=[],
        open_questions=[],
        next_meeting=NextMeeting(date="10 de marzo", time=None, modality=None, purpose=None),
        title="Plan de entregas",
        summary="Se revisó el plan.",
    )
    given = replace(
        transcript(utterances(1)), meeting_date=date(2027, 3, 3), client_name="Textiles Andinos"
    )

    finished = _finish(acta, given, "es")

    assert finished.language == "es"
    assert finished.meeting_date == "3 de marzo de 2027"
    assert finished.client == "Textiles Andinos"
    # what the model wrote is kept as written
    assert finished.next_meeting == acta.next_meeting
    assert finished.model_dump(exclude={"language", "meeting_date", "client"}) == acta.model_dump(
        exclude={"language", "meeting_date", "client"}
    )
    said = acta.model_copy(update={"meeting_date": "2 de marzo", "client": "TA"})
    assert _finish(said, given, "en").meeting_date == "2 de marzo"
    assert _finish(said, given, "en").client == "TA"


def test_importing_generation_does_not_import_openai() -> None:
    code = "import sys, voxcliente.acta.generation; print('openai' in sys.modules)"
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "layers" / "common"), "POWERTOOLS_SERVICE_NAME": "t"},
    )
    assert result.stdout.strip() == "False"


# --- how long to wait before a retry ---------------------------------------------------


def rate_limited(headers: dict[str, str]) -> Unavailable:
    """What the OpenAI adapter makes of the SDK's 429 with these headers."""
    import httpx2
    import openai

    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx2.Response(429, headers=headers, request=request)
    return unavailable(openai.RateLimitError("rate limited", response=response, body={"code": "x"}))


def deadline(budget_s: float = 780.0) -> Deadline:
    return Deadline(budget_s, load_settings({}), lambda _seconds: None)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "300"}, None),  # longer than worth waiting inside the function
        ({"retry-after": "1", "x-should-retry": "false"}, None),
    ],
)
def test_retry_delay_honours_the_server(headers: dict[str, str], expected: float | None) -> None:
    assert deadline().retry_delay(rate_limited(headers), 0) == expected


def test_retry_delay_backs_off_exponentially_with_jitter() -> None:
    first = deadline().retry_delay(rate_limited({}), 0)
    third = deadline().retry_delay(rate_limited({}), 2)
    assert first is not None and 0.375 <= first <= 0.5
    assert third is not None and 1.5 <= third <= 2.0


def test_no_wait_runs_past_the_deadline() -> None:
    # 3 s asked, but only MIN_ATTEMPT_S + 2 s left: waiting would leave no room to try
    assert deadline(MIN_ATTEMPT_S + 2).retry_delay(rate_limited({"retry-after": "3"}), 0) is None


def test_no_attempt_starts_without_time_for_it() -> None:
    with pytest.raises(TransientError) as caught:
        deadline(MIN_ATTEMPT_S - 1).attempt_timeout()
    assert caught.value.code == "openai_unavailable"
