"""Who may start a meeting, and at whose cost: signed-in uploads, trial mode's
confirmed address, the daily limits, the monthly quota and the daily spend guard.

Real PostgreSQL, moto's server (SES keeps what it sent) and, where a file is
dropped, the AssemblyAI emulator, which records every request it receives.
"""

from __future__ import annotations

import email
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from typing import Any

import psycopg
import pytest

from conftest import AwsEnv, sent_emails
from harness import AUDIO, Chain, put, results, s3_event, submit, upload_api
from voxcliente.pipeline.spend import next_month_start, seconds_until, today_start
from voxlocal import events

pytestmark = pytest.mark.integration

ISSUER = "https://issuer.voxcliente.test"
ANA = "ana.mendez@example.com"
LUIS = "luis.garcia@example.com"
FILE = {"filename": "reunión textiles.mp3", "content_type": "audio/mpeg", "size_bytes": len(AUDIO)}


def claims(email_address: str, *, sub: str | None = None, verified: bool = True) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "sub": sub or f"user-{email_address}",
        "email": email_address,
        "email_verified": verified,
    }


def post_upload(body: Any, who: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    event = events.http_api("POST", "/uploads", body=json.dumps(body), claims=who)
    return upload_api(event)


def upload_api_raw(event: dict[str, Any]) -> dict[str, Any]:
    from voxlocal.functions import load_function

    out: dict[str, Any] = load_function("upload_api").lambda_handler(
        event, events.LambdaContext("UploadApi")
    )
    return out


def get_upload(upload_id: str, who: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    return upload_api(
        events.http_api(
            "GET",
            f"/uploads/{upload_id}",
            route="/uploads/{upload_id}",
            path_parameters={"upload_id": upload_id},
            claims=who,
        )
    )


def trial(
    method: str, path: str, body: Any = None, *, ip: str = "203.0.113.7", route: str | None = None
) -> dict[str, Any]:
    """The raw answer of a public /trial route (headers included)."""
    from voxlocal.functions import load_function

    event = events.http_api(
        method,
        path,
        route=route,
        body=None if body is None else body if isinstance(body, str) else json.dumps(body),
        source_ip=ip,
        path_parameters={"upload_id": path.rsplit("/", 1)[-1]} if route else None,
    )
    out: dict[str, Any] = load_function("upload_api").lambda_handler(
        event, events.LambdaContext("UploadApi")
    )
    out["json"] = json.loads(out["body"])
    return out


def code_in_last_email(to: str) -> str:
    """The 6-digit code of the last email SES accepted for ``to`` (its subject and text)."""
    sent = [m for m in sent_emails() if to in str(m.destinations)]
    assert sent, f"no email went to {to}"
    message = email.message_from_string(sent[-1].raw_data, policy=policy.default)
    subject = str(message["Subject"])
    text = message.get_body(("plain",))
    assert text is not None
    body = str(text.get_content())
    [code] = re.findall(r"\b\d{6}\b", subject)
    assert code in body and "15 minutos" in body, body
    return str(code)


@pytest.fixture
def metric_names(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the metrics the functions add from here on."""
    from voxcliente.observability import metrics

    names: list[str] = []
    add = metrics.add_metric

    def spy(*, name: str, **kwargs: Any) -> None:
        names.append(name)
        add(name=name, **kwargs)

    monkeypatch.setattr(metrics, "add_metric", spy)
    yield names


def spent_today(conn: psycopg.Connection[Any], usd: str) -> None:
    """A usage line of ``usd`` recorded now (an earlier meeting's transcription)."""
    meeting = conn.execute(
        "INSERT INTO meetings (s3_bucket, s3_key, s3_version_id, original_filename) "
        "VALUES ('b', 'inbox/x@example.com/earlier.mp3', '', 'earlier.mp3') RETURNING id"
    ).fetchone()
    assert meeting is not None
    conn.execute(
        "INSERT INTO usage_records (meeting_id, provider, item, quantity, unit, unit_price_usd, "
        "cost_usd) VALUES (%s, 'assemblyai', 'universal-2', 1, 'audio_second', %s, %s)",
        (meeting["id"], usd, usd),
    )


# --- signed in -------------------------------------------------------------------------------
def test_a_signed_in_upload_goes_to_the_tokens_email_never_the_bodys(
    db_url: str, aws: AwsEnv, conn: psycopg.Connection[Any], dev_issuer: Any
) -> None:
    from voxlocal.auth import signed_in_event

    # Given a real token for Ana, verified as API Gateway's authorizer does, and a body
    # naming someone else's address
    event = signed_in_event(
        dev_issuer,
        "POST",
        "/uploads",
        sub="user_ana",
        email=ANA,
        body={**FILE, "email": "victim@example.org"},
    )
    # When she asks for an upload
    status, body = upload_api(event)
    # Then the acta will go to her verified address, and the upload is hers
    assert status == 201, body
    row = conn.execute(
        "SELECT u.email, users.auth_subject, users.email AS user_email FROM uploads u "
        "JOIN users ON users.id = u.user_id"
    ).fetchone()
    assert row == {"email": ANA, "auth_subject": "user_ana", "user_email": ANA}
    assert "victim" not in json.dumps(conn.execute("SELECT * FROM uploads").fetchall(), default=str)


def test_without_claims_the_upload_api_answers_401(
    db_url: str, aws: AwsEnv, conn: psycopg.Connection[Any]
) -> None:
    status, body = post_upload({**FILE, "email": ANA}, None)
    assert status == 401
    assert body["error"]["code"] == "unauthenticated"
    assert "Sign in" in body["error"]["message"]
    assert get_upload("4f2c1d3e-8a9b-4c7d-9e1f-0a1b2c3d4e5f", None)[0] == 401
    assert conn.execute("SELECT count(*) AS n FROM uploads").fetchone() == {"n": 0}


def test_an_unverified_email_is_403_naming_the_claim(
    db_url: str, aws: AwsEnv, conn: psycopg.Connection[Any]
) -> None:
    status, body = post_upload(FILE, claims(ANA, verified=False))
    assert status == 403
    assert body["error"]["code"] == "forbidden"
    assert "email_verified" in body["error"]["message"]
    assert conn.execute("SELECT count(*) AS n FROM uploads").fetchone() == {"n": 0}


def test_the_monthly_audio_quota_is_429_until_next_month(
    db_url: str, aws: AwsEnv, conn: psycopg.Connection[Any], configure: Callable[..., None]
) -> None:
    configure(MONTHLY_AUDIO_MINUTES_QUOTA="10")
    # Given Ana, whose meetings this month add up to 10 minutes (last month's do not count)
    assert post_upload(FILE, claims(ANA))[0] == 201
    user = conn.execute("SELECT id FROM users").fetchone()
    assert user is not None
    last_month = today_start().replace(day=1) - timedelta(seconds=1)
    for key, received, seconds in (("now", datetime.now(UTC), 600), ("old", last_month, 3600)):
        conn.execute(
            "INSERT INTO meetings (user_id, s3_bucket, s3_key, s3_version_id, original_filename, "
            "received_at, audio_duration_s) VALUES (%s, 'b', %s, '', 'm.mp3', %s, %s)",
            (user["id"], f"uploads/{key}/m.mp3", received, seconds),
        )
    # When she asks for another upload
    longest = seconds_until(next_month_start())
    out = upload_api_raw(
        events.http_api("POST", "/uploads", body=json.dumps(FILE), claims=claims(ANA))
    )
    shortest = seconds_until(next_month_start())
    # Then 429 until the first of next month (UTC), and no upload was recorded
    assert out["statusCode"] == 429
    error = json.loads(out["body"])["error"]
    assert error["code"] == "monthly_quota"
    assert "10 minutes" in error["message"]
    assert shortest <= int(out["headers"]["Retry-After"]) <= longest
    assert conn.execute("SELECT count(*) AS n FROM uploads").fetchone() == {"n": 1}
    # and Luis, who used nothing, still may
    assert post_upload(FILE, claims(LUIS))[0] == 201


def test_progress_shows_the_file_name_to_its_owner_only(
    db_url: str, aws: AwsEnv, configure: Callable[..., None]
) -> None:
    configure(ANONYMOUS_UPLOADS="confirm-email")
    _, created = post_upload(FILE, claims(ANA))
    upload_id = created["upload_id"]
    # The owner sees the name and the meeting id (none yet)
    status, mine = get_upload(upload_id, claims(ANA))
    assert status == 200
    assert mine["filename"] == "reunión textiles.mp3"
    assert mine["meeting_id"] is None and mine["status"] == "waiting_for_file"
    # Another signed-in user holding the id sees the progress, not the name
    status, theirs = get_upload(upload_id, claims(LUIS))
    assert status == 200 and theirs["status"] == "waiting_for_file"
    assert "filename" not in theirs and "reunión" not in json.dumps(theirs)
    # and the public trial route never shows it
    public = trial("GET", f"/trial/uploads/{upload_id}", route="/trial/uploads/{upload_id}")
    assert public["statusCode"] == 200
    assert "filename" not in public["json"] and "reunión" not in public["body"]
    assert public["json"]["status"] == "waiting_for_file"


# --- trial mode ---------------------------------------------------------------------------------
def test_trial_routes_answer_401_when_anonymous_uploads_are_off(
    db_url: str, aws: AwsEnv, conn: psycopg.Connection[Any]
) -> None:
    for method, path, body in (
        ("POST", "/trial/codes", {"email": ANA}),
        ("POST", "/trial/uploads", "{not json"),
        ("GET", "/trial/uploads/4f2c1d3e-8a9b-4c7d-9e1f-0a1b2c3d4e5f", None),
    ):
        out = trial(
            method, path, body, route="/trial/uploads/{upload_id}" if method == "GET" else None
        )
        assert out["statusCode"] == 401, (path, out)
        assert out["json"]["error"]["code"] == "anonymous_uploads_off"
        assert "sign-in" in out["json"]["error"]["message"]
    assert sent_emails() == []
    assert conn.execute("SELECT count(*) AS n FROM email_confirmations").fetchone() == {"n": 0}


def test_a_trial_upload_needs_the_emailed_code_and_gets_one_presigned_post(
    db_url: str, aws: AwsEnv, conn: psycopg.Connection[Any], configure: Callable[..., None]
) -> None:
    configure(ANONYMOUS_UPLOADS="confirm-email")
    # Given a code asked for Ana's address
    asked = trial("POST", "/trial/codes", {"email": ANA})
    assert asked["statusCode"] == 202, asked
    confirmation_id = asked["json"]["confirmation_id"]
    code = code_in_last_email(ANA)
    # only its hash is kept, and the email is recorded as a confirmation
    row = conn.execute(
        "SELECT code_hash, host(source_ip) AS ip FROM email_confirmations"
    ).fetchone()
    assert row is not None and code not in row["code_hash"] and row["ip"] == "203.0.113.7"
    delivery = conn.execute("SELECT kind, meeting_id, status, recipient FROM email_deliveries")
    assert delivery.fetchall() == [
        {"kind": "confirmation", "meeting_id": None, "status": "sent", "recipient": ANA}
    ]
    # When a wrong code comes back: 400, and no presigned POST
    wrong = "000000" if code != "000000" else "111111"
    body = {**FILE, "confirmation_id": confirmation_id, "email": "victim@example.org"}
    refused = trial("POST", "/trial/uploads", {**body, "code": wrong})
    assert refused["statusCode"] == 400
    assert refused["json"]["error"]["code"] == "code_invalid"
    assert "url" not in refused["json"]
    assert conn.execute("SELECT count(*) AS n FROM uploads").fetchone() == {"n": 0}
    # When the right one does: 201 with the POST, for the confirmed address only
    created = trial("POST", "/trial/uploads", {**body, "code": code})
    assert created["statusCode"] == 201, created
    assert created["json"]["fields"]["key"].startswith(f"uploads/{created['json']['upload_id']}/")
    upload = conn.execute(
        "SELECT email, confirmation_id::text, host(source_ip) AS ip, user_id FROM uploads"
    ).fetchone()
    assert upload == {
        "email": ANA,
        "confirmation_id": confirmation_id,
        "ip": "203.0.113.7",
        "user_id": None,
    }
    # and a second use of the same code is a conflict
    again = trial("POST", "/trial/uploads", {**body, "code": code})
    assert again["statusCode"] == 409
    assert again["json"]["error"]["code"] == "code_used"
    assert conn.execute("SELECT count(*) AS n FROM uploads").fetchone() == {"n": 1}


def test_five_wrong_codes_or_expiry_end_a_confirmation(
    db_url: str, aws: AwsEnv, conn: psycopg.Connection[Any], configure: Callable[..., None]
) -> None:
    configure(ANONYMOUS_UPLOADS="confirm-email")
    confirmation_id = trial("POST", "/trial/codes", {"email": ANA})["json"]["confirmation_id"]
    code = code_in_last_email(ANA)
    wrong = "000000" if code != "000000" else "111111"
    body = {**FILE, "confirmation_id": confirmation_id}
    answers = [trial("POST", "/trial/uploads", {**body, "code": wrong})["json"] for _ in range(5)]
    assert [a["error"]["code"] for a in answers] == ["code_invalid"] * 4 + ["code_expired"]
    # the right code no longer helps
    late = trial("POST", "/trial/uploads", {**body, "code": code})
    assert (late["statusCode"], late["json"]["error"]["code"]) == (400, "code_expired")
    # and a code past its validity is expired too
    other = trial("POST", "/trial/codes", {"email": LUIS})["json"]["confirmation_id"]
    conn.execute(
        "UPDATE email_confirmations SET expires_at = now() - interval '1 second' WHERE id = %s",
        (other,),
    )
    expired = trial(
        "POST",
        "/trial/uploads",
        {**FILE, "confirmation_id": other, "code": code_in_last_email(LUIS)},
    )
    assert (expired["statusCode"], expired["json"]["error"]["code"]) == (400, "code_expired")
    assert conn.execute("SELECT count(*) AS n FROM uploads").fetchone() == {"n": 0}


def test_the_per_address_daily_limit_is_429_until_the_oldest_code_leaves_the_day(
    db_url: str, aws: AwsEnv, conn: psycopg.Connection[Any], configure: Callable[..., None]
) -> None:
    configure(ANONYMOUS_UPLOADS="confirm-email", TRIAL_DAILY_PER_ADDRESS="2")
    # Given two codes for Ana's address, the first asked 23 hours ago (from two networks)
    assert trial("POST", "/trial/codes", {"email": ANA}, ip="198.51.100.1")["statusCode"] == 202
    assert trial("POST", "/trial/codes", {"email": ANA}, ip="198.51.100.2")["statusCode"] == 202
    first = datetime.now(UTC) - timedelta(hours=23)
    conn.execute(
        "UPDATE email_confirmations SET created_at = %s WHERE created_at = "
        "(SELECT min(created_at) FROM email_confirmations)",
        (first,),
    )
    # When a third is asked, with the address written otherwise
    longest = seconds_until(first + timedelta(hours=24))
    out = trial("POST", "/trial/codes", {"email": "Ana.Mendez@Example.com"}, ip="198.51.100.3")
    shortest = seconds_until(first + timedelta(hours=24))
    # Then 429 until the first one is a day old, and no third email
    assert out["statusCode"] == 429
    assert out["json"]["error"]["code"] == "trial_limit_address"
    assert shortest <= int(out["headers"]["Retry-After"]) <= longest <= 3600
    assert len(sent_emails()) == 2
    # once it left the window, the address may ask again
    conn.execute(
        "UPDATE email_confirmations SET created_at = now() - interval '25 hours' "
        "WHERE created_at = %s",
        (first,),
    )
    assert trial("POST", "/trial/codes", {"email": ANA}, ip="198.51.100.3")["statusCode"] == 202


def test_the_per_ip_daily_limit_is_429_with_retry_after(
    db_url: str, aws: AwsEnv, configure: Callable[..., None]
) -> None:
    configure(ANONYMOUS_UPLOADS="confirm-email", TRIAL_DAILY_PER_IP="2")
    for address in (ANA, LUIS):
        assert trial("POST", "/trial/codes", {"email": address})["statusCode"] == 202
    out = trial("POST", "/trial/codes", {"email": "marta@example.com"})
    assert out["statusCode"] == 429
    assert out["json"]["error"]["code"] == "trial_limit_ip"
    assert 0 < int(out["headers"]["Retry-After"]) <= 24 * 3600
    assert out["json"]["error"]["retry_after_s"] == int(out["headers"]["Retry-After"])
    # another network is not limited by this one
    assert (
        trial("POST", "/trial/codes", {"email": "marta@example.com"}, ip="192.0.2.44")["statusCode"]
        == 202
    )


# --- the daily spend guard ------------------------------------------------------------------------
def test_the_daily_spend_guard_refuses_uploads_and_inbox_drops_before_assemblyai(
    chain: Chain,
    conn: psycopg.Connection[Any],
    configure: Callable[..., None],
    metric_names: list[str],
) -> None:
    configure(DAILY_SPEND_LIMIT_USD="1.5", ANONYMOUS_UPLOADS="confirm-email")
    # Given today's spend at the limit
    spent_today(conn, "1.500000")
    # When Ana asks for an upload: 429 until the next UTC midnight
    longest = seconds_until(today_start() + timedelta(days=1))
    out = upload_api_raw(
        events.http_api("POST", "/uploads", body=json.dumps(FILE), claims=claims(ANA))
    )
    assert out["statusCode"] == 429
    assert json.loads(out["body"])["error"]["code"] == "daily_spend_limit"
    assert 0 < int(out["headers"]["Retry-After"]) <= longest
    # and a confirmed trial address is refused too, without using up its code
    confirmation_id = trial("POST", "/trial/codes", {"email": LUIS})["json"]["confirmation_id"]
    refused = trial(
        "POST",
        "/trial/uploads",
        {**FILE, "confirmation_id": confirmation_id, "code": code_in_last_email(LUIS)},
    )
    assert (refused["statusCode"], refused["json"]["error"]["code"]) == (429, "daily_spend_limit")
    assert conn.execute("SELECT used_at FROM email_confirmations").fetchone() == {"used_at": None}
    assert conn.execute("SELECT count(*) AS n FROM uploads").fetchone() == {"n": 0}
    # When a file is dropped in the inbox
    key = f"inbox/{ANA}/reunion.mp3"
    put(chain.aws, key)
    assert results(submit(s3_event(chain.aws.bucket, key))) == ["failed"]
    # Then it fails daily_spend_limit before AssemblyAI heard of it
    meeting = chain.meeting()
    assert (meeting["status"], meeting["error_code"]) == ("failed", "daily_spend_limit")
    assert chain.assemblyai.requests == []
    # and Ana gets exactly one notice telling her to send it again tomorrow
    chain.drain()
    chain.drain()
    notices = [m for m in sent_emails() if ANA in str(m.destinations)]
    assert len(notices) == 1
    message = email.message_from_string(notices[0].raw_data, policy=policy.default)
    assert "límite diario" in str(message["Subject"])
    text = message.get_body(("plain",))
    assert text is not None and "mañana" in text.get_content()
    assert metric_names.count("DailySpendLimitReached") == 3
