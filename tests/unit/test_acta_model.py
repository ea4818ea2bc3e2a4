"""The acta's schema as stored: actas written before the schema gained this meeting's
place and the next meeting's time and modality (and when the agenda was a list of its
own) still read, as the same acta with the new fields null."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from voxcliente.acta.model import Acta

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "reunion-textiles-andinos.acta.json"


def _current() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))["acta"]
    return data


def _as_stored_before(data: dict[str, Any]) -> dict[str, Any]:
    """The same acta in the shape the earlier schema stored."""
    old = {key: value for key, value in data.items() if key != "place"}
    old["agenda"] = ["Un orden del día que ya no se lee"]
    if old["next_meeting"] is not None:
        old["next_meeting"] = {
            "date": old["next_meeting"]["date"],
            "purpose": old["next_meeting"]["purpose"],
        }
    return old


def test_an_acta_stored_in_the_current_shape_reads_back_unchanged() -> None:
    data = _current()
    assert Acta.from_stored(data).model_dump(mode="json") == data


def test_an_acta_stored_before_the_new_fields_reads_with_them_null() -> None:
    data = _current()
    acta = Acta.from_stored(_as_stored_before(data))

    assert acta.place is None
    assert acta.next_meeting is not None
    assert (acta.next_meeting.time, acta.next_meeting.modality) == (None, None)
    assert acta.next_meeting.date == data["next_meeting"]["date"]
    # The agenda is the topics' titles, whatever the old list said.
    assert acta.agenda == [topic["title"] for topic in data["topics"]]
    assert acta.decisions == data["decisions"]


def test_an_old_acta_without_a_next_meeting_reads_too() -> None:
    old = _as_stored_before({**_current(), "next_meeting": None})
    assert Acta.from_stored(old).next_meeting is None
