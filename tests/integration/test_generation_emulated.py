"""generate_acta through the real openai SDK against the local OpenAI emulator."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import openai
import pytest

from voxcliente.acta import generation
from voxcliente.acta.generation import (
    MAX_COMPLETION_TOKENS,
    MAX_COMPLETION_TOKENS_RETRY,
    TranscriptInput,
    generate_acta,
)
from voxcliente.acta.model import Acta
from voxcliente.acta.prompts import PARTIALS_CLOSE, PARTIALS_OPEN, TRANSCRIPT_CLOSE, TRANSCRIPT_OPEN
from voxcliente.domain.errors import ProviderError, TransientError
from voxcliente.domain.models import Utterance
from voxcliente.locales import all_locales
from voxcliente.settings import Settings, load_settings
from voxlocal.emulators.openai_server import OpenAIEmulator, user_text

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

SPANISH = [
    ("A", "Buenos días, soy Lucía Méndez, jefa de logística de Textiles Andinos."),
    ("B", "Buenos días. Revisemos el plan de entregas de marzo."),
    ("A", "Proponemos pilotear el nuevo plazo con dos clientes desde el 3 de marzo."),
    ("B", "De acuerdo. Yo envío el calendario actualizado antes del viernes."),
    ("A", "Queda pendiente confirmar el costo del transporte refrigerado."),
]
ENGLISH = [
    ("A", "Good morning, I'm Tom Baker from Northwind."),
    ("B", "Thanks for joining. Let's review the March delivery plan."),
    ("A", "We agree to pilot the new lead time with two customers from March 3."),
]


@pytest.fixture
def oai() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator() as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries happen, their waits do not (nothing here measures time)."""
    monkeypatch.setattr(generation, "_sleep", lambda _seconds: None)


def settings_for(oai: OpenAIEmulator, **extra: str) -> Settings:
    return load_settings(
        {
            "OPENAI_API_KEY": oai.api_key,
            "OPENAI_BASE_URL": oai.base_url,
            "OPENAI_TIMEOUT_S": "5",
            "OPENAI_MAX_RETRIES": "2",
            **extra,
        }
    )


def make_transcript(
    lines: list[tuple[str, str]], language_code: str | None = "es", step_ms: int = 8_000
) -> TranscriptInput:
    utterances = [
        Utterance(speaker=speaker, start_ms=i * step_ms, end_ms=i * step_ms + step_ms - 500, text=t)
        for i, (speaker, t) in enumerate(lines)
    ]
    return TranscriptInput(
        text=" ".join(t for _, t in lines),
        utterances=utterances,
        language_code=language_code,
        audio_duration_s=len(lines) * step_ms / 1000,
        meeting_date=date(2027, 3, 1),
        client_name="Textiles Andinos",
        original_filename="reunion-textiles.mp3",
    )


def messages(body: dict[str, Any]) -> tuple[str, str]:
    system = next(m["content"] for m in body["messages"] if m["role"] == "system")
    return system, user_text(body["messages"])


def test_spanish_meeting_gives_a_spanish_acta_in_one_request(oai: OpenAIEmulator) -> None:
    result = generate_acta(make_transcript(SPANISH), settings=settings_for(oai))

    assert isinstance(result.acta, Acta)
    assert result.language == "es"
    assert result.acta.language == "es"
    # not a shipped sample: the emulator's minimal acta, saying what it is
    assert result.acta.title == "Acta de demostración"
    assert "no la escribió un modelo de lenguaje" in result.acta.summary
    assert result.acta.participants == result.acta.action_items == []
    assert result.model == "emulator"  # the answer's model, not the one asked for
    assert (result.parts, result.requests) == (1, 1)
    assert len(oai.requests) == 1
    body = oai.requests[0]
    assert body["model"] == "gpt-4.1-mini"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["max_completion_tokens"] == MAX_COMPLETION_TOKENS
    system, user = messages(body)
    assert "in Spanish (español)" in system
    assert "[00:00:08] B: Buenos días. Revisemos el plan de entregas de marzo." in user
    block = user.split(TRANSCRIPT_OPEN)[1].split(TRANSCRIPT_CLOSE)[0]
    assert all(text in block for _, text in SPANISH)
    assert "Textiles Andinos" in user
    assert '"1 de marzo de 2027"' in user
    expected = oai.completion(body)["usage"]
    assert result.input_tokens == expected["prompt_tokens"] > 0
    assert result.output_tokens == expected["completion_tokens"] > 0


def test_english_meeting_gives_an_english_acta(oai: OpenAIEmulator) -> None:
    result = generate_acta(make_transcript(ENGLISH, "en_us"), settings=settings_for(oai))

    assert result.language == "en"
    assert result.acta.language == "en"
    assert result.acta.title == "Demonstration minutes"
    system, user = messages(oai.requests[0])
    assert "in English" in system
    assert "Spanish" not in system
    assert "Write the acta in English now." in user


def test_meeting_language_is_ignored_when_configured_so(oai: OpenAIEmulator) -> None:
    settings = settings_for(oai, ACTA_FOLLOW_MEETING_LANGUAGE="false")
    result = generate_acta(make_transcript(ENGLISH, "en"), settings=settings)
    assert result.language == "es"
    assert "in Spanish (español)" in messages(oai.requests[0])[0]


def three_hour_meeting() -> list[tuple[str, str]]:
    topics = ["entregas", "precios", "transporte", "calidad", "facturación", "inventario"]
    return [
        (
            "ABC"[i % 3],
            f"Intervención {i:04d}: sobre {topics[i // 200 % len(topics)]}, se comentó "
            f"el pedido {1000 + i} y su plazo de {i % 30 + 1} días.",
        )
        for i in range(3 * 3600 // 10)  # one turn every 10 s for three hours
    ]


def test_three_hour_meeting_is_written_in_parts_then_merged(oai: OpenAIEmulator) -> None:
    lines = three_hour_meeting()
    settings = settings_for(oai, ACTA_MAX_CHARS_PER_PART="20000", ACTA_MAX_PARALLEL_PARTS="3")

    result = generate_acta(make_transcript(lines, step_ms=10_000), settings=settings)

    assert result.parts > 3
    assert result.requests == len(oai.requests) == result.parts + 1
    merges = [b for b in oai.requests if PARTIALS_OPEN in messages(b)[1]]
    part_requests = [b for b in oai.requests if TRANSCRIPT_OPEN in messages(b)[1]]
    assert len(merges) == 1
    assert len(part_requests) == result.parts
    # every utterance went to the model, in exactly one part request
    blocks = [
        messages(b)[1].split(TRANSCRIPT_OPEN)[1].split(TRANSCRIPT_CLOSE)[0] for b in part_requests
    ]
    for _speaker, text in lines:
        assert sum(block.count(text) for block in blocks) == 1, text
    for block in blocks:
        assert len(block) <= 20_000
    # the merge got every partial acta, in order, and was asked for the whole meeting
    system, user = messages(merges[0])
    assert "write the single formal acta of the whole meeting" in system
    partials = json.loads(user.split(PARTIALS_OPEN)[1].split(PARTIALS_CLOSE)[0])
    assert [p["part"] for p in partials] == list(range(1, result.parts + 1))
    assert partials[0]["recording_span"][0] == "00:00:00"
    assert result.acta.language == "es"
    assert result.acta.title == "Acta de demostración"
    assert result.model == "emulator"
    # tokens are summed over every request
    usages = [oai.completion(b)["usage"] for b in oai.requests]
    assert result.input_tokens == sum(u["prompt_tokens"] for u in usages)
    assert result.output_tokens == sum(u["completion_tokens"] for u in usages)


def sample_transcript(name: str, language_code: str) -> TranscriptInput:
    """A shipped sample's transcript as the acta flow hands it over."""
    sidecar = json.loads((SAMPLES / f"{name}.mp3.transcript.json").read_text(encoding="utf-8"))
    return TranscriptInput(
        text=sidecar["text"],
        utterances=[
            Utterance(speaker=u["speaker"], start_ms=u["start"], end_ms=u["end"], text=u["text"])
            for u in sidecar["utterances"]
        ],
        language_code=language_code,
        audio_duration_s=float(sidecar["audio_duration"]),
        meeting_date=None,
        client_name=None,
        original_filename=f"{name}.mp3",
    )


def golden(name: str) -> Acta:
    stored = json.loads((SAMPLES / f"{name}.acta.json").read_text(encoding="utf-8"))
    assert "hand-written" in stored["fixture"].lower()
    return Acta.model_validate(stored["acta"])


@pytest.mark.parametrize(
    ("name", "language"), [("reunion-textiles-andinos", "es"), ("client-call-en", "en")]
)
def test_a_shipped_sample_gets_its_hand_written_golden_acta(
    oai: OpenAIEmulator, name: str, language: str
) -> None:
    result = generate_acta(sample_transcript(name, language), settings=settings_for(oai))

    assert result.acta == golden(name)
    assert (result.model, result.language, result.parts) == ("emulator", language, 1)


def test_the_spanish_golden_acta_reads_as_formal_minutes(oai: OpenAIEmulator) -> None:
    acta = generate_acta(
        sample_transcript("reunion-textiles-andinos", "es"), settings=settings_for(oai)
    ).acta

    assert acta.meeting_date == "24 de febrero de 2027"
    assert acta.client == "Textiles Andinos"
    assert [(p.name, p.organization) for p in acta.participants] == [
        ("Laura Méndez", "Logística Austral"),
        ("Carlos Rojas", "Textiles Andinos"),
    ]
    assert acta.decisions == ["Se acuerda entregar cada quince días a partir del 3 de marzo."]
    assert [(a.owner, a.due_date) for a in acta.action_items][:2] == [
        ("Laura Méndez", "antes del 28 de febrero"),
        ("Carlos Rojas", "antes del 1 de marzo"),
    ]
    assert acta.action_items[0].task == "Enviar el calendario detallado de entregas."
    assert acta.next_meeting is not None and acta.next_meeting.date == "10 de marzo"


@pytest.mark.parametrize("name", ["reunion-textiles-andinos", "client-call-en"])
def test_the_golden_actas_follow_the_rules_the_model_is_given(name: str) -> None:
    acta = golden(name)
    said = all_locales()[acta.language].prompt
    people = {p.name for p in acta.participants}

    assert all(d.startswith(f"{said.agreement} ") for d in acta.decisions)
    for item in acta.action_items:
        assert item.owner is None or item.owner in people  # named as in participants
        assert item.due_date is None or said.unknown_date not in item.due_date
    # partial dates as spoken: the next meeting's "10 de marzo" gets no year
    assert acta.next_meeting is not None and acta.next_meeting.date is not None
    assert not re.search(r"\d{4}", acta.next_meeting.date)
    # no gender guessed from a first name, no article before a participant label
    text = acta.model_dump_json()
    assert not re.search(r"\b(Sra?|Mr|Ms|Mrs)\.", text)
    assert not re.search(rf"\b(El|La|The) {said.participant}\b", text)


def test_a_sample_with_one_more_line_is_not_passed_off_as_its_golden_acta(
    oai: OpenAIEmulator,
) -> None:
    sample = sample_transcript("reunion-textiles-andinos", "es")
    extra = Utterance(speaker="A", start_ms=58_000, end_ms=59_000, text="Una cosa más.")
    longer = replace(sample, utterances=[*sample.utterances, extra])

    result = generate_acta(longer, settings=settings_for(oai))

    assert result.acta.title == "Acta de demostración"
    assert result.acta.decisions == []


def test_a_failing_part_fails_the_whole_acta(oai: OpenAIEmulator) -> None:
    oai.script("insufficient_quota")
    settings = settings_for(oai, ACTA_MAX_CHARS_PER_PART="20000", ACTA_MAX_PARALLEL_PARTS="1")
    with pytest.raises(ProviderError) as caught:
        generate_acta(make_transcript(three_hour_meeting(), step_ms=10_000), settings=settings)
    assert caught.value.code == "openai_quota"


def test_length_cut_off_is_retried_once_with_more_room(oai: OpenAIEmulator) -> None:
    oai.script("length")
    result = generate_acta(make_transcript(SPANISH), settings=settings_for(oai))
    assert result.requests == 2
    allowances = [b["max_completion_tokens"] for b in oai.requests]
    assert allowances == [MAX_COMPLETION_TOKENS, MAX_COMPLETION_TOKENS_RETRY]
    # the cut-off answer's tokens are paid for, so they are counted
    assert result.output_tokens > MAX_COMPLETION_TOKENS


def test_rate_limit_is_retried_and_then_succeeds(oai: OpenAIEmulator) -> None:
    oai.script("rate_limit")
    result = generate_acta(make_transcript(SPANISH), settings=settings_for(oai))
    assert result.acta.title
    assert result.requests == len(oai.requests) == 2


@pytest.mark.parametrize(
    ("script", "code", "said", "requests"),
    [
        pytest.param(("refusal",), "openai_refusal", "declined", 1, id="refusal"),
        pytest.param(("length", "length"), "openai_length", "", 2, id="length-cut-off-twice"),
        pytest.param(("insufficient_quota",), "openai_quota", "credit", 1, id="quota-not-retried"),
    ],
)
def test_an_answer_that_cannot_improve_is_a_permanent_error(
    script: tuple[str, ...], code: str, said: str, requests: int, oai: OpenAIEmulator
) -> None:
    """A refusal, a second cut-off and an exhausted quota end the generation with
    their own code; only the cut-off is worth a second request."""
    oai.script(*script)
    with pytest.raises(ProviderError) as caught:
        generate_acta(make_transcript(SPANISH), settings=settings_for(oai))
    assert caught.value.code == code
    assert said in caught.value.message
    assert len(oai.requests) == requests


def test_insufficient_quota_is_not_retried_even_by_a_given_client(oai: OpenAIEmulator) -> None:
    client = openai.OpenAI(api_key=oai.api_key, base_url=oai.base_url, max_retries=5)
    oai.script("insufficient_quota")
    with pytest.raises(ProviderError) as caught:
        generate_acta(make_transcript(SPANISH), settings=settings_for(oai), client=client)
    assert caught.value.code == "openai_quota"
    assert len(oai.requests) == 1


def test_server_errors_that_persist_are_transient(oai: OpenAIEmulator) -> None:
    oai.script("server_error", "server_error", "server_error")
    with pytest.raises(TransientError) as caught:
        generate_acta(make_transcript(SPANISH), settings=settings_for(oai))
    assert caught.value.code == "openai_unavailable"
    assert len(oai.requests) == 3  # OPENAI_MAX_RETRIES=2: three attempts


def test_a_timeout_is_retried(oai: OpenAIEmulator) -> None:
    oai.script(("delay", 3.0))
    settings = settings_for(oai, OPENAI_TIMEOUT_S="0.5", OPENAI_MAX_RETRIES="1")
    result = generate_acta(make_transcript(SPANISH), settings=settings)
    assert result.requests == 2


def test_a_timeout_without_retries_left_is_transient(oai: OpenAIEmulator) -> None:
    oai.script(("delay", 3.0))
    settings = settings_for(oai, OPENAI_TIMEOUT_S="0.5", OPENAI_MAX_RETRIES="0")
    with pytest.raises(TransientError) as caught:
        generate_acta(make_transcript(SPANISH), settings=settings)
    assert caught.value.code == "openai_unavailable"


def test_a_wrong_api_key_is_rejected_for_good(oai: OpenAIEmulator) -> None:
    settings = load_settings({"OPENAI_API_KEY": "sk-wrong", "OPENAI_BASE_URL": oai.base_url})
    with pytest.raises(ProviderError) as caught:
        generate_acta(make_transcript(SPANISH), settings=settings)
    assert caught.value.code == "openai_rejected"
    assert "API key" in caught.value.message
    assert len(oai.all_requests) == 1
