"""Submit and UploadApi against real PostgreSQL, moto's server and the AssemblyAI emulator."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import psycopg
import pytest

from conftest import WEBHOOK_SECRET, WEBHOOK_URL, AwsEnv, run_concurrently
from harness import AUDIO, meetings, put, s3_event, submit, upload_api
from voxlocal import events
from voxlocal.functions import load_function

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "key",
    [
        "inbox/ana@example.com/Reunión con Textiles Andinos (marzo).mp3",
        "inbox/ana@example.com/plan+entregas 50% año.mp3",
        "inbox/ana@example.com/" + "muy-largo-" * 40 + ".mp3",
    ],
)
def test_an_inbox_drop_is_submitted_with_the_exact_request(
    key: str, db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    # Given an audio file dropped under inbox/<email>/ with an awkward name
    assemblyai.register_audio(AUDIO, {"text": "Hola.", "audio_duration": 1})
    put(aws, key)
    # When S3 notifies Submit
    result = submit(s3_event(aws.bucket, key))
    # Then AssemblyAI got exactly one submission with our webhook, secret and model
    assert [r["result"] for r in result["results"]] == ["submitted"]
    [body] = assemblyai.submissions
    [row] = meetings(conn)
    # the webhook URL names the meeting, so a webhook that outruns our commit finds it
    assert body["webhook_url"] == f"{WEBHOOK_URL}?meeting_id={row['id']}"
    assert body["webhook_auth_header_name"] == "X-VoxCliente-Webhook-Secret"
    assert body["webhook_auth_header_value"] == WEBHOOK_SECRET
    assert body["speaker_labels"] is True
    assert body["speech_models"] == ["universal-2"]
    assert body["language_detection"] is True
    assert "redact_pii" not in body
    # and its audio_url is a working presigned GET of that very object
    with urllib.request.urlopen(body["audio_url"]) as response:
        assert response.read() == AUDIO
    [meeting] = meetings(conn)
    assert meeting["status"] == "submitted"
    assert meeting["s3_key"] == key
    assert meeting["recipient_email"] == "ana@example.com"
    assert (
        assemblyai.transcript(meeting["assemblyai_transcript_id"])["audio_url"] == body["audio_url"]
    )
    events = conn.execute(
        "SELECT to_status FROM meeting_events WHERE meeting_id = %s ORDER BY id", (meeting["id"],)
    ).fetchall()
    assert [e["to_status"] for e in events] == ["received", "submitted"]


def test_metadata_names_the_recipient_client_and_language(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    key = "inbox/grabacion.mp3"
    put(aws, key, email="Luis@Example.com", client="Textiles Andinos", language="es")
    submit(s3_event(aws.bucket, key))
    [body] = assemblyai.submissions
    assert body["language_code"] == "es" and "language_detection" not in body
    row = conn.execute(
        "SELECT m.recipient_email, c.name AS client, u.email FROM meetings m "
        "JOIN users u ON u.id = m.user_id JOIN clients c ON c.id = m.client_id"
    ).fetchone()
    assert row == {
        "recipient_email": "Luis@example.com",
        "client": "Textiles Andinos",
        "email": "Luis@example.com",
    }


def test_pii_redaction_is_requested_when_enabled(
    db_url: str, aws: AwsEnv, assemblyai: Any, configure: Callable[..., None]
) -> None:
    configure(ASSEMBLYAI_PII_REDACTION="true")
    put(aws, "inbox/ana@example.com/a.mp3")
    submit(s3_event(aws.bucket, "inbox/ana@example.com/a.mp3"))
    [body] = assemblyai.submissions
    assert body["redact_pii"] is True and "email_address" in body["redact_pii_policies"]


def test_every_record_of_an_event_is_processed(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    keys = [f"inbox/ana@example.com/parte {i}.mp3" for i in range(3)]
    for key in keys:
        put(aws, key)
    result = submit(s3_event(aws.bucket, *keys))
    assert [r["result"] for r in result["results"]] == ["submitted"] * 3
    assert len(assemblyai.submissions) == 3


def test_the_same_event_twice_submits_once(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    key = "inbox/ana@example.com/a.mp3"
    put(aws, key)
    submit(s3_event(aws.bucket, key))
    second = submit(s3_event(aws.bucket, key))
    assert second["results"][0]["result"] == "duplicate"
    assert len(assemblyai.submissions) == 1
    assert len(meetings(conn)) == 1


def test_the_same_event_twice_at_once_submits_once(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    # Given two execution environments receiving the same record at the same moment
    key = "inbox/ana@example.com/a.mp3"
    put(aws, key)
    event = s3_event(aws.bucket, key)
    results = run_concurrently(lambda: submit(event)["results"][0]["result"], copies=2)
    assert sorted(results) == ["duplicate", "submitted"]
    assert len(assemblyai.submissions) == 1
    assert len(meetings(conn)) == 1


@pytest.mark.parametrize(
    ("key", "body", "metadata", "code", "notice"),
    [
        ("inbox/sin-destinatario.mp3", AUDIO, {}, "email_missing", False),
        ("inbox/no-es-un-correo/a.mp3", AUDIO, {}, "email_invalid", False),
        ("inbox/ana@example.com/vacio.mp3", b"", {}, "empty_file", True),
        (
            "inbox/ana@example.com/notas.mp3",
            b"Notas de la reunion en texto\n" * 20,
            {},
            "not_audio",
            True,
        ),
        ("uploads/00000000-0000-4000-8000-000000000000/x.mp3", AUDIO, {}, "upload_unknown", False),
    ],
)
def test_what_cannot_become_an_acta_is_refused_before_spending(
    key: str,
    body: bytes,
    metadata: dict[str, str],
    code: str,
    notice: bool,
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
) -> None:
    put(aws, key, body, **metadata)
    result = submit(s3_event(aws.bucket, key, size=len(body)))
    assert result["results"][0]["result"] == "failed"
    assert assemblyai.submissions == []
    [meeting] = meetings(conn)
    assert meeting["status"] == "failed"
    assert meeting["error_code"] == code
    assert meeting["error_message"] and len(meeting["error_message"]) > 30
    messages = aws.queue_messages()
    if notice:
        assert messages == [{"meeting_id": str(meeting["id"]), "kind": "failure"}]
    else:
        assert messages == []


def test_a_file_over_the_limit_is_refused(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    configure: Callable[..., None],
) -> None:
    configure(MAX_UPLOAD_BYTES="1000")
    put(aws, "inbox/ana@example.com/larga.mp3")
    submit(s3_event(aws.bucket, "inbox/ana@example.com/larga.mp3"))
    [meeting] = meetings(conn)
    assert meeting["error_code"] == "too_large"
    assert assemblyai.submissions == []


def test_assemblyai_5xx_leaves_the_meeting_received_and_raises(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    from voxcliente.domain.errors import TransientError

    key = "inbox/ana@example.com/a.mp3"
    put(aws, key)
    assemblyai.script_submit("server_error")
    with pytest.raises(TransientError):
        submit(s3_event(aws.bucket, key))
    [meeting] = meetings(conn)
    assert meeting["status"] == "received"
    assert meeting["submit_claimed_at"] is None
    # Lambda's retry then submits it.
    submit(s3_event(aws.bucket, key))
    [meeting] = meetings(conn)
    assert meeting["status"] == "submitted"


def test_assemblyai_401_marks_the_meeting_failed_and_notifies(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    key = "inbox/ana@example.com/a.mp3"
    put(aws, key)
    assemblyai.script_submit("unauthorized")
    result = submit(s3_event(aws.bucket, key))
    assert result["results"][0]["result"] == "failed"
    [meeting] = meetings(conn)
    assert meeting["status"] == "failed"
    assert meeting["error_code"] == "assemblyai_rejected"
    assert "401" in meeting["error_message"]
    assert aws.queue_messages() == [{"meeting_id": str(meeting["id"]), "kind": "failure"}]


# --- the upload API ------------------------------------------------------------------
def post_event(load_event: Any, body: Any) -> dict[str, Any]:
    event: dict[str, Any] = load_event("api-post-uploads.json")
    event["body"] = json.dumps(body) if not isinstance(body, str) else body
    return event


# Signed in (events/api-post-uploads.json carries the token's claims): the acta goes
# to the token's verified email, ana.mendez@example.com.
GOOD = {
    "filename": "reunión textiles.mp3",
    "content_type": "audio/mpeg",
    "size_bytes": len(AUDIO),
    "client_name": "Textiles Andinos",
    "meeting_date": "2026-11-25",
}


def test_post_uploads_returns_a_presigned_post_pinned_to_one_file(
    db_url: str, aws: AwsEnv, load_event: Any, conn: psycopg.Connection[Any]
) -> None:
    import base64

    status, body = upload_api(post_event(load_event, GOOD))
    assert status == 201
    upload_id = body["upload_id"]
    fields = body["fields"]
    key = f"uploads/{upload_id}/reunion textiles.mp3"
    assert fields["key"] == key
    assert fields["Content-Type"] == "audio/mpeg"
    assert fields["x-amz-meta-upload-id"] == upload_id
    assert body["max_bytes"] == len(AUDIO)
    # moto does not enforce POST policies: check the signed policy document itself.
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"key": key} in conditions
    assert {"Content-Type": "audio/mpeg"} in conditions
    assert {"x-amz-meta-upload-id": upload_id} in conditions
    assert ["content-length-range", 1, len(AUDIO)] in conditions
    assert {"bucket": aws.bucket} in conditions
    row = conn.execute("SELECT email, s3_key FROM uploads").fetchone()
    assert row == {"email": "ana.mendez@example.com", "s3_key": key}


def test_a_web_upload_goes_end_to_end(
    db_url: str, aws: AwsEnv, assemblyai: Any, load_event: Any, conn: psycopg.Connection[Any]
) -> None:
    import uuid

    # Given a presigned POST from the API
    _, created = upload_api(post_event(load_event, GOOD))
    # When the browser POSTs the file to S3 (multipart/form-data, fields first)
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in created["fields"].items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n".encode()
        + AUDIO
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        created["url"],
        data=b"".join(parts),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert response.status in (200, 201, 204)
    key = created["fields"]["key"]
    head = aws.s3.head_object(Bucket=aws.bucket, Key=key)
    assert head["Metadata"]["upload-id"] == created["upload_id"]
    # and S3 notifies Submit
    submit(s3_event(aws.bucket, key))
    # Then the meeting belongs to the uploader, and the progress endpoint says so
    [meeting] = meetings(conn)
    assert meeting["status"] == "submitted"
    assert str(meeting["upload_id"]) == created["upload_id"]
    get = load_event("api-get-upload.json")
    get["rawPath"] = f"/uploads/{created['upload_id']}"
    get["requestContext"]["http"]["path"] = get["rawPath"]
    get["pathParameters"] = {"upload_id": created["upload_id"]}
    status, progress = upload_api(get)
    assert status == 200
    assert progress["status"] == "submitted"
    assert set(progress["timestamps"]) == {"received", "submitted"}
    assert "ana.mendez" not in json.dumps(progress)


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"client_name": 7}, 400, "client_name"),
        ({"size_bytes": 0}, 400, "size_bytes"),
        ({"filename": ""}, 400, "filename"),
        ({"meeting_date": "25/11/2026"}, 400, "meeting_date"),
        ({"content_type": "application/pdf", "filename": "acta.pdf"}, 415, None),
        ({"content_type": "audio/mpeg", "filename": "reunion.wav"}, 415, None),
        ({"size_bytes": 6 * 1024**3}, 413, None),
    ],
)
def test_bad_uploads_are_refused_with_the_reason(
    change: dict[str, Any],
    status: int,
    field: str | None,
    db_url: str,
    aws: AwsEnv,
    load_event: Any,
) -> None:
    got, body = upload_api(post_event(load_event, {**GOOD, **change}))
    assert got == status
    assert body["error"]["message"]
    if field:
        assert field in body["error"]["fields"]


def test_several_bad_fields_are_all_named(db_url: str, aws: AwsEnv, load_event: Any) -> None:
    got, body = upload_api(post_event(load_event, {"filename": "a.mp3", "meeting_date": "x"}))
    assert got == 400
    assert {"meeting_date", "content_type", "size_bytes"} <= set(body["error"]["fields"])


def test_malformed_json_is_a_400(db_url: str, aws: AwsEnv, load_event: Any) -> None:
    got, body = upload_api(post_event(load_event, "{not json"))
    assert got == 400 and "body" in body["error"]["fields"]


def test_unknown_or_malformed_upload_id_is_404(db_url: str, aws: AwsEnv, load_event: Any) -> None:
    for upload_id in ("4f2c1d3e-8a9b-4c7d-9e1f-0a1b2c3d4e5f", "../../etc"):
        event = load_event("api-get-upload.json")
        event["pathParameters"] = {"upload_id": upload_id}
        event["rawPath"] = event["requestContext"]["http"]["path"] = f"/uploads/{upload_id}"
        got, _ = upload_api(event)
        assert got == 404


def test_cors_preflight_allows_the_configured_origin(
    db_url: str, aws: AwsEnv, load_event: Any
) -> None:
    event = load_event("api-post-uploads.json")
    event["requestContext"]["http"]["method"] = "OPTIONS"
    event["headers"]["access-control-request-method"] = "POST"
    response = load_function("upload_api").lambda_handler(event, events.LambdaContext("UploadApi"))
    assert response["headers"]["Access-Control-Allow-Origin"] == "http://localhost:5173"


def test_the_same_name_with_new_content_is_a_new_meeting(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    # Given an unversioned bucket and a file name people reuse ("reunion.mp3")
    key = "inbox/ana@example.com/reunion.mp3"
    put(aws, key)
    first_etag = aws.s3.head_object(Bucket=aws.bucket, Key=key)["ETag"]
    submit(s3_event(aws.bucket, key))
    # When next week's meeting is dropped under the same name
    put(aws, key, AUDIO + b"next week")
    second = submit(s3_event(aws.bucket, key))
    # Then it is a new meeting, submitted too; a repeat of either event is not
    assert second["results"][0]["result"] == "submitted"
    assert len(meetings(conn)) == 2
    assert len(assemblyai.submissions) == 2
    assert first_etag.strip('"') in meetings(conn)[0]["s3_version_id"]


def test_a_bucket_assemblyai_cannot_reach_sends_the_bytes_instead(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    configure: Callable[..., None],
) -> None:
    # A local run with the real AssemblyAI: moto's URL is not reachable from it.
    configure(ASSEMBLYAI_UPLOAD_AUDIO="true")
    assemblyai.register_audio(AUDIO, {"text": "Hola.", "audio_duration": 1})
    key = "inbox/ana@example.com/local.mp3"
    put(aws, key)
    submit(s3_event(aws.bucket, key))
    [body] = assemblyai.submissions
    assert not body["audio_url"].startswith(aws.endpoint)
    assert any(r.path == "/v2/upload" and r.body == AUDIO for r in assemblyai.requests)
    [meeting] = meetings(conn)
    assert assemblyai.wait(meeting["assemblyai_transcript_id"])["status"] == "completed"


# --- regressions of the production review ---------------------------------------------
@pytest.mark.parametrize(
    ("given", "stored"), [("es-MX", "es"), ("en_gb", "en_uk"), ("pt_br", "pt")]
)
def test_the_upload_form_maps_regional_languages_into_assemblyai_codes(
    given: str,
    stored: str,
    db_url: str,
    aws: AwsEnv,
    load_event: Any,
    conn: psycopg.Connection[Any],
) -> None:
    """Regression: the form accepted en_gb, es_mx, pt_br, which AssemblyAI's enum lacks."""
    status, body = upload_api(post_event(load_event, {**GOOD, "language": given}))
    assert status == 201
    row = conn.execute("SELECT language FROM uploads WHERE id = %s", (body["upload_id"],))
    assert row.fetchone() == {"language": stored}


def test_the_upload_form_refuses_an_unknown_language_naming_the_field(
    db_url: str, aws: AwsEnv, load_event: Any, conn: psycopg.Connection[Any]
) -> None:
    status, body = upload_api(post_event(load_event, {**GOOD, "language": "klingon"}))
    assert status == 400
    assert "'es'" in body["error"]["fields"]["language"]
    assert conn.execute("SELECT count(*) AS n FROM uploads").fetchone() == {"n": 0}


def test_inbox_metadata_language_is_mapped_or_refused_before_spending(
    db_url: str, aws: AwsEnv, assemblyai: Any, conn: psycopg.Connection[Any]
) -> None:
    """Regression: inbox metadata `language` was not validated at all."""
    put(aws, "inbox/ana@example.com/mx.mp3", language="es-MX")
    put(aws, "inbox/ana@example.com/xx.mp3", language="xx-YY")
    result = submit(
        s3_event(aws.bucket, "inbox/ana@example.com/mx.mp3", "inbox/ana@example.com/xx.mp3")
    )
    assert [r["result"] for r in result["results"]] == ["submitted", "failed"]
    [body] = assemblyai.submissions  # the refused one cost nothing
    assert body["language_code"] == "es"
    refused = [m for m in meetings(conn) if m["status"] == "failed"]
    assert [m["error_code"] for m in refused] == ["language_unsupported"]
    assert "es-MX" in refused[0]["error_message"]
    assert aws.queue_messages() == [{"meeting_id": str(refused[0]["id"]), "kind": "failure"}]


def test_an_unmapped_exception_after_submission_releases_the_claim(
    db_url: str,
    aws: AwsEnv,
    assemblyai: Any,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: an exception the transcription wrapper did not map (a pydantic error
    from the SDK's response model after the transcript was created) escaped, the claim
    stayed held, S3's retries saw "duplicate" and the meeting stuck in received."""
    import httpx

    from voxcliente.domain.errors import TransientError

    key = "inbox/ana@example.com/a.mp3"
    put(aws, key)
    real_json = httpx.Response.json
    broken = {"done": False}

    def unreadable_once(self: httpx.Response, **kwargs: Any) -> Any:
        if not broken["done"] and self.request.url.path == "/v2/transcript":
            broken["done"] = True
            raise ValueError("the answer could not be read")
        return real_json(self, **kwargs)

    monkeypatch.setattr(httpx.Response, "json", unreadable_once)
    with pytest.raises(TransientError) as info:
        submit(s3_event(aws.bucket, key))
    assert info.value.code == "assemblyai_unavailable"
    [row] = meetings(conn)
    assert (row["status"], row["submit_claimed_at"]) == ("received", None)
    # Lambda's retry submits it (the first job's webhook names the meeting, and is
    # answered "superseded" once the meeting follows the second transcript)
    submit(s3_event(aws.bucket, key))
    [row] = meetings(conn)
    assert row["status"] == "submitted"
    assert len(assemblyai.submissions) == 2
    first, second = assemblyai.transcript_ids()
    assert row["assemblyai_transcript_id"] == second
    # and the first job's webhook, naming the meeting, changes nothing
    from voxcliente.flows import webhook

    assemblyai.wait(first)
    url, headers, payload = assemblyai.webhook_request(first)
    reply = webhook.handle(headers, json.dumps(payload), dict(parse_qsl(urlsplit(url).query)))
    assert (reply.status, reply.body["outcome"]) == (200, "superseded")
    assert aws.queue_messages() == []
