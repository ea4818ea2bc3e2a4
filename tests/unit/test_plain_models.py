"""The rows, messages and requests every function reads, without pydantic: the same
conversions and the same refusals the pydantic models made."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from voxcliente.adapters.sqs import MalformedMessage, WorkMessage
from voxcliente.domain.errors import ConfigurationError
from voxcliente.domain.models import Meeting, Transcript, Utterance
from voxcliente.flows.upload_api import BadRequest, parse_request
from voxcliente.settings import load_settings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _meeting_columns(**extra: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "created_at": NOW,
        "updated_at": NOW,
        "s3_bucket": "audio",
        "s3_key": "uploads/a/meeting.mp3",
        "s3_version_id": "v1",
        "original_filename": "meeting.mp3",
        "status": "received",
        "received_at": NOW,
        "transcription_cost_usd": Decimal(0),
        "llm_cost_usd": Decimal(0),
        "email_cost_usd": Decimal(0),
        "total_cost_usd": Decimal(0),
        **extra,
    }


def test_a_row_takes_the_columns_it_names_and_keeps_its_defaults() -> None:
    meeting = Meeting.model_validate(_meeting_columns(previous_status="submitted"))
    assert meeting.attempts == 0 and meeting.user_id is None
    assert not hasattr(meeting, "previous_status")
    assert meeting == Meeting.model_validate(meeting.model_dump())


def test_a_row_is_frozen_and_names_what_it_lacks() -> None:
    meeting = Meeting.model_validate(_meeting_columns())
    with pytest.raises(AttributeError, match="frozen"):
        meeting.status = "failed"  # type: ignore[misc]
    columns = _meeting_columns()
    del columns["s3_key"]
    with pytest.raises(TypeError, match="s3_key"):
        Meeting(**columns)


def test_a_stored_transcript_comes_back_as_utterances_and_decimals() -> None:
    stored = [{"speaker": "A", "start_ms": 0, "end_ms": 900, "text": "Hola.", "confidence": 0.9}]
    transcript = Transcript.model_validate(
        {
            "id": uuid.uuid4(),
            "created_at": NOW,
            "meeting_id": uuid.uuid4(),
            "text": "Hola.",
            "utterances": stored,
            "word_count": 1,
            "confidence": 0.93,
            "audio_duration_s": 1.5,
        }
    )
    assert transcript.utterances == [
        Utterance(speaker="A", start_ms=0, end_ms=900, text="Hola.", confidence=0.9)
    ]
    assert (transcript.confidence, transcript.audio_duration_s) == (
        Decimal("0.93"),
        Decimal("1.5"),
    )
    assert transcript.model_dump()["utterances"] == stored
    dumped = transcript.model_dump(mode="json")
    assert dumped["confidence"] == "0.93" and dumped["created_at"] == NOW.isoformat()


def test_an_utterance_never_has_a_negative_time() -> None:
    with pytest.raises(ValueError, match="never negative"):
        Utterance(speaker="A", start_ms=-1, end_ms=0, text="x")


def test_a_work_message_round_trips_and_ignores_what_it_does_not_name() -> None:
    meeting_id = uuid.uuid4()
    body = WorkMessage(meeting_id=meeting_id, kind="failure").model_dump_json()
    assert json.loads(body) == {"meeting_id": str(meeting_id), "kind": "failure"}
    again = json.dumps({"meeting_id": str(meeting_id), "sent_by": "a newer sender"})
    assert WorkMessage.model_validate_json(again) == WorkMessage(meeting_id=meeting_id)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        ("{}", "meeting_id is missing"),
        ('{"meeting_id": "nope"}', "not a UUID"),
        (json.dumps({"meeting_id": str(uuid.UUID(int=1)), "kind": "other"}), "kind"),
    ],
)
def test_a_malformed_work_message_says_why(body: str, problem: str) -> None:
    with pytest.raises(MalformedMessage, match=problem) as info:
        WorkMessage.model_validate_json(body)
    assert info.value.error_count() == 1


GOOD = {
    "email": "ana@example.com",
    "filename": "reunion.mp3",
    "content_type": "audio/mpeg",
    "size_bytes": 1000,
}


def test_an_upload_request_is_read_with_its_conversions() -> None:
    request = parse_request(
        {**GOOD, "size_bytes": "1000", "client_name": "  ", "meeting_date": "2026-03-02"}
    )
    # The body's email is ignored: the acta goes to the sign-in token's address.
    assert not hasattr(request, "email")
    assert request.size_bytes == 1000
    assert request.client_name is None
    assert request.meeting_date == date(2026, 3, 2)


def test_every_bad_upload_field_is_named() -> None:
    with pytest.raises(BadRequest) as info:
        parse_request(
            {
                "filename": "a\x00.mp3",
                "content_type": "au",
                "size_bytes": True,
                "meeting_date": "02/03/2026",
                "client_name": 7,
            }
        )
    assert set(info.value.fields) == {
        "filename",
        "content_type",
        "size_bytes",
        "meeting_date",
        "client_name",
    }
    assert "control characters" in info.value.fields["filename"]
    with pytest.raises(BadRequest) as missing:
        parse_request({"filename": "a.mp3", "content_type": "audio/mpeg"})
    assert missing.value.fields == {"size_bytes": "is required"}


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"ASSEMBLYAI_PII_REDACTION": "maybe"}, "ASSEMBLYAI_PII_REDACTION: must be true or false"),
        ({"PRESIGN_POST_TTL_S": "30"}, "PRESIGN_POST_TTL_S: must be at least 60"),
        ({"OPENAI_TIMEOUT_S": "0"}, "OPENAI_TIMEOUT_S: must be greater than 0"),
        ({"PRICE_TABLE": "{"}, "PRICE_TABLE: must be JSON"),
        ({"PRICE_TABLE": '{"ses_per_message": "1"}'}, "PRICE_TABLE: the price table lacks"),
    ],
)
def test_a_bad_setting_says_what_it_should_hold(variables: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        load_settings(variables)


def test_booleans_read_as_they_always_did() -> None:
    for text, meant in (("true", True), ("Yes", True), ("1", True), ("off", False), ("0", False)):
        assert load_settings({"ASSEMBLYAI_PII_REDACTION": text}).assemblyai_pii_redaction is meant


def test_settings_rows_and_messages_do_not_load_pydantic() -> None:
    """Every function reads these at its cold start; pydantic is for the acta alone."""
    import os
    import subprocess

    code = (
        "import sys, voxcliente.settings, voxcliente.domain.models, voxcliente.adapters.sqs, "
        "voxcliente.adapters.openai_api, voxcliente.flows.upload_api; "
        "voxcliente.settings.load_settings({}); "
        "print('pydantic' in sys.modules)"
    )
    answer = subprocess.run(  # noqa: S603 - this interpreter, with this test's import path
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert answer.stdout.strip() == "False"
