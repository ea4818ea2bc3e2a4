"""generate_acta against each error the real OpenAI API answers, through the real SDK.

The emulator (the ``openai_api`` fixture, settings pointing at it) refuses what
the real API refuses and answers the scripted failures with the real bodies and
headers; these tests prove each one ends as it should: a final
:class:`ProviderError` saying what is wrong, or retries (waiting what the
server asked) and then a :class:`TransientError` that sends the message back
to the queue. Waits are recorded, never slept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from voxcliente.acta import generation
from voxcliente.acta.generation import MAX_COMPLETION_TOKENS, TranscriptInput, generate_acta
from voxcliente.domain.errors import ProviderError, TransientError
from voxcliente.domain.models import Utterance
from voxlocal.emulators.openai_rules import ModelSpec
from voxlocal.emulators.openai_server import OpenAIEmulator

pytestmark = pytest.mark.integration

LINES = [
    ("A", "Buenos días, soy Lucía Méndez, jefa de logística de Textiles Andinos."),
    ("B", "Buenos días. Revisemos el plan de entregas de marzo."),
    ("A", "Proponemos pilotear el nuevo plazo con dos clientes desde el 3 de marzo."),
    ("B", "De acuerdo. Yo envío el calendario actualizado antes del viernes."),
]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds generation would have slept between attempts (it sleeps none here)."""
    slept: list[float] = []
    monkeypatch.setattr(generation, "_sleep", slept.append)
    return slept


def transcript(lines: list[tuple[str, str]] = LINES) -> TranscriptInput:
    utterances = [
        Utterance(speaker=speaker, start_ms=i * 8_000, end_ms=i * 8_000 + 7_500, text=text)
        for i, (speaker, text) in enumerate(lines)
    ]
    return TranscriptInput(
        text=" ".join(text for _, text in lines),
        utterances=utterances,
        language_code="es",
        audio_duration_s=len(lines) * 8.0,
        meeting_date=date(2027, 3, 1),
        client_name="Textiles Andinos",
        original_filename="reunion.mp3",
    )


def long_meeting(characters: int) -> list[tuple[str, str]]:
    line = "Se revisó el pedido {n} de la semana y su plazo de entrega con el cliente."
    count = characters // (len(line) + 16) + 1
    return [("AB"[n % 2], line.format(n=n)) for n in range(count)]


# --- refused for good: ProviderError, one request, no wait ---------------------------------


def test_an_unknown_model_fails_for_good_naming_the_model(
    openai_api: OpenAIEmulator, configure: Callable[..., None], waits: list[float]
) -> None:
    configure(OPENAI_MODEL="gpt-4.2-mini")

    with pytest.raises(ProviderError) as caught:
        generate_acta(transcript())

    assert caught.value.code == "openai_rejected"
    assert "(HTTP 404)" in caught.value.message
    assert "'gpt-4.2-mini' does not exist" in caught.value.message
    assert "OPENAI_MODEL" in caught.value.message
    assert openai_api.rejections[0]["error"]["code"] == "model_not_found"
    assert (len(openai_api.requests), waits) == (1, [])


@pytest.mark.parametrize(
    ("scripted", "said"),
    [
        pytest.param("model_not_found", ["'gpt-4.1-mini' does not exist"], id="model-not-found"),
        pytest.param(
            "context_length",
            ["(HTTP 400)", "too long for the model 'gpt-4.1-mini'"],
            id="context-length",
        ),
    ],
)
def test_a_scripted_rejection_fails_for_good(
    scripted: str, said: list[str], openai_api: OpenAIEmulator, waits: list[float]
) -> None:
    openai_api.script(scripted)

    with pytest.raises(ProviderError) as caught:
        generate_acta(transcript())

    assert caught.value.code == "openai_rejected"
    for words in said:
        assert words in caught.value.message
    assert (len(openai_api.requests), waits) == (1, [])


def test_a_part_longer_than_the_context_window_fails_for_good(
    openai_api: OpenAIEmulator, configure: Callable[..., None], waits: list[float]
) -> None:
    # Given a model whose window holds 30,000 tokens (about 120,000 characters) and
    # parts allowed up to 200,000 characters: one request of about 25,000 tokens
    # plus the 8,192 of output asked for does not fit
    openai_api.models["small-window"] = ModelSpec(context_window=30_000, max_output=16_384)
    configure(OPENAI_MODEL="small-window", ACTA_MAX_CHARS_PER_PART="200000")

    with pytest.raises(ProviderError) as caught:
        generate_acta(transcript(long_meeting(95_000)))

    assert caught.value.code == "openai_rejected"
    assert "too long for the model 'small-window'" in caught.value.message
    assert "ACTA_MAX_CHARS_PER_PART" in caught.value.message
    [rejection] = openai_api.rejections
    assert rejection["error"]["code"] == "context_length_exceeded"
    assert f"{MAX_COMPLETION_TOKENS} in the completion" in rejection["error"]["message"]
    assert waits == []


def test_parts_sized_for_the_window_write_the_same_meeting(
    openai_api: OpenAIEmulator, configure: Callable[..., None]
) -> None:
    # Given the same model and meeting, with parts of 40,000 characters (about 10,000 tokens)
    openai_api.models["small-window"] = ModelSpec(context_window=30_000, max_output=16_384)
    configure(OPENAI_MODEL="small-window", ACTA_MAX_CHARS_PER_PART="40000")

    result = generate_acta(transcript(long_meeting(95_000)))

    assert result.parts == 3
    assert result.requests == len(openai_api.requests) == 4  # three parts and the merge
    assert openai_api.rejections == []


def test_an_output_allowance_the_model_refuses_says_what_the_api_said(
    openai_api: OpenAIEmulator, configure: Callable[..., None]
) -> None:
    openai_api.models["short-output"] = ModelSpec(context_window=16_385, max_output=4_096)
    configure(OPENAI_MODEL="short-output")

    with pytest.raises(ProviderError) as caught:
        generate_acta(transcript())

    assert caught.value.code == "openai_rejected"
    assert caught.value.message == (
        "OpenAI refused the request to write the acta (HTTP 400): the request was not valid: "
        f"max_tokens is too large: {MAX_COMPLETION_TOKENS}. This model supports at most 4096 "
        f"completion tokens, whereas you provided {MAX_COMPLETION_TOKENS}."
    )


@pytest.mark.parametrize(
    ("outcome", "code", "words"),
    [
        ("content_filter", "openai_refusal", "content filter stopped it"),
        ("refusal", "openai_refusal", "declined to write minutes"),
        ("insufficient_quota", "openai_quota", "run out of credit"),
    ],
)
def test_final_answers_are_provider_errors_without_retry(
    openai_api: OpenAIEmulator, waits: list[float], outcome: str, code: str, words: str
) -> None:
    openai_api.script(outcome)

    with pytest.raises(ProviderError) as caught:
        generate_acta(transcript())

    assert caught.value.code == code
    assert words in caught.value.message
    assert (len(openai_api.requests), waits) == (1, [])


# --- worth retrying: waits honoured, then TransientError ---------------------------------


def test_a_rate_limit_waits_what_retry_after_asks_then_succeeds(
    openai_api: OpenAIEmulator, waits: list[float]
) -> None:
    openai_api.script(("rate_limit", 0.25))

    result = generate_acta(transcript())

    assert result.requests == len(openai_api.requests) == 2
    assert waits == [0.25]


def test_a_rate_limit_that_persists_is_transient_after_every_retry(
    openai_api: OpenAIEmulator, waits: list[float]
) -> None:
    # OPENAI_MAX_RETRIES=2 (the fixture): three attempts, two waits of what the server asked
    openai_api.script(("rate_limit", 0.25), ("rate_limit", 0.5), ("rate_limit", 0.75))

    with pytest.raises(TransientError) as caught:
        generate_acta(transcript())

    assert caught.value.code == "openai_unavailable"
    assert "RateLimitError" in caught.value.message
    assert "tried again automatically" in caught.value.message
    assert len(openai_api.requests) == 3
    assert waits == [0.25, 0.5]


def test_a_retry_after_longer_than_worth_waiting_gives_the_message_back_at_once(
    openai_api: OpenAIEmulator, waits: list[float]
) -> None:
    openai_api.script(("rate_limit", generation.MAX_RETRY_AFTER_S + 60))

    with pytest.raises(TransientError) as caught:
        generate_acta(transcript())

    assert caught.value.code == "openai_unavailable"
    assert (len(openai_api.requests), waits) == (1, [])


@pytest.mark.parametrize("outcome", ["server_error", "overloaded"])
def test_server_errors_that_persist_are_transient_after_backing_off(
    openai_api: OpenAIEmulator, waits: list[float], outcome: str
) -> None:
    openai_api.script(outcome, outcome, outcome)

    with pytest.raises(TransientError) as caught:
        generate_acta(transcript())

    assert caught.value.code == "openai_unavailable"
    assert "InternalServerError" in caught.value.message
    assert len(openai_api.requests) == 3
    # no retry-after on a 5xx: exponential backoff from 0.5 s, with up to 25 % jitter
    assert len(waits) == 2
    assert 0.375 <= waits[0] <= 0.5
    assert 0.75 <= waits[1] <= 1.0


@pytest.mark.parametrize("outcome", ["server_error", "overloaded"])
def test_one_server_error_is_retried_and_the_acta_written(
    openai_api: OpenAIEmulator, waits: list[float], outcome: str
) -> None:
    openai_api.script(outcome)

    result = generate_acta(transcript())

    assert result.acta.title
    assert result.requests == 2
    assert len(waits) == 1


# --- the request itself ----------------------------------------------------------------


def test_the_acta_request_passes_every_strict_rule_and_sends_only_configured_headers(
    openai_api: OpenAIEmulator, configure: Callable[..., None]
) -> None:
    # Given organization and project variables the settings do not know about
    configure(OPENAI_ORG_ID="", OPENAI_PROJECT_ID="proj_from_the_environment")

    result = generate_acta(transcript())

    assert result.requests == 1
    assert openai_api.rejections == []
    body: dict[str, Any] = openai_api.requests[0]
    assert body["response_format"]["json_schema"]["strict"] is True
    headers = openai_api.request_headers[0]
    assert headers["authorization"] == f"Bearer {openai_api.api_key}"
    assert "openai-organization" not in headers
    assert "openai-project" not in headers
