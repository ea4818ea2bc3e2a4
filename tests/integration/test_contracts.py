"""The providers' published example payloads, through the code that parses the live ones.

The fixtures in ``tests/fixtures/contracts/`` are AssemblyAI's and AWS's own
examples (sources in its README). They are never edited: where our code needs
its own ids, the test records a row under the example's id, or adapts a copy.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import WEBHOOK_SECRET, AwsEnv
from voxlocal import events
from voxlocal.functions import load_function

pytestmark = pytest.mark.integration

CONTRACTS = Path(__file__).resolve().parents[1] / "fixtures" / "contracts"
# Every SES example on AWS's page uses this message id and this recipient.
SES_MESSAGE_ID = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"
SES_RECIPIENT = "recipient@example.com"


def contract(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONTRACTS / name).read_text(encoding="utf-8"))
    return data


# --- AssemblyAI: the transcript resource ------------------------------------------------
def test_the_published_completed_transcript_is_read_as_published() -> None:
    from voxcliente.adapters.assemblyai import parse_transcript
    from voxcliente.domain.models import Utterance

    published = contract("assemblyai/transcript-completed.json")

    result = parse_transcript(published)

    assert result.transcript_id == "9ea68fd3-f953-42c1-9742-976c447fb463"
    assert result.status == "completed" and result.done and result.error is None
    assert result.text == published["text"]
    # Utterance times are milliseconds in the API and in our model: no conversion.
    assert result.utterances == [
        Utterance(
            speaker="A",
            start_ms=250,
            end_ms=26950,
            text=published["utterances"][0]["text"],
            confidence=0.9359033333333334,
        )
    ]
    assert result.language_code == "en_us"
    assert result.audio_duration_s == 281.0  # seconds, as documented
    assert result.confidence == pytest.approx(0.9404651451800253)
    # The example's "speech_model" is null and it predates "speech_model_used".
    assert result.speech_model is None


def test_the_published_regional_language_code_gives_an_acta_language() -> None:
    from voxcliente.acta.generation import acta_language
    from voxcliente.adapters.assemblyai import parse_transcript
    from voxcliente.settings import load_settings

    result = parse_transcript(contract("assemblyai/transcript-completed.json"))

    assert acta_language(load_settings({}), result.language_code) == "en"


def test_speech_model_used_as_the_current_spec_defines_it_wins_over_the_deprecated_field() -> None:
    """``TranscriptResponse.speech_model_used`` (AssemblyAI's current OpenAPI spec) names
    the model that really ran; ``speech_model`` is deprecated (null in the example)."""
    from voxcliente.adapters.assemblyai import parse_transcript

    answered = copy.deepcopy(contract("assemblyai/transcript-completed.json"))
    answered["speech_models"] = ["universal-3-pro", "universal-2"]
    answered["speech_model_used"] = "universal-2"

    assert parse_transcript(answered).speech_model == "universal-2"


def test_the_published_failed_transcript_carries_its_error() -> None:
    from voxcliente.adapters.assemblyai import parse_transcript

    published = contract("assemblyai/transcript-error.json")

    result = parse_transcript(published)

    assert result.status == "error" and result.done
    assert result.error == (
        "Download error to https://foo.bar, 403 Client Error: Forbidden for url: https://foo.bar"
    )
    assert result.utterances == [] and result.text == ""


# --- AssemblyAI: the webhook request ------------------------------------------------------
def _submitted_meeting(transcript_id: str, bucket: str) -> str:
    """A meeting Submit has sent to AssemblyAI under ``transcript_id``; returns its id."""
    from voxcliente.adapters import repository as repo
    from voxcliente.adapters.db import transaction
    from voxcliente.domain import moves

    with transaction() as tx:
        meeting, _ = repo.insert_meeting_once(
            tx,
            s3_bucket=bucket,
            s3_key=f"inbox/{SES_RECIPIENT}/wildfires.mp3",
            s3_version_id="etag:contract",
            original_filename="wildfires.mp3",
            recipient_email=SES_RECIPIENT,
        )
        moved = repo.transition(
            tx, meeting.id, moves.SUBMITTED, fields={"assemblyai_transcript_id": transcript_id}
        )
    assert moved is not None
    return str(meeting.id)


def test_the_published_webhook_body_queues_the_acta_of_its_meeting(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    from voxcliente.flows import webhook

    # Given a submitted meeting whose transcript id is the one in AssemblyAI's example
    raw_body = (CONTRACTS / "assemblyai/webhook-completed.json").read_text(encoding="utf-8")
    transcript_id = json.loads(raw_body)["transcript_id"]
    meeting_id = _submitted_meeting(transcript_id, aws.bucket)

    # When AssemblyAI posts its documented body with our secret header
    reply = webhook.handle(
        {"content-type": "application/json", "x-voxcliente-webhook-secret": WEBHOOK_SECRET},
        raw_body,
    )

    # Then the meeting is transcribed and its acta is on the queue, once
    assert reply.status == 200, reply.body
    assert reply.body == {"meeting_id": meeting_id, "outcome": "queued"}
    row = conn.execute("SELECT status FROM meetings WHERE id = %s", (meeting_id,)).fetchone()
    assert row == {"status": "transcribed"}
    assert aws.queue_messages() == [{"meeting_id": meeting_id, "kind": "acta"}]


def test_the_published_webhook_body_through_the_function_handler(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    """The same body inside the HTTP API event, as API Gateway hands it to the function."""
    raw_body = (CONTRACTS / "assemblyai/webhook-completed.json").read_text(encoding="utf-8")
    meeting_id = _submitted_meeting(json.loads(raw_body)["transcript_id"], aws.bucket)
    event = events.http_api(
        "POST",
        "/webhooks/assemblyai",
        headers={"Content-Type": "application/json", "X-VoxCliente-Webhook-Secret": WEBHOOK_SECRET},
        body=raw_body,
    )

    out = load_function("webhook").lambda_handler(event, events.LambdaContext("Webhook"))

    assert out["statusCode"] == 200, out
    assert json.loads(out["body"]) == {"meeting_id": meeting_id, "outcome": "queued"}
    assert [m["meeting_id"] for m in aws.queue_messages()] == [meeting_id]


# --- SES events, in the SNS envelope Lambda receives ---------------------------------------
@pytest.fixture
def sent_email(db_url: str) -> str:
    """An email SES accepted under the message id of AWS's examples; returns the delivery id."""
    from voxcliente.adapters import repository as repo
    from voxcliente.adapters.db import transaction

    with transaction() as tx:
        user = repo.get_or_create_user(tx, SES_RECIPIENT)
        row = tx.execute(
            "INSERT INTO email_deliveries (user_id, recipient, kind, status) "
            "VALUES (%s, %s, 'acta', 'pending') RETURNING id",
            (user.id, SES_RECIPIENT),
        ).fetchone()
        assert row is not None
        repo.mark_delivery_sent(tx, row["id"], SES_MESSAGE_ID)
    return str(row["id"])


def sns_delivery_of(ses_record: dict[str, Any]) -> dict[str, Any]:
    """AWS's sample SNS event for Lambda, carrying ``ses_record`` as SNS serialises it."""
    event = copy.deepcopy(contract("ses/sns-lambda-envelope.json"))
    event["Records"][0]["Sns"]["Message"] = json.dumps(ses_record)
    return event


def email_events(event: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = load_function("email_events").lambda_handler(
        event, events.LambdaContext("EmailEvents")
    )
    return out


def delivery_row(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    row: dict[str, Any] | None = conn.execute(
        "SELECT status, bounce_type, bounce_subtype, complaint_type, details, delivered_at "
        "FROM email_deliveries WHERE ses_message_id = %s",
        (SES_MESSAGE_ID,),
    ).fetchone()
    assert row is not None
    return row


def suppression(conn: psycopg.Connection[Any], email: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = conn.execute(
        "SELECT email_suppressed_at, email_suppressed_reason FROM users "
        "WHERE lower(email) = lower(%s)",
        (email,),
    ).fetchone()
    return row


def test_the_published_delivery_record_marks_the_email_delivered(
    sent_email: str, conn: psycopg.Connection[Any]
) -> None:
    out = email_events(sns_delivery_of(contract("ses/delivery.json")))

    assert out == {"results": ["delivered"]}
    row = delivery_row(conn)
    assert row["status"] == "delivered" and row["delivered_at"] is not None
    assert row["details"]["delivery"]["smtpResponse"] == "250 2.6.0 Message received"
    assert suppression(conn, SES_RECIPIENT) == {
        "email_suppressed_at": None,
        "email_suppressed_reason": None,
    }


def test_the_published_permanent_bounce_suppresses_the_address(
    sent_email: str, conn: psycopg.Connection[Any]
) -> None:
    out = email_events(sns_delivery_of(contract("ses/bounce.json")))

    assert out == {"results": ["bounced"]}
    row = delivery_row(conn)
    assert (row["status"], row["bounce_type"], row["bounce_subtype"]) == (
        "bounced",
        "Permanent",
        "General",
    )
    assert row["details"]["bounce"]["bouncedRecipients"][0]["status"] == "5.1.1"
    suppressed = suppression(conn, SES_RECIPIENT)
    assert suppressed is not None and suppressed["email_suppressed_at"] is not None
    assert suppressed["email_suppressed_reason"] == "bounce: General"


def test_the_published_complaint_suppresses_the_address(
    sent_email: str, conn: psycopg.Connection[Any]
) -> None:
    out = email_events(sns_delivery_of(contract("ses/complaint.json")))

    assert out == {"results": ["complained"]}
    row = delivery_row(conn)
    assert (row["status"], row["complaint_type"]) == ("complained", "abuse")
    suppressed = suppression(conn, SES_RECIPIENT)
    assert suppressed is not None and suppressed["email_suppressed_at"] is not None
    assert suppressed["email_suppressed_reason"] == "complaint: abuse"


def test_the_published_reject_record_marks_the_email_rejected_without_suppressing(
    sent_email: str, conn: psycopg.Connection[Any]
) -> None:
    out = email_events(sns_delivery_of(contract("ses/reject.json")))

    assert out == {"results": ["rejected"]}
    row = delivery_row(conn)
    assert row["status"] == "rejected"
    assert row["details"]["reject"] == {"reason": "Bad content"}
    # SES refused the message (content): nobody's address is at fault.
    assert suppression(conn, SES_RECIPIENT) == {
        "email_suppressed_at": None,
        "email_suppressed_reason": None,
    }
    assert suppression(conn, "sender@example.com") is None


def test_the_published_send_record_changes_nothing(
    sent_email: str, conn: psycopg.Connection[Any]
) -> None:
    out = email_events(sns_delivery_of(contract("ses/send.json")))

    assert out == {"results": ["ignored"]}
    assert delivery_row(conn)["status"] == "sent"


def test_the_published_sns_sample_event_itself_is_ignored(
    sent_email: str, conn: psycopg.Connection[Any]
) -> None:
    """AWS's sample carries "Hello from SNS!", not JSON: ignored, nothing raised."""
    out = email_events(contract("ses/sns-lambda-envelope.json"))

    assert out == {"results": ["ignored"]}
    assert delivery_row(conn)["status"] == "sent"


def test_published_records_for_a_message_we_did_not_send_change_nothing(
    sent_email: str, conn: psycopg.Connection[Any]
) -> None:
    # A copy of AWS's bounce for another message id (the only thing adapted).
    bounce = copy.deepcopy(contract("ses/bounce.json"))
    bounce["mail"]["messageId"] = "0100018c-not-one-of-ours-000000"

    out = email_events(sns_delivery_of(bounce))

    assert out == {"results": ["unknown_message"]}
    assert delivery_row(conn)["status"] == "sent"


def test_a_delivery_record_that_arrives_after_the_complaint_does_not_hide_it(
    sent_email: str, conn: psycopg.Connection[Any]
) -> None:
    """SNS standard topics do not keep order: AWS's Delivery record can be handled after
    its Complaint record. The complaint is what the row must keep saying."""
    email_events(sns_delivery_of(contract("ses/complaint.json")))

    out = email_events(sns_delivery_of(contract("ses/delivery.json")))

    assert out == {"results": ["delivered"]}
    row = delivery_row(conn)
    assert row["delivered_at"] is not None
    assert (row["status"], row["complaint_type"]) == ("complained", "abuse")


# --- our doubles keep the published shapes ----------------------------------------------
def shape_mismatches(candidate: Any, published: Any, path: str = "$") -> list[str]:
    """Where ``candidate`` has a key the published example lacks, or another JSON type.

    ``null`` matches anything (the APIs send null for what is absent); lists are
    compared by their first elements.
    """
    if candidate is None or published is None:
        return []
    if isinstance(candidate, dict) and isinstance(published, dict):
        found = []
        for key, value in candidate.items():
            if key not in published:
                found.append(f"{path}.{key} is not in the published example")
            else:
                found += shape_mismatches(value, published[key], f"{path}.{key}")
        return found
    if isinstance(candidate, list) and isinstance(published, list):
        if candidate and published:
            return shape_mismatches(candidate[0], published[0], f"{path}[0]")
        return []
    numbers = (int, float)
    if isinstance(candidate, numbers) and isinstance(published, numbers):
        both_bool = isinstance(candidate, bool) == isinstance(published, bool)
        return [] if both_bool else [f"{path}: {candidate!r} vs {published!r}"]
    if type(candidate) is not type(published):
        return [f"{path}: {type(candidate).__name__} vs {type(published).__name__}"]
    return []


@pytest.mark.parametrize("kind", ["Delivery", "Bounce", "Complaint", "Reject"])
def test_the_ses_events_our_tests_build_have_the_published_shape(kind: str) -> None:
    built = events.ses_event(kind, SES_MESSAGE_ID, SES_RECIPIENT)

    assert shape_mismatches(built, contract(f"ses/{kind.lower()}.json")) == []


def test_the_sns_event_our_tests_build_has_the_published_envelope() -> None:
    built = events.sns(contract("ses/delivery.json"))

    assert shape_mismatches(built, contract("ses/sns-lambda-envelope.json")) == []


# What parse_transcript reads from a completed transcript resource.
_READ_KEYS = ("id", "status", "text", "utterances", "language_code", "audio_duration", "confidence")


def test_the_assemblyai_emulator_answers_in_the_published_shapes(assemblyai: Any) -> None:
    from uuid import uuid4

    from voxcliente.adapters import assemblyai as assemblyai_api

    sample = Path(__file__).resolve().parents[2] / "samples" / "client-call-en.mp3"
    assemblyai.register_audio(sample)
    audio_url = assemblyai_api.upload(sample.read_bytes())
    transcript_id = assemblyai_api.submit(audio_url, meeting_id=uuid4())

    final = assemblyai.wait(transcript_id)
    published = contract("assemblyai/transcript-completed.json")
    for key in _READ_KEYS:
        assert key in final, key  # a key the double dropped is a mismatch too
        assert shape_mismatches(final[key], published[key], f"$.{key}") == []
    assert final["status"] == "completed" and final["utterances"]

    _, _, body = assemblyai.webhook_request(transcript_id)
    assert shape_mismatches(body, contract("assemblyai/webhook-completed.json")) == []
    assert set(body) == set(contract("assemblyai/webhook-completed.json"))
