"""``make up`` in-process: the page's server, the HTTP API, S3 -> Submit, the acta
queue and the mailbox, spoken to over HTTP as a browser and the AWS CLI would.

Each test starts the whole stack on ephemeral ports with this session's PostgreSQL;
the emulators answer in milliseconds, so the waits are polls with a generous limit.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
import jwt
import pytest
from botocore.config import Config

from voxlocal import stack as local
from voxlocal.up import Running, start

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "reunion-textiles-andinos.mp3"
WAIT_S = 60.0


@pytest.fixture
def up(db_url: str, tmp_path: Path) -> Iterator[Running]:
    with contextlib.ExitStack() as stack:
        yield start(
            stack,
            database_url=db_url,
            visibility_timeout_s=1,
            functions_log=tmp_path / "functions.log",
            echo=False,
        )


# --- HTTP as a browser speaks it ---------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the test reads the 303 itself


_OPENER = urllib.request.build_opener(_NoRedirect)


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with _OPENER.open(req, timeout=30) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def get_json(url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    status, _, data = request("GET", url, headers=headers)
    return status, json.loads(data)


def sign_in(up: Running, email: str, return_to: str = "/") -> tuple[int, str]:
    form = urlencode({"email": email, "return_to": return_to}).encode()
    status, headers, _ = request(
        "POST",
        f"{up.base_url}/auth/sign-in",
        body=form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    return status, headers.get("location", "")


def token_for(up: Running, email: str) -> str:
    _, location = sign_in(up, email)
    return location.split("#token=", 1)[1]


def wait_until[T](probe: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {WAIT_S:.0f} s")


def mail_to(up: Running, address: str) -> dict[str, Any] | None:
    _, mails = get_json(f"{up.base_url}/mailbox.json")
    return next((m for m in mails if address in m["to"]), None)


def multipart(fields: dict[str, str], filename: str, data: bytes, kind: str) -> tuple[bytes, str]:
    """A browser's FormData: the policy fields first, the file last (S3 ignores any after it)."""
    boundary = f"----voxcliente{secrets.token_hex(8)}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {kind}\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- the tests ---------------------------------------------------------------------


def test_the_page_config_and_the_dev_sign_in(up: Running) -> None:
    status, config = get_json(f"{up.base_url}/config.json")
    assert status == 200
    assert config["apiBase"] == ""
    assert config["auth"] == {"mode": "dev", "signInUrl": "/auth/sign-in"}
    assert config["maxUploadBytes"] > 0
    assert ".mp3" in config["acceptedTypes"]["audio/mpeg"]

    status, _, form = request("GET", f"{up.base_url}/auth/sign-in?return_to=/")
    assert status == 200
    assert "Correo electrónico" in form.decode() and "Entrar" in form.decode()

    status, location = sign_in(up, "Ana.Mendez@Example.com", "/historial?x=1")
    assert status == 303
    path, token = location.split("#token=", 1)
    assert path == "/historial?x=1"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "dev|ana.mendez@example.com"
    assert claims["email"] == "Ana.Mendez@Example.com" and claims["email_verified"] is True
    assert claims["iss"] == up.issuer.issuer and claims["aud"] == "voxcliente"
    assert claims["exp"] - claims["iat"] == 12 * 3600

    # Another origin is never a place to send a token to.
    assert sign_in(up, "ana@example.com", "//evil.example/")[1].startswith("/#token=")
    status, _, page = request(
        "POST", f"{up.base_url}/auth/sign-in", body=b"email=not-an-address&return_to=/"
    )
    assert status == 400 and b'role="alert"' in page


def test_jwt_routes_answer_401_without_a_token_and_the_handler_with_one(up: Running) -> None:
    status, _, body = request("GET", f"{up.base_url}/me")
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    forged = up.issuer.mint("dev|x", "x@example.com", audience="someone-else")
    assert get_json(f"{up.base_url}/me", forged)[0] == 401

    status, me = get_json(f"{up.base_url}/me", token_for(up, "ana@example.com"))
    assert status == 200
    assert me["user"]["email"] == "ana@example.com"
    assert me["totals"]["meetings"] == 0

    # Routes API Gateway does not have are its 404; the webhook is public (its own check).
    status, _, body = request("GET", f"{up.base_url}/meetings/x/y")
    assert status == 404
    status, _, _ = request("POST", f"{up.base_url}/webhooks/assemblyai", body=b"{}")
    assert status in (400, 401, 403)


def test_an_inbox_drop_with_an_s3_client_reaches_the_mailbox(up: Running) -> None:
    # What `aws s3 cp <sample> s3://<bucket>/inbox/you@example.com/ --endpoint-url ...` does.
    s3 = boto3.client(
        "s3",
        endpoint_url=up.moto_endpoint,
        region_name=local.REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(s3={"addressing_style": "path"}),
    )
    s3.upload_file(str(SAMPLE), up.bucket, f"inbox/you@example.com/{SAMPLE.name}")

    mail = wait_until(lambda: mail_to(up, "you@example.com"), "the acta in the mailbox")
    assert mail["subject"].startswith("Acta de reunión")
    names = [a["filename"] for a in mail["attachments"]]
    assert len(names) == 2
    assert names[0].endswith(".docx") and names[1].endswith(".txt")
    assert all(a["size"] > 0 for a in mail["attachments"])

    status, _, page = request("GET", f"{up.base_url}/mailbox/{mail['id']}")
    assert status == 200
    assert b"<iframe" in page and b"srcdoc=" in page and b"Textiles Andinos" in page
    status, headers, docx = request("GET", f"{up.base_url}/mailbox/{mail['id']}/attachments/0")
    assert status == 200 and docx.startswith(b"PK")  # a .docx is a zip
    assert names[0] in headers["content-disposition"]
    status, _, listing = request("GET", f"{up.base_url}/mailbox")
    assert status == 200 and mail["id"].encode() in listing


def test_the_browser_upload_path_reaches_emailed(up: Running) -> None:
    token = token_for(up, "lucia@example.com")
    data = SAMPLE.read_bytes()
    body = json.dumps(
        {
            "filename": SAMPLE.name,
            "content_type": "audio/mpeg",
            "size_bytes": len(data),
            "client_name": "Textiles Andinos",
        }
    ).encode()
    status, _, answer = request(
        "POST",
        f"{up.base_url}/uploads",
        body=body,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    assert status == 201, answer
    offer = json.loads(answer)
    assert offer["url"] == f"{up.moto_endpoint}/{up.bucket}"

    # The page's origin may POST to the bucket (its CORS rules, as S3 applies them).
    origin = {"origin": up.base_url}
    status, headers, _ = request(
        "OPTIONS",
        offer["url"],
        headers={**origin, "access-control-request-method": "POST"},
    )
    assert status == 200 and headers["access-control-allow-origin"] == up.base_url
    form, kind = multipart(offer["fields"], SAMPLE.name, data, "audio/mpeg")
    status, headers, _ = request(
        "POST", offer["url"], body=form, headers={**origin, "content-type": kind}
    )
    assert status == 204 and headers["access-control-allow-origin"] == up.base_url

    def emailed() -> dict[str, Any] | None:
        _, progress = get_json(f"{up.base_url}/uploads/{offer['upload_id']}", token)
        assert progress["status"] != "failed", progress
        return progress if progress["status"] == "emailed" else None

    progress = wait_until(emailed, "the upload's meeting emailed")
    assert {"received", "submitted", "transcribed", "emailed"} <= set(progress["timestamps"])
    assert mail_to(up, "lucia@example.com") is not None


def test_the_acta_queue_keeps_a_failed_record_then_moves_it_to_the_dlq(
    up: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxcliente.flows import acta

    failing = uuid.uuid4()
    calls: list[int] = []
    real_process = acta.process

    def process(message: Any, **kwargs: Any) -> Any:
        if message.meeting_id == failing:
            calls.append(kwargs.get("receive_count", 0))
            raise RuntimeError("this record fails on purpose")
        return real_process(message, **kwargs)

    monkeypatch.setattr(acta, "process", process)
    sqs = boto3.client(
        "sqs",
        endpoint_url=up.moto_endpoint,
        region_name=local.REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    # A malformed body can never work: the function consumes it (no redrive for it).
    sqs.send_message(QueueUrl=up.queue_url, MessageBody="not json")
    sqs.send_message(QueueUrl=up.queue_url, MessageBody=json.dumps({"meeting_id": str(failing)}))

    def dead_lettered() -> list[Any] | None:
        got: list[Any] = sqs.receive_message(QueueUrl=up.dlq_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        return got or None

    [dead] = wait_until(dead_lettered, "the failed record in the dead-letter queue")
    assert json.loads(dead["Body"]) == {"meeting_id": str(failing)}
    # It stayed in the queue and came back after each visibility timeout, once per
    # receive up to the template's maxReceiveCount.
    assert calls == [1, 2, 3, 4]
    attributes = sqs.get_queue_attributes(
        QueueUrl=up.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def test_static_files_stay_inside_web(up: Running) -> None:
    target = urlsplit(up.base_url)
    connection = http.client.HTTPConnection(str(target.hostname), target.port, timeout=10)
    try:
        connection.request("GET", "/../Makefile")
        answer = connection.getresponse()
        assert answer.status == 404
        assert b".PHONY" not in answer.read()
    finally:
        connection.close()


def test_the_route_table_is_the_templates() -> None:
    from voxlocal.up.routes import load_routes

    routes = {(r.method, r.path): r for r in load_routes()}
    assert ("POST", "/uploads") in routes and ("GET", "/meetings/{meeting_id}") in routes
    public = sorted(f"{m} {p}" for (m, p), r in routes.items() if not r.authorized)
    assert public == [
        "GET /trial/uploads/{upload_id}",
        "POST /trial/codes",
        "POST /trial/uploads",
        "POST /webhooks/assemblyai",
    ]
    assert routes[("DELETE", "/me")].function == "account_api"
    assert routes[("GET", "/meetings/{meeting_id}")].match("GET", "/meetings/a%20b") == {
        "meeting_id": "a b"
    }
    # A fixed path is tried before a parameter could swallow it.
    order = [r.path for r in load_routes()]
    assert order.index("/meetings") < order.index("/meetings/{meeting_id}")


def test_real_keys_switch_to_the_real_services_and_the_environment_comes_back(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.setenv("ASSEMBLYAI_API_KEY", "a-real-looking-key")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-a-real-looking-key")
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    before = dict(os.environ)
    with contextlib.ExitStack() as stack:
        running = start(
            stack, database_url=db_url, functions_log=tmp_path / "functions.log", echo=False
        )
        assert running.assemblyai is None
        # No emulator in between: the SDKs' own hosts, and the bytes sent to AssemblyAI
        # (it cannot fetch from moto's bucket on loopback).
        assert "ASSEMBLYAI_BASE_URL" not in os.environ and "OPENAI_BASE_URL" not in os.environ
        assert os.environ["ASSEMBLYAI_UPLOAD_AUDIO"] == "true"
        # Without a public URL the webhook cannot arrive: the reconciler polls instead.
        assert os.environ["WEBHOOK_URL"] == f"{running.base_url}/webhooks/assemblyai"
        assert os.environ["RECONCILE_SUBMITTED_AFTER_S"] == "60"
    assert dict(os.environ) == before

    with contextlib.ExitStack() as stack:
        running = start(
            stack,
            database_url=db_url,
            public_url="https://tunnel.example/",
            functions_log=tmp_path / "functions.log",
            echo=False,
        )
        assert os.environ["WEBHOOK_URL"] == "https://tunnel.example/webhooks/assemblyai"
        assert "RECONCILE_SUBMITTED_AFTER_S" not in os.environ
    assert dict(os.environ) == before
