"""The emailed documents kept for download, an acta sent again on request, and the
transcript deleted at AssemblyAI once the acta is emailed.

Through the real chain: PostgreSQL, moto's server (S3, SQS, SES) and the AssemblyAI
and OpenAI emulators; the Acta function is called through its handler.
"""

from __future__ import annotations

import email
import json
from email.message import Message
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from harness import RECIPIENT, SPANISH, Chain
from voxcliente.domain.models import Meeting

pytestmark = pytest.mark.integration


def parse(raw: str | bytes) -> Message:
    return email.message_from_bytes(raw if isinstance(raw, bytes) else raw.encode())


def attachments(sent: Any) -> dict[str, bytes]:
    found = {}
    for part in parse(sent.raw_data).walk():
        name = part.get_filename()
        if name:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[name] = payload
    return found


def by_suffix(files: dict[str, bytes], suffix: str) -> bytes:
    [data] = [data for name, data in files.items() if name.endswith(suffix)]
    return data


def stored(chain: Chain, key: str) -> tuple[dict[str, Any], bytes]:
    """The object's head and bytes, as S3 (moto) keeps them."""
    answer = chain.aws.s3.get_object(Bucket=chain.aws.bucket, Key=key)
    return answer, answer["Body"].read()


def meeting_model(chain: Chain) -> Meeting:
    from voxcliente.adapters import repository as repo
    from voxcliente.adapters.db import session

    with session() as conn:
        found = repo.get_meeting(conn, chain.meeting()["id"])
    assert found is not None
    return found


def emailed(chain: Chain) -> Meeting:
    """The Spanish sample through the whole chain: its acta emailed once."""
    chain.run_all(chain.drop(SPANISH))
    assert chain.meeting()["status"] == "emailed"
    assert len(chain.emails()) == 1
    return meeting_model(chain)


def resend_rows(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT * FROM email_deliveries WHERE kind = 'resend' ORDER BY created_at"
    ).fetchall()


# --- the documents ------------------------------------------------------------------------
def test_the_emailed_documents_are_stored_encrypted_under_their_keys(chain: Chain) -> None:
    from voxcliente.pipeline import documents

    meeting = emailed(chain)

    assert meeting.docx_s3_key == documents.docx_key(meeting.id) == f"actas/{meeting.id}/acta.docx"
    assert meeting.transcript_s3_key == documents.transcript_key(meeting.id)
    assert meeting.transcript_s3_key == f"transcripts/{meeting.id}/transcript.txt"
    files = attachments(chain.emails()[0])
    docx_name = next(name for name in files if name.endswith(".docx"))
    head, docx = stored(chain, meeting.docx_s3_key)
    # The very bytes the person received, encrypted at rest, named for the download.
    assert docx == files[docx_name]
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == documents.DOCX_MIME
    assert "attachment;" in head["ContentDisposition"]
    assert f"filename*=UTF-8''{quote(docx_name, safe='')}" in head["ContentDisposition"]
    head, transcript = stored(chain, meeting.transcript_s3_key)
    # The same text, line by line (in an email, text travels with CRLF line ends).
    emailed_text = by_suffix(files, ".txt").decode("utf-8")
    assert transcript.decode("utf-8").splitlines() == emailed_text.splitlines()
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "text/plain; charset=utf-8"


def test_a_download_name_with_accents_keeps_them_and_has_an_ascii_fallback() -> None:
    from voxcliente.pipeline.documents import content_disposition

    value = content_disposition("acta-2026-03-02-revisión de año.docx")
    assert value.isascii()
    assert 'filename="acta-2026-03-02-revision_de_ano.docx"' in value
    assert "filename*=UTF-8''acta-2026-03-02-revisi%C3%B3n%20de%20a%C3%B1o.docx" in value


def test_a_storage_failure_is_retried_with_one_email_and_one_openai_request(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from voxcliente.adapters import aws

    s3 = aws.client("s3")
    real_put = s3.put_object
    failures = [ClientError({"Error": {"Code": "InternalError"}}, "PutObject")]

    def flaky_put(**request: Any) -> Any:
        if failures:
            raise failures.pop()
        return real_put(**request)

    monkeypatch.setattr(s3, "put_object", flaky_put)
    status, _ = chain.webhook(chain.drop(SPANISH))
    assert status == 200
    [message] = chain.receive()

    # The first delivery: the acta is written (and stored), S3 refuses the .docx.
    assert chain.work([message]) == [message["MessageId"]]
    row = chain.meeting()
    assert row["status"] == "generating" and row["docx_s3_key"] is None
    assert chain.emails() == [] and chain.deliveries() == {}
    assert chain.openai_requests() == 1

    # SQS delivers it again: the stored acta is sent, nothing is paid twice.
    assert chain.redeliver(message, receive_count=2) == []
    row = chain.meeting()
    assert row["status"] == "emailed" and row["docx_s3_key"] and row["transcript_s3_key"]
    assert len(chain.emails()) == 1
    assert chain.openai_requests() == 1
    _, docx = stored(chain, row["docx_s3_key"])
    assert docx == by_suffix(attachments(chain.emails()[0]), ".docx")


# --- resend -------------------------------------------------------------------------------
def test_a_resend_sends_the_stored_acta_once_without_asking_openai(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    from voxcliente.pipeline.resend import request_resend

    meeting = emailed(chain)
    generations = chain.openai_requests()

    delivery_id = request_resend(meeting, RECIPIENT)

    [message] = chain.receive()
    assert json.loads(message["Body"]) == {
        "meeting_id": str(meeting.id),
        "kind": "resend",
        "delivery_id": str(delivery_id),
    }
    [row] = resend_rows(conn)
    assert (row["id"], row["status"], row["recipient"]) == (delivery_id, "pending", RECIPIENT)
    assert chain.work([message]) == []
    first, again = chain.emails()
    assert parse(again.raw_data)["To"] == RECIPIENT
    # The same documents, as stored: the .docx and the transcript.
    assert attachments(again) == attachments(first)
    _, docx = stored(chain, str(meeting.docx_s3_key))
    assert by_suffix(attachments(again), ".docx") == docx
    [row] = resend_rows(conn)
    assert row["status"] == "sent" and row["ses_message_id"]
    assert chain.openai_requests() == generations
    events = [
        e["event"]
        for e in conn.execute(
            "SELECT event FROM meeting_events WHERE meeting_id = %s ORDER BY id", (meeting.id,)
        ).fetchall()
    ]
    assert events[-1] == "acta_resent"

    # SQS delivers the message again: that resend was sent, nothing more goes out.
    redelivered = {**message, "ReceiptHandle": f"fake-{message['MessageId']}"}
    assert chain.work([redelivered]) == []
    assert len(chain.emails()) == 2
    assert chain.meeting()["status"] == "emailed"


def test_a_resend_before_the_acta_is_emailed_is_refused(chain: Chain) -> None:
    from voxcliente.domain.errors import Conflict
    from voxcliente.pipeline.resend import request_resend

    status, _ = chain.webhook(chain.drop(SPANISH))
    assert status == 200
    transcribed = meeting_model(chain)
    with pytest.raises(Conflict) as info:
        request_resend(transcribed, RECIPIENT)
    assert info.value.code == "not_ready"
    # A stale copy that says "emailed" is checked against the row itself.
    with pytest.raises(Conflict) as info:
        request_resend(transcribed.replace(status="emailed"), RECIPIENT)
    assert info.value.code == "not_ready"
    assert chain.deliveries() == {}
    assert len(chain.receive()) == 1  # only the acta's own message


def test_the_fourth_resend_in_a_day_is_rate_limited(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    from voxcliente.domain.errors import RateLimited
    from voxcliente.pipeline.resend import request_resend

    meeting = emailed(chain)
    for _ in range(3):
        request_resend(meeting, RECIPIENT)
    with pytest.raises(RateLimited) as info:
        request_resend(meeting, RECIPIENT)
    assert info.value.code == "resend_limit"
    assert 0 < info.value.retry_after_s <= 24 * 3600
    assert len(resend_rows(conn)) == 3
    assert len(chain.receive()) == 3

    # A day later the oldest no longer counts.
    conn.execute(
        "UPDATE email_deliveries SET created_at = now() - interval '25 hours' WHERE id = %s",
        (resend_rows(conn)[0]["id"],),
    )
    request_resend(meeting, RECIPIENT)
    assert len(resend_rows(conn)) == 4


def test_an_erased_meetings_resend_ends_failed_and_sends_nothing(
    chain: Chain, conn: psycopg.Connection[Any]
) -> None:
    from voxcliente.pipeline.resend import request_resend

    meeting = emailed(chain)
    request_resend(meeting, RECIPIENT)
    conn.execute("UPDATE meetings SET erased_at = now() WHERE id = %s", (meeting.id,))

    assert chain.work() == []
    assert len(chain.emails()) == 1
    [row] = resend_rows(conn)
    assert row["status"] == "failed" and row["details"]["reason"] == "erased"


def test_a_resend_message_without_its_delivery_id_is_discarded(chain: Chain) -> None:
    meeting = emailed(chain)
    body = json.dumps({"meeting_id": str(meeting.id), "kind": "resend"})
    chain.aws.sqs.send_message(QueueUrl=chain.aws.queue_url, MessageBody=body)
    assert chain.work() == []
    assert len(chain.emails()) == 1


# --- the transcript at AssemblyAI ---------------------------------------------------------
def test_the_transcript_is_deleted_at_assemblyai_after_the_acta_email(chain: Chain) -> None:
    meeting = emailed(chain)
    transcript_id = str(meeting.assemblyai_transcript_id)
    deletes = [r.path for r in chain.assemblyai.requests if r.method == "DELETE"]
    assert deletes == [f"/v2/transcript/{transcript_id}"]
    assert chain.assemblyai.deleted(transcript_id)
    assert chain.meeting()["provider_transcript_deleted_at"] is not None


def test_the_transcript_is_kept_at_assemblyai_when_the_setting_is_off(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxcliente.settings import reset_settings

    monkeypatch.setenv("DELETE_PROVIDER_TRANSCRIPT", "false")
    reset_settings()
    emailed(chain)
    assert [r for r in chain.assemblyai.requests if r.method == "DELETE"] == []
    assert chain.meeting()["provider_transcript_deleted_at"] is None


def test_assemblyai_down_after_the_email_leaves_the_meeting_emailed_once(
    chain: Chain,
) -> None:
    chain.assemblyai.script_delete("unavailable", "unavailable", "unavailable")
    status, _ = chain.webhook(chain.drop(SPANISH))
    assert status == 200
    # The message succeeds (nothing to retry: the reconciler's sweep deletes it later).
    assert chain.work() == []
    row = chain.meeting()
    assert row["status"] == "emailed" and len(chain.emails()) == 1
    assert row["provider_transcript_deleted_at"] is None
    assert not chain.assemblyai.deleted(str(row["assemblyai_transcript_id"]))


def test_a_document_is_deleted_with_every_version_and_only_it(aws: Any) -> None:
    from voxcliente.adapters import s3

    aws.s3.put_bucket_versioning(Bucket=aws.bucket, VersioningConfiguration={"Status": "Enabled"})
    key = "actas/x/acta.docx"
    for body in (b"one", b"two"):
        s3.put(aws.bucket, key, body, content_type="application/octet-stream")
    s3.put(aws.bucket, f"{key}.keep", b"other", content_type="application/octet-stream")

    s3.delete(aws.bucket, key)
    s3.delete(aws.bucket, key)  # already gone: nothing to do, no error

    listed = aws.s3.list_object_versions(Bucket=aws.bucket, Prefix="actas/")
    left = [v["Key"] for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]]
    assert left == [f"{key}.keep"]
