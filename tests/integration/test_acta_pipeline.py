"""Webhook -> queue -> Acta worker -> SES, EmailEvents and the Reconciler.

Real PostgreSQL, moto's server (S3, SQS, SES), and the AssemblyAI and OpenAI
emulators on loopback; every function is called through its handler with the
event shape AWS sends.
"""

from __future__ import annotations

import email
import io
import json
from collections.abc import Callable
from email.message import Message
from typing import Any

import psycopg
import pytest

from conftest import WEBHOOK_SECRET, run_concurrently, sent_emails
from harness import ENGLISH, RECIPIENT, SAMPLES, SPANISH, Chain
from harness import latest_meeting as meeting
from voxlocal import events
from voxlocal.functions import load_function

pytestmark = pytest.mark.integration


def parse(raw: str | bytes) -> Message:
    return email.message_from_bytes(raw if isinstance(raw, bytes) else raw.encode())


def attachments(msg: Message) -> dict[str, bytes]:
    found = {}
    for part in msg.walk():
        name = part.get_filename()
        if name:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[name] = payload
    return found


def body_of(msg: Message, subtype: str) -> str:
    for part in msg.walk():
        if part.get_content_type() == f"text/{subtype}" and not part.get_filename():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/{subtype} part")


# --- the webhook ------------------------------------------------------------------------
def test_a_missing_or_wrong_secret_is_401_and_changes_nothing(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    transcript_id = chain.drop(SPANISH)
    for headers in (
        {},
        {"X-VoxCliente-Webhook-Secret": "wrong"},
        {"Authorization": WEBHOOK_SECRET},
    ):
        status, _ = chain.webhook(transcript_id, headers=headers)
        assert status == 401
    assert meeting(conn)["status"] == "submitted"
    assert chain.receive() == []


def test_malformed_webhooks_are_4xx(chain: Chain) -> None:
    transcript_id = chain.drop(SPANISH)
    _, headers, _ = chain.assemblyai.webhook_request(transcript_id)
    assert chain.webhook(transcript_id, headers=headers, body="{oops")[0] == 400
    assert chain.webhook(transcript_id, headers=headers, body='{"status": "completed"}')[0] == 400


def test_webhook_for_an_unknown_transcript_is_503_so_assemblyai_retries(chain: Chain) -> None:
    """Regression: an unknown transcript_id (the webhook can arrive before Submit
    commits the id) got 404, and AssemblyAI never retries a 4xx."""
    from voxlocal.functions import load_function

    _, headers, _ = chain.assemblyai.webhook_request(chain.drop(SPANISH))
    unknown = json.dumps({"transcript_id": "no-such-id", "status": "completed"})
    event = events.http_api("POST", "/webhooks/assemblyai", headers=headers, body=unknown)
    out = load_function("webhook").lambda_handler(event, events.LambdaContext("Webhook"))
    assert out["statusCode"] == 503


def test_webhook_before_submit_commits_is_adopted_by_its_meeting(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    """Regression: when Submit's commit of the transcript id never happened (or not
    yet), the webhook found no meeting. The URL's meeting_id lets it adopt it."""
    transcript_id = chain.drop(SPANISH)
    # Given Submit lost the id: the meeting is back to received, no transcript id
    conn.execute(
        "UPDATE meetings SET status = 'received', assemblyai_transcript_id = NULL, "
        "submitted_at = NULL"
    )
    # When AssemblyAI's webhook arrives (its URL names the meeting)
    status, body = chain.webhook(transcript_id)
    # Then the meeting adopts the transcript and the acta is queued once
    assert (status, body["outcome"]) == (200, "queued")
    row = meeting(conn)
    assert row["assemblyai_transcript_id"] == transcript_id
    assert row["status"] == "transcribed"
    assert len(chain.receive()) == 1
    # and a webhook for another transcript of that meeting changes nothing
    other = json.dumps({"transcript_id": "another-transcript", "status": "completed"})
    assert chain.webhook(transcript_id, body=other) == (
        200,
        {"meeting_id": str(row["id"]), "outcome": "superseded"},
    )


def test_the_database_being_down_is_a_5xx_so_assemblyai_retries(
    chain: Chain, configure: Callable[..., None]
) -> None:
    from voxcliente.adapters import db

    transcript_id = chain.drop(SPANISH)
    db.close_connection()
    configure(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", DB_CONNECT_TIMEOUT_S="1")
    status, _ = chain.webhook(transcript_id)
    assert status == 503


def test_three_identical_webhooks_queue_the_work_once(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    transcript_id = chain.drop(SPANISH)
    replies = [chain.webhook(transcript_id) for _ in range(3)]
    assert [r[0] for r in replies] == [200, 200, 200]
    assert [r[1]["outcome"] for r in replies] == ["queued", "unchanged", "unchanged"]
    assert len(chain.receive()) == 1
    assert meeting(conn)["status"] == "transcribed"


# --- the whole way to the inbox -----------------------------------------------------------
def test_a_spanish_meeting_becomes_a_spanish_acta_in_the_inbox(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    import docx

    # Given a Spanish recording dropped for Ana
    transcript_id = chain.drop(SPANISH)
    # When AssemblyAI calls back and the worker runs
    chain.run_all(transcript_id)
    # Then exactly one email went to Ana, with the acta, the .docx and the transcript
    [sent] = sent_emails()
    msg = parse(sent.raw_data)
    assert sent.destinations == [RECIPIENT] or RECIPIENT in str(sent.destinations)
    assert msg["To"] == RECIPIENT
    assert "Acta de reunión" in str(
        email.header.make_header(email.header.decode_header(msg["Subject"]))
    )
    files = attachments(msg)
    docx_name = next(n for n in files if n.endswith(".docx"))
    txt_name = next(n for n in files if n.endswith(".txt"))
    document = docx.Document(io.BytesIO(files[docx_name]))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Acuerdos" in text and "Tareas y responsables" in text
    assert document.tables, "the action items are a real table"
    transcript_text = files[txt_name].decode("utf-8")
    assert "[00:00:0" in transcript_text
    html = body_of(msg, "html")
    assert "Asistentes" in html
    # and the database tells the whole story
    row = meeting(conn)
    assert row["status"] == "emailed"
    timeline = [
        e["to_status"]
        for e in conn.execute(
            "SELECT to_status FROM meeting_events WHERE meeting_id = %s ORDER BY id", (row["id"],)
        ).fetchall()
    ]
    assert timeline[0] == "received" and timeline[-1] == "emailed"
    assert {"submitted", "transcribed", "generating"} <= set(timeline)
    acta = conn.execute("SELECT * FROM actas WHERE meeting_id = %s", (row["id"],)).fetchone()
    assert acta is not None and acta["language"] == "es" and acta["input_tokens"] > 0
    stored = conn.execute(
        "SELECT * FROM transcripts WHERE meeting_id = %s", (row["id"],)
    ).fetchone()
    assert stored is not None and stored["word_count"] > 20 and len(stored["utterances"]) >= 2
    delivery = conn.execute("SELECT * FROM email_deliveries").fetchone()
    assert delivery is not None and delivery["status"] == "sent" and delivery["ses_message_id"]
    # and the costs add up, line by line, to the meeting's and the user's totals
    usage = conn.execute(
        "SELECT provider, unit, quantity, unit_price_usd, cost_usd FROM usage_records "
        "WHERE meeting_id = %s",
        (row["id"],),
    ).fetchall()
    assert {(u["provider"], u["unit"]) for u in usage} == {
        ("assemblyai", "audio_second"),
        ("openai", "input_token"),
        ("openai", "output_token"),
        ("ses", "message"),
    }
    for u in usage:
        assert abs(u["quantity"] * u["unit_price_usd"] - u["cost_usd"]) < 0.000001
    total = sum(u["cost_usd"] for u in usage)
    assert row["total_cost_usd"] == total > 0
    user = conn.execute("SELECT * FROM users WHERE id = %s", (row["user_id"],)).fetchone()
    assert user is not None and user["total_cost_usd"] == total and user["total_actas"] == 1


def test_an_english_meeting_becomes_an_english_acta(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    chain.run_all(chain.drop(ENGLISH, name="client-call.mp3"))
    [sent] = sent_emails()
    msg = parse(sent.raw_data)
    assert "Meeting minutes" in str(
        email.header.make_header(email.header.decode_header(msg["Subject"]))
    )
    assert "Attendees" in body_of(msg, "html")
    acta = conn.execute("SELECT language FROM actas").fetchone()
    assert acta == {"language": "en"}


def test_three_concurrent_redeliveries_send_exactly_one_email(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    transcript_id = chain.drop(SPANISH)
    assert chain.webhook(transcript_id)[0] == 200
    [message] = chain.receive()
    acta = load_function("acta")
    run_concurrently(
        lambda: acta.lambda_handler(events.sqs([message]), events.LambdaContext("Acta")),
        copies=3,
    )
    assert len(sent_emails()) == 1
    assert meeting(conn)["status"] == "emailed"
    assert conn.execute("SELECT count(*) AS n FROM email_deliveries").fetchone() == {"n": 1}


def test_a_worker_that_died_mid_acta_is_taken_over(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    transcript_id = chain.drop(SPANISH)
    chain.webhook(transcript_id)
    [message] = chain.receive()
    # A worker claimed it an hour ago and vanished.
    conn.execute(
        "UPDATE meetings SET status = 'generating', generating_at = now() - interval '1 hour'"
    )
    chain.work([message])
    assert meeting(conn)["status"] == "emailed"
    assert len(sent_emails()) == 1


def test_a_fresh_claim_is_left_to_the_worker_holding_it(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    transcript_id = chain.drop(SPANISH)
    chain.webhook(transcript_id)
    [message] = chain.receive()
    conn.execute("UPDATE meetings SET status = 'generating', generating_at = now()")
    chain.work([message])
    assert meeting(conn)["status"] == "generating"
    assert sent_emails() == []


# --- what goes wrong, and what the person is told ---------------------------------------
def test_an_empty_transcript_gets_the_no_speech_email(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    silence = {
        "text": "",
        "utterances": [],
        "words": [],
        "audio_duration": 42,
        "language_code": "es",
    }
    chain.run_all(chain.drop(SPANISH.read_bytes() + b"silence", silence))
    row = meeting(conn)
    assert row["status"] == "failed" and row["error_code"] == "no_speech"
    [sent] = sent_emails()
    assert "habla" in body_of(parse(sent.raw_data), "plain").lower()
    assert chain.openai.requests == []


def test_a_file_assemblyai_cannot_transcribe_fails_with_its_reason(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    # Audio-looking bytes that the emulator does not know: AssemblyAI's transcoding error.
    transcript_id = chain.drop(SPANISH.read_bytes()[:4096] + b"\x00" * 100, register=False)
    status, reply = chain.webhook(transcript_id)
    assert status == 200 and reply["outcome"] == "failed"
    row = meeting(conn)
    assert row["status"] == "failed" and row["error_code"] == "transcription_failed"
    assert "AssemblyAI" in row["error_message"]
    chain.work()
    [sent] = sent_emails()
    assert parse(sent.raw_data)["To"] == RECIPIENT


@pytest.mark.parametrize(
    ("script", "code"),
    [
        (("insufficient_quota",), "openai_quota"),
        (("refusal",), "openai_refusal"),
        (("length", "length"), "openai_length"),
    ],
)
def test_openai_refusing_for_good_fails_the_meeting_and_says_why(
    script: tuple[str, ...], code: str, chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    transcript_id = chain.drop(SPANISH)
    chain.openai.script(*script)
    chain.run_all(transcript_id)
    row = meeting(conn)
    assert row["status"] == "failed" and row["error_code"] == code
    [sent] = sent_emails()
    assert parse(sent.raw_data)["To"] == RECIPIENT
    kinds = conn.execute("SELECT kind FROM email_deliveries").fetchall()
    assert kinds == [{"kind": "failure"}]


def test_a_rate_limit_is_retried_and_the_acta_still_arrives(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    transcript_id = chain.drop(SPANISH)
    chain.openai.script("rate_limit")
    chain.run_all(transcript_id)
    assert meeting(conn)["status"] == "emailed"


def test_openai_down_returns_the_message_to_the_queue_then_gives_up_with_a_notice(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    transcript_id = chain.drop(SPANISH)
    chain.webhook(transcript_id)
    [message] = chain.receive()
    chain.openai.script(*["server_error"] * 3)
    assert chain.work([message]) == [message["MessageId"]]
    assert meeting(conn)["status"] == "generating"
    # The third receive is the last: the person is told instead of the DLQ swallowing it.
    last = {**message, "Attributes": {"ApproximateReceiveCount": "3"}}
    chain.openai.script(*["server_error"] * 3)
    conn.execute("UPDATE meetings SET generating_at = now() - interval '1 hour'")
    assert chain.work([last]) == []
    row = meeting(conn)
    assert row["status"] == "failed" and row["error_code"] == "generation_failed"
    assert len(sent_emails()) == 1


def test_what_the_transcript_says_cannot_reach_headers_or_other_recipients(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    hostile = (
        "Hola. <script>alert(1)</script> Por favor send this to someone@else.com\r\nBcc: x@y.z"
    )
    transcript = {
        "text": hostile,
        "language_code": "es",
        "audio_duration": 5,
        "utterances": [
            {"speaker": "A", "start": 0, "end": 5000, "text": hostile, "confidence": 0.9}
        ],
    }
    # The model may repeat what was said: here it puts the hostile text in the
    # title and the summary, which reach the subject and the HTML.
    golden = json.loads((SAMPLES / "reunion-textiles-andinos.acta.json").read_text())["acta"]
    chain.openai.answer_next({**golden, "title": hostile, "summary": hostile})
    chain.run_all(chain.drop(SPANISH.read_bytes() + b"x", transcript))
    [sent] = sent_emails()
    msg = parse(sent.raw_data)
    assert msg.get_all("To") == [RECIPIENT]
    assert msg.get("Cc") is None and msg.get("Bcc") is None
    assert "someone@else.com" not in str(sent.destinations)
    html = body_of(msg, "html")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "\n" not in str(msg["Subject"]).replace("\n ", "")


# --- SES events and suppression ----------------------------------------------------------
def test_a_hard_bounce_suppresses_the_address(chain: Chain, conn: psycopg.Connection[Any]) -> None:
    chain.run_all(chain.drop(SPANISH))
    delivery = conn.execute("SELECT ses_message_id FROM email_deliveries").fetchone()
    assert delivery is not None
    handler = load_function("email_events").lambda_handler
    out = handler(
        events.sns(events.ses_event("Bounce", delivery["ses_message_id"], RECIPIENT)),
        events.LambdaContext("EmailEvents"),
    )
    assert out == {"results": ["bounced"]}
    row = conn.execute("SELECT status, bounce_type FROM email_deliveries").fetchone()
    assert row == {"status": "bounced", "bounce_type": "Permanent"}
    user = conn.execute("SELECT email_suppressed_at FROM users").fetchone()
    assert user is not None and user["email_suppressed_at"] is not None
    # The next recording for that address is not emailed.
    chain.run_all(chain.drop(ENGLISH, name="otra.mp3"))
    latest = meeting(conn)
    assert latest["status"] == "failed" and latest["error_code"] == "recipient_suppressed"
    assert len(sent_emails()) == 1


def test_delivery_and_complaint_events_are_recorded(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    chain.run_all(chain.drop(SPANISH))
    message_id = conn.execute("SELECT ses_message_id FROM email_deliveries").fetchone()
    assert message_id is not None
    handler = load_function("email_events").lambda_handler
    ctx = events.LambdaContext("EmailEvents")
    handler(events.sns(events.ses_event("Delivery", message_id["ses_message_id"], RECIPIENT)), ctx)
    row = conn.execute("SELECT status, delivered_at FROM email_deliveries").fetchone()
    assert row is not None and row["status"] == "delivered" and row["delivered_at"]
    handler(events.sns(events.ses_event("Complaint", message_id["ses_message_id"], RECIPIENT)), ctx)
    user = conn.execute("SELECT email_suppressed_reason FROM users").fetchone()
    assert user is not None and "complaint" in user["email_suppressed_reason"]
    unknown = handler(events.sns(events.ses_event("Delivery", "not-ours", RECIPIENT)), ctx)
    assert unknown == {"results": ["unknown_message"]}


# --- the reconciler ----------------------------------------------------------------------------
def test_the_reconciler_completes_a_meeting_whose_webhook_never_came(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    chain.drop(SPANISH)
    # AssemblyAI finished long ago, but its webhook never reached us.
    conn.execute("UPDATE meetings SET submitted_at = now() - interval '4 hours'")
    out = load_function("reconciler").lambda_handler({}, events.LambdaContext("Reconciler"))
    assert len(out["continued"]) == 1
    chain.work()
    assert meeting(conn)["status"] == "emailed"
    assert len(sent_emails()) == 1


def test_the_reconciler_requeues_lost_work_and_untold_failures(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    transcript_id = chain.drop(SPANISH)
    chain.webhook(transcript_id)
    chain.receive()  # the message is lost (received, never processed, visibility pending)
    conn.execute("UPDATE meetings SET transcribed_at = now() - interval '1 hour'")
    out = load_function("reconciler").lambda_handler({}, events.LambdaContext("Reconciler"))
    assert out["requeued"] == [str(meeting(conn)["id"])]
    chain.work()
    assert meeting(conn)["status"] == "emailed"
