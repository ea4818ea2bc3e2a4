"""The whole chain once in the production shape: each function with exactly the
environment the template gives it (no *_BASE_URL overrides, no AWS_ENDPOINT_URL),
reaching the providers by their real host names through an HTTPS proxy that
routes them to the local doubles.

S3 put -> Submit -> AssemblyAI (which fetches the presigned GET from
<bucket>.s3.<region>.amazonaws.com) -> webhook -> SQS -> Acta -> AssemblyAI,
OpenAI -> SES. A wrong base URL, host or scheme is refused by the proxy and the
chain stops short of the email.
"""

from __future__ import annotations

import email
import json
import ssl
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from production.deployment import (
    ACCOUNT_ID,
    ASSEMBLYAI_KEY,
    OPENAI_KEY,
    SENDER,
    Deployment,
    deploy,
    function_folder,
    reset_caches,
    use_environment,
)
from voxlocal import events
from voxlocal.emulators.assemblyai_server import AssemblyAIEmulator
from voxlocal.emulators.openai_server import OpenAIEmulator
from voxlocal.functions import load_function
from voxlocal.https_proxy import HttpsProxy, Route, aws_regional_routes

pytestmark = pytest.mark.production

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "reunion-textiles-andinos.mp3"
RECIPIENT = "ana.mendez@example.com"
REGION = "eu-west-1"


def _address(origin: str) -> tuple[str, int]:
    parts = urlsplit(origin)
    assert parts.hostname is not None and parts.port is not None, origin
    return parts.hostname, parts.port


@dataclass
class Stack:
    deployment: Deployment
    proxy: HttpsProxy
    assemblyai: AssemblyAIEmulator
    openai: OpenAIEmulator
    aws: Callable[[str], Any]  # moto, directly: what AWS itself does (event sources)
    run: Callable[[str, dict[str, Any]], Any]  # invoke a function by logical id


@pytest.fixture
def deployed(db_url: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    import boto3
    from botocore.config import Config

    urllib.request.urlopen(
        urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    ).read()

    def moto(service: str) -> Any:
        # A service named at run time: the stubs type clients per literal name.
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=REGION,
            endpoint_url=moto_endpoint,
            config=Config(s3={"addressing_style": "path"}),
        )

    deployment = deploy(REGION, moto)
    with (
        AssemblyAIEmulator(api_key=ASSEMBLYAI_KEY) as assemblyai,
        OpenAIEmulator(api_key=OPENAI_KEY) as openai_api,
    ):
        routes = [
            Route(r"api\.openai\.com", _address(openai_api.origin)),
            Route(r"api\.assemblyai\.com", _address(assemblyai.origin)),
            *aws_regional_routes(REGION, _address(moto_endpoint)),
        ]
        with HttpsProxy(routes) as proxy:
            # AssemblyAI's download of the presigned GET goes through the proxy too.
            trust = ssl.create_default_context(cafile=str(proxy.ca_file))
            monkeypatch.setattr(
                urllib.request,
                "_opener",
                urllib.request.build_opener(
                    urllib.request.ProxyHandler({"https": proxy.url}),
                    urllib.request.HTTPSHandler(context=trust),
                ),
            )
            # Not from the template: the test's PostgreSQL (no TLS) instead of RDS,
            # the way out (the proxy, trusting its CA), and no X-Ray daemon.
            machine = {
                "DATABASE_URL": db_url,
                "DB_SSLMODE": "disable",
                **proxy.client_environment(),
                "POWERTOOLS_TRACE_DISABLED": "1",
            }

            def run(function: str, event: dict[str, Any]) -> Any:
                env = deployment.environment(function)
                try:
                    with monkeypatch.context() as patch:
                        use_environment(patch, env, **machine)
                        handler = load_function(function_folder(function)).lambda_handler
                        name = env["AWS_LAMBDA_FUNCTION_NAME"]
                        context = events.LambdaContext(name)
                        context.invoked_function_arn = (
                            f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
                        )
                        return handler(event, context)
                finally:
                    reset_caches()

            yield Stack(deployment, proxy, assemblyai, openai_api, moto, run)


def test_an_upload_ends_emailed_through_the_real_host_names(
    deployed: Stack, conn: psycopg.Connection[Any]
) -> None:
    from moto.ses.models import ses_backends

    d, bucket = deployed.deployment, deployed.deployment.bucket
    audio = SAMPLE.read_bytes()
    deployed.assemblyai.register_audio(SAMPLE)

    # Given: a recording dropped in the inbox
    key = f"inbox/{RECIPIENT}/reunion.mp3"
    deployed.aws("s3").put_object(Bucket=bucket, Key=key, Body=audio, ContentType="audio/mpeg")

    # When: S3 notifies Submit
    out = deployed.run("SubmitFunction", events.s3_put(bucket, key, size=len(audio)))
    assert out["results"][0]["result"] == "submitted", (out, deployed.proxy.refused)
    # AssemblyAI got the presigned GET on the bucket's regional host, and the webhook URL
    (submission,) = deployed.assemblyai.submissions
    audio_url = urlsplit(submission["audio_url"])
    assert (audio_url.scheme, audio_url.netloc) == ("https", f"{bucket}.s3.{REGION}.amazonaws.com")
    webhook_url = urlsplit(submission["webhook_url"])
    assert webhook_url._replace(query="").geturl() == d.environment("SubmitFunction")["WEBHOOK_URL"]
    row = conn.execute("SELECT assemblyai_transcript_id FROM meetings").fetchone()
    assert row is not None
    transcript_id = str(row["assemblyai_transcript_id"])
    final = deployed.assemblyai.wait(transcript_id)
    assert final["status"] == "completed", final.get("error")

    # When: AssemblyAI calls the webhook
    url, headers, payload = deployed.assemblyai.webhook_request(transcript_id)
    # exactly what AssemblyAI posts: the path and the query naming the meeting
    request = events.http_api(
        "POST",
        "/webhooks/assemblyai?" + urlsplit(url).query,
        headers=headers,
        body=json.dumps(payload),
    )
    answer = deployed.run("WebhookFunction", request)
    assert answer["statusCode"] == 200, (answer, deployed.proxy.refused)

    # When: SQS hands the queued work to the Acta function
    sqs = deployed.aws("sqs")
    messages = sqs.receive_message(QueueUrl=d.queue_url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1, messages
    result = deployed.run("ActaFunction", events.sqs(messages, queue_arn=d.queue_arn))
    assert result.get("batchItemFailures") == [], (result, deployed.proxy.refused)

    # Then: the meeting is emailed, through SES in the stack's region
    meeting = conn.execute("SELECT status, error_code FROM meetings").fetchone()
    assert meeting is not None
    assert meeting["status"] == "emailed", (meeting, deployed.proxy.refused)
    sent = ses_backends[ACCOUNT_ID][REGION].sent_messages
    assert len(sent) == 1, sent
    assert set(sent[0].destinations) == {RECIPIENT}
    message = email.message_from_string(sent[0].raw_data)
    assert SENDER in str(message["From"])
    attached = [part.get_filename() for part in message.walk() if part.get_filename()]
    assert any(str(name).endswith(".docx") for name in attached), attached
    assert len(deployed.openai.requests) == 1  # one paid generation

    # And: the person, signed in, reads it back and erases it through AccountApi's own
    # environment: download links on the bucket's regional host, the objects and
    # AssemblyAI's transcript deleted by their real names
    claims = {
        "iss": "https://issuer.invalid",
        "sub": "user_1",
        "email": RECIPIENT,
        "email_verified": "true",
    }
    row = conn.execute("SELECT id FROM meetings").fetchone()
    assert row is not None
    meeting_id = str(row["id"])
    path = {"meeting_id": meeting_id}
    shown = deployed.run(
        "AccountApiFunction",
        events.http_api(
            "GET",
            f"/meetings/{meeting_id}",
            route="/meetings/{meeting_id}",
            path_parameters=path,
            claims=claims,
        ),
    )
    assert shown["statusCode"] == 200, (shown, deployed.proxy.refused)
    docx_url = urlsplit(json.loads(shown["body"])["downloads"]["docx"]["url"])
    assert (docx_url.scheme, docx_url.netloc) == ("https", f"{bucket}.s3.{REGION}.amazonaws.com")
    erased = deployed.run(
        "AccountApiFunction",
        events.http_api(
            "DELETE",
            f"/meetings/{meeting_id}",
            route="/meetings/{meeting_id}",
            path_parameters=path,
            claims=claims,
        ),
    )
    assert erased["statusCode"] == 200, (erased, deployed.proxy.refused)
    assert json.loads(erased["body"]) == {"erased": True, "pending": []}
    assert deployed.aws("s3").list_object_versions(Bucket=bucket).get("Versions", []) == []
    assert deployed.assemblyai.deletions == [transcript_id]

    # And: every provider was reached by its real name on 443, nothing was refused
    assert deployed.proxy.refused == []
    assert set(deployed.proxy.hosts()) == {
        "api.assemblyai.com:443",
        "api.openai.com:443",
        f"{bucket}.s3.{REGION}.amazonaws.com:443",
        f"secretsmanager.{REGION}.amazonaws.com:443",
        f"sqs.{REGION}.amazonaws.com:443",
        f"email.{REGION}.amazonaws.com:443",
    }


def test_the_reconciler_finishes_stranded_work_with_its_own_environment(
    deployed: Stack, conn: psycopg.Connection[Any]
) -> None:
    """The reconciler does Submit's work for stranded meetings: with only what the
    template gives it (its secrets, its reads, the on-failure queue's URL) it
    resubmits a meeting whose retries ran out and replays an S3 event Lambda gave
    up on, reaching AssemblyAI and the bucket by their real names."""
    from voxcliente.domain.errors import TransientError

    d, bucket = deployed.deployment, deployed.deployment.bucket
    audio = SAMPLE.read_bytes()
    deployed.assemblyai.register_audio(SAMPLE)
    s3 = deployed.aws("s3")

    # Given a meeting whose three Submit attempts met AssemblyAI down
    stranded = f"inbox/{RECIPIENT}/varada.mp3"
    s3.put_object(Bucket=bucket, Key=stranded, Body=audio, ContentType="audio/mpeg")
    for _ in range(3):
        deployed.assemblyai.script_submit("server_error")
        with pytest.raises(TransientError):
            deployed.run("SubmitFunction", events.s3_put(bucket, stranded, size=len(audio)))
    conn.execute("UPDATE meetings SET created_at = now() - interval '20 minutes'")
    # and an S3 event Lambda gave up on before any row was written (its destination record)
    lost = f"inbox/{RECIPIENT}/perdida.mp3"
    s3.put_object(Bucket=bucket, Key=lost, Body=audio, ContentType="audio/mpeg")
    record = {
        "version": "1.0",
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": events.s3_put(bucket, lost, size=len(audio)),
        "responsePayload": {"errorMessage": "The database is unavailable right now."},
    }
    deployed.aws("sqs").send_message(QueueUrl=d.failures_queue_url, MessageBody=json.dumps(record))

    # When the schedule fires
    report = deployed.run("ReconcilerFunction", {"source": "aws.events"})

    # Then both meetings are submitted, once each, through the real host names
    assert report["replayed"] == 1, (report, deployed.proxy.refused)
    assert len(report["continued"]) == 1, report
    rows = conn.execute("SELECT s3_key, status FROM meetings ORDER BY s3_key").fetchall()
    assert [(r["s3_key"], r["status"]) for r in rows] == [
        (lost, "submitted"),
        (stranded, "submitted"),
    ]
    assert len(deployed.assemblyai.transcript_ids()) == 2
    assert deployed.proxy.refused == []
    assert {
        "api.assemblyai.com:443",
        f"{bucket}.s3.{REGION}.amazonaws.com:443",
        f"sqs.{REGION}.amazonaws.com:443",
    } <= set(deployed.proxy.hosts())
