"""``make demo TRANSCRIPT=…``: plain text and AssemblyAI's JSON as the emulator's answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voxlocal import demo_transcript as dt


def test_name_lines_become_turns_and_an_unnamed_line_continues_the_turn_above() -> None:
    data = dt.from_text(
        "Laura Méndez: Buenos días a todos.\n\nPedro: Empezamos.\nCon el plan de marzo.\n"
    )
    turns = [(u["speaker"], u["text"]) for u in data["utterances"]]
    assert turns == [
        ("Laura Méndez", "Buenos días a todos."),
        ("Pedro", "Empezamos. Con el plan de marzo."),
    ]
    # AssemblyAI's shape: words with times and speakers, in order, the text the turns'
    assert [w["text"] for w in data["words"]][:2] == ["Buenos", "días"]
    assert {w["speaker"] for w in data["words"]} == {"Laura Méndez", "Pedro"}
    starts = [w["start"] for w in data["words"]]
    assert starts == sorted(starts) and all(w["end"] > w["start"] for w in data["words"])
    assert data["text"] == "Buenos días a todos. Empezamos. Con el plan de marzo."
    assert data["status"] == "completed" and data["language_code"] == "es"
    assert data["audio_duration"] * 1000 >= data["utterances"][-1]["end"]


def test_text_without_names_is_one_speaker_a_paragraph_a_turn() -> None:
    data = dt.from_text(
        "Hoy, 24 de marzo: revisamos the plan.\nSeguimos.\n\nWe agreed on the dates and the "
        "price of the order.\n"
    )
    assert [(u["speaker"], u["text"]) for u in data["utterances"]] == [
        ("A", "Hoy, 24 de marzo: revisamos the plan. Seguimos."),
        ("A", "We agreed on the dates and the price of the order."),
    ]


def test_a_line_before_any_name_makes_it_prose_not_a_dialogue() -> None:
    data = dt.from_text("Notas de la reunión\nLaura: hola\n")
    assert [u["speaker"] for u in data["utterances"]] == ["A"]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("We agreed that the order will ship on Monday and you will have it.", "en"),
        ("Acordamos que el pedido sale el lunes y lo tendrán en la semana.", "es"),
        ("OK.", "es"),  # nothing to tell: the product's default
    ],
)
def test_the_language_is_the_one_whose_common_words_the_text_uses(text: str, language: str) -> None:
    assert dt.guess_language(text) == language


def test_assemblyai_json_is_used_as_it_is_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    good = tmp_path / "t.json"
    good.write_text(json.dumps({"status": "completed", "text": "hola"}), encoding="utf-8")
    assert dt.load(good) == {"status": "completed", "text": "hola"}
    for body, says in (
        ("{", "not valid JSON"),
        ('{"status": "error", "text": "x"}', "status 'error'"),
        ('{"status": "completed", "text": ""}', "no text"),
    ):
        good.write_text(body, encoding="utf-8")
        with pytest.raises(dt.TranscriptError, match=says):
            dt.load(good)
    empty = tmp_path / "notes.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(dt.TranscriptError, match="empty"):
        dt.load(empty)


def test_without_key_or_transcript_it_says_both_ways_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSEMBLYAI_API_KEY", raising=False)
    audio = tmp_path / "mine.mp3"
    audio.write_bytes(b"ID3")
    with pytest.raises(dt.TranscriptError) as stop:
        dt.transcript_for(audio, None)
    said = str(stop.value)
    assert "Nothing was uploaded" in said
    assert "ASSEMBLYAI_API_KEY=<your key> make demo AUDIO=" in said
    assert "TRANSCRIPT=notes.txt" in said and "TRANSCRIPT=transcript.json" in said
    # a key means the real service; a given transcript wins even over a key
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", "k")
    assert dt.transcript_for(audio, None) == (None, "")
    notes = tmp_path / "notes.txt"
    notes.write_text("Ana: hola\n", encoding="utf-8")
    answer, source = dt.transcript_for(audio, notes)
    assert source == "notes.txt" and answer is not None and answer["text"] == "hola"
