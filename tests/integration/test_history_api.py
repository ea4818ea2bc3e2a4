"""AccountApi: a signed-in person's account, meetings and clients, and nobody else's.

Two people with meetings in the same database; every route is called through the
function's handler with the event API Gateway builds once its JWT authorizer has
checked the token. Each route answers only with the caller's rows: the other
person's ids answer 404 worded as a missing id, and no list or total counts them.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from harness import RECIPIENT, SPANISH, Chain
from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import transaction
from voxcliente.pipeline import account_views
from voxlocal import events
from voxlocal.auth import DevIssuer, signed_in_event
from voxlocal.functions import load_function

ISSUER = "https://issuer.voxcliente.test"
ANA = "ana@example.com"
BRUNO = "bruno@example.com"
NOW = datetime.now(UTC).replace(microsecond=0)


def call(
    method: str,
    path: str,
    who: str | None = ANA,
    *,
    body: Any = None,
    raw_body: str | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """The AccountApi's answer to a request signed in as ``who`` (None: no token)."""
    claims = (
        None
        if who is None
        else {"iss": ISSUER, "sub": f"sub-{who}", "email": who, "email_verified": True}
    )
    text = raw_body if raw_body is not None else None if body is None else json.dumps(body)
    event = events.http_api(method, path, claims=claims, body=text)
    out = load_function("account_api").lambda_handler(event, events.LambdaContext("AccountApi"))
    return int(out["statusCode"]), json.loads(out["body"]), dict(out.get("headers") or {})


def ok(method: str, path: str, who: str = ANA, **kwargs: Any) -> Any:
    status, body, _ = call(method, path, who, **kwargs)
    assert status in (200, 202), body
    return body


def add_meeting(
    conn: psycopg.Connection[Any],
    email: str,
    *,
    received_at: datetime,
    client: str | None = None,
    status: str = "emailed",
    audio_s: str = "600",
    cost: str = "0.100000",
    name: str | None = None,
) -> UUID:
    """A meeting of ``email``'s through the repository, then aged and finished by SQL."""
    with transaction() as tx:
        user = repo.get_or_create_user(tx, email)
        client_id = repo.get_or_create_client(tx, user.id, client).id if client else None
        meeting, _ = repo.insert_meeting_once(
            tx,
            s3_bucket="audio",
            s3_key=f"inbox/{email}/{uuid4()}.mp3",
            s3_version_id="",
            original_filename=name or "call.mp3",
            user_id=user.id,
            client_id=client_id,
            recipient_email=email,
        )
    conn.execute(
        """
        UPDATE meetings SET received_at = %(at)s, status = %(status)s,
            emailed_at = CASE WHEN %(status)s = 'emailed' THEN %(at)s END,
            failed_at = CASE WHEN %(status)s = 'failed' THEN %(at)s END,
            error_code = CASE WHEN %(status)s = 'failed' THEN 'provider_error' END,
            error_message = CASE WHEN %(status)s = 'failed' THEN 'It failed.' END,
            audio_duration_s = %(audio)s, transcription_cost_usd = %(cost)s,
            total_cost_usd = %(cost)s
        WHERE id = %(id)s
        """,
        {"at": received_at, "status": status, "audio": audio_s, "cost": cost, "id": meeting.id},
    )
    return meeting.id


@pytest.fixture
def two_people(db_url: str, conn: psycopg.Connection[Any]) -> Iterator[dict[str, list[UUID]]]:
    """Ana: three meetings (two for Acme, one failed); Bruno: one, for his own Acme."""
    day = timedelta(days=1)
    yield {
        ANA: [
            add_meeting(conn, ANA, received_at=NOW - 3 * day, client="Acme", audio_s="600"),
            add_meeting(conn, ANA, received_at=NOW - 2 * day, client="Acme", audio_s="900"),
            add_meeting(conn, ANA, received_at=NOW - day, status="failed", audio_s="60"),
        ],
        BRUNO: [add_meeting(conn, BRUNO, received_at=NOW, client="Acme", cost="5.000000")],
    }


# --- who may call -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/me"),
        ("GET", "/meetings"),
        ("GET", f"/meetings/{uuid4()}"),
        ("POST", f"/meetings/{uuid4()}/resend"),
        ("DELETE", f"/meetings/{uuid4()}"),
        ("DELETE", "/me"),
        ("GET", "/clients"),
        ("PATCH", f"/clients/{uuid4()}"),
    ],
)
def test_every_route_refuses_a_request_without_a_verified_token(
    db_url: str, method: str, path: str
) -> None:
    status, body, _ = call(method, path, None, body={"name": "x"})
    assert status == 401
    assert body["error"]["code"] == "unauthenticated"
    assert "Sign in" in body["error"]["message"]


def test_a_token_without_a_verified_email_is_a_403_saying_which_claim(db_url: str) -> None:
    claims = {"iss": ISSUER, "sub": "sub-new", "email": "new@example.com"}
    event = events.http_api("GET", "/me", claims=claims)
    out = load_function("account_api").lambda_handler(event, events.LambdaContext("AccountApi"))
    assert out["statusCode"] == 403
    assert "email_verified" in json.loads(out["body"])["error"]["message"]


# --- GET /me ----------------------------------------------------------------------
def test_me_adds_up_only_the_callers_meetings(two_people: dict[str, list[UUID]]) -> None:
    ana = ok("GET", "/me")
    assert ana["user"]["email"] == ANA
    assert ana["user"]["signed_up_at"].endswith("Z")
    assert ana["totals"] == {
        "meetings": 3,
        "actas": 2,
        "audio_minutes": 26.0,  # 600 + 900 + 60 seconds
        "cost_usd": "0.300000",
    }
    assert ana["quota"]["monthly_audio_minutes"] == 600
    bruno = ok("GET", "/me", BRUNO)
    assert bruno["totals"] == {
        "meetings": 1,
        "actas": 1,
        "audio_minutes": 10.0,
        "cost_usd": "5.000000",
    }


def test_quota_counts_this_utc_month_and_zero_means_none(
    db_url: str, conn: psycopg.Connection[Any], configure: Any
) -> None:
    month_start = NOW.replace(day=1, hour=0, minute=0, second=0)
    add_meeting(conn, ANA, received_at=month_start + timedelta(seconds=1), audio_s="120")
    add_meeting(conn, ANA, received_at=month_start - timedelta(seconds=1), audio_s="6000")
    me = ok("GET", "/me")
    assert me["quota"] == {"monthly_audio_minutes": 600, "used_this_month_minutes": 2.0}
    assert me["totals"]["audio_minutes"] == 102.0
    configure(MONTHLY_AUDIO_MINUTES_QUOTA="0")
    assert ok("GET", "/me")["quota"]["monthly_audio_minutes"] is None


# --- GET /meetings ----------------------------------------------------------------
def test_meetings_lists_only_the_callers_newest_first(two_people: dict[str, list[UUID]]) -> None:
    listed = ok("GET", "/meetings")
    assert [m["id"] for m in listed["meetings"]] == [str(i) for i in reversed(two_people[ANA])]
    assert listed["next_cursor"] is None
    newest, _, oldest = listed["meetings"]
    assert newest["status"] == "failed"
    assert newest["client"] is None
    assert oldest["client"]["name"] == "Acme"
    assert oldest["received_at"].endswith("Z")
    assert oldest["audio_minutes"] == 10.0
    assert oldest["cost_usd"] == "0.100000"
    assert oldest["erased"] is False
    only_bruno = ok("GET", "/meetings", BRUNO)["meetings"]
    assert [m["id"] for m in only_bruno] == [str(two_people[BRUNO][0])]


def test_pages_follow_each_other_without_repeats_even_with_equal_times(
    db_url: str, conn: psycopg.Connection[Any]
) -> None:
    # Seven meetings, three received at the same instant: the id breaks the tie.
    times = [NOW - timedelta(hours=h) for h in (1, 2, 2, 2, 3, 4, 5)]
    ids = [add_meeting(conn, ANA, received_at=at) for at in times]
    add_meeting(conn, BRUNO, received_at=NOW - timedelta(hours=2))
    expected = [str(i) for _, i in sorted(zip(times, ids, strict=True), reverse=True)]

    seen: list[str] = []
    pages = 0
    path = "/meetings?limit=3"
    while True:
        page = ok("GET", path)
        pages += 1
        seen += [m["id"] for m in page["meetings"]]
        if page["next_cursor"] is None:
            break
        if pages == 1:
            # A meeting arriving meanwhile is newer than every page: no shift, no repeat.
            add_meeting(conn, ANA, received_at=NOW)
        path = f"/meetings?limit=3&cursor={page['next_cursor']}"
    assert pages == 3
    assert seen == expected


def test_filters_by_client_status_and_days(
    two_people: dict[str, list[UUID]], conn: psycopg.Connection[Any]
) -> None:
    first, second, failed = (str(i) for i in two_people[ANA])
    clients = {c["name"]: c["id"] for c in ok("GET", "/clients")["clients"]}

    def ids(query: str, who: str = ANA) -> list[str]:
        return [m["id"] for m in ok("GET", f"/meetings?{query}", who)["meetings"]]

    assert ids(f"client_id={clients['Acme']}") == [second, first]
    assert ids("status=failed") == [failed]
    assert ids(f"status=emailed&client_id={clients['Acme']}&limit=1") == [second]
    day = (NOW - timedelta(days=2)).date().isoformat()
    assert ids(f"from={day}&to={day}") == [second]
    assert ids(f"from={day}") == [failed, second]
    assert ids(f"to={day}") == [second, first]
    # Another person's client id filters to nothing: it does not reach their meetings.
    assert ids(f"client_id={clients['Acme']}", BRUNO) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=done", "status"),
        ("status=emailed,failed", "status"),
        ("from=2025-13-01", "from"),
        ("from=20250101", "from"),
        ("to=yesterday", "to"),
        ("from=2025-05-02&to=2025-05-01", "to"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("client_id=acme", "client_id"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=" + "A" * 300, "cursor"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(db_url: str, query: str, field: str) -> None:
    status, body, _ = call("GET", f"/meetings?{query}")
    assert status == 400, body
    assert body["error"]["code"] == "bad_request"
    assert list(body["error"]["fields"]) == [field]
    assert field in body["error"]["message"]


def test_an_edited_cursor_is_a_400_not_a_500(db_url: str) -> None:
    import base64

    good = account_views.write_cursor(NOW, uuid4())
    raw = base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)).decode()
    for text in (raw.replace("|", ";"), "1|yesterday|" + str(uuid4()), raw[:-4], "2" + raw[1:]):
        edited = base64.urlsafe_b64encode(text.encode()).decode()
        status, body, _ = call("GET", f"/meetings?cursor={edited}")
        assert status == 400, (text, body)
        assert list(body["error"]["fields"]) == ["cursor"]
    assert account_views.read_cursor(good)[0] == NOW


# --- another person's ids ---------------------------------------------------------
def test_another_persons_meeting_or_client_is_not_found_like_a_missing_one(
    two_people: dict[str, list[UUID]],
) -> None:
    brunos_meeting = two_people[BRUNO][0]
    brunos_client = ok("GET", "/clients", BRUNO)["clients"][0]["id"]
    for method, path, body in [
        ("GET", "/meetings/{}", None),
        ("POST", "/meetings/{}/resend", None),
        ("DELETE", "/meetings/{}", None),
        ("PATCH", "/clients/{}", {"name": "Mine now"}),
    ]:
        theirs = brunos_client if path.startswith("/clients") else brunos_meeting
        answers = [call(method, path.format(i), body=body)[:2] for i in (theirs, uuid4(), "x")]
        assert answers[0][0] == 404, answers[0]
        assert answers[0] == answers[1] == answers[2]
    # Bruno's things are untouched.
    assert ok("GET", "/clients", BRUNO)["clients"][0]["name"] == "Acme"
    assert ok("GET", f"/meetings/{brunos_meeting}", BRUNO)["meeting"]["id"] == str(brunos_meeting)


# --- GET /clients, PATCH /clients/{id} --------------------------------------------
def test_clients_with_their_counts_and_costs(
    two_people: dict[str, list[UUID]], conn: psycopg.Connection[Any]
) -> None:
    with transaction() as tx:
        repo.get_or_create_client(tx, repo.get_or_create_user(tx, ANA).id, "Zeta")
    clients = ok("GET", "/clients")["clients"]
    assert [c["name"] for c in clients] == ["Acme", "Zeta"]
    acme, zeta = clients
    assert acme["meetings"] == 2
    assert acme["actas"] == 2
    assert acme["audio_minutes"] == 25.0
    assert acme["cost_usd"] == "0.200000"
    assert acme["last_meeting_at"] == account_views.when(NOW - timedelta(days=2))
    assert zeta == {
        "id": zeta["id"],
        "name": "Zeta",
        "meetings": 0,
        "actas": 0,
        "audio_minutes": 0.0,
        "cost_usd": "0.000000",
        "last_meeting_at": None,
    }
    bruno = ok("GET", "/clients", BRUNO)["clients"]
    assert [(c["name"], c["meetings"], c["cost_usd"]) for c in bruno] == [("Acme", 1, "5.000000")]


def test_renaming_a_client(two_people: dict[str, list[UUID]]) -> None:
    acme = ok("GET", "/clients")["clients"][0]
    with transaction() as tx:
        zeta = repo.get_or_create_client(tx, repo.get_or_create_user(tx, ANA).id, "Zeta").id
    renamed = ok("PATCH", f"/clients/{acme['id']}", body={"name": "  Acme Textiles  "})
    assert renamed == {**acme, "name": "Acme Textiles"}
    # Its own name in another case is no clash.
    assert ok("PATCH", f"/clients/{acme['id']}", body={"name": "ACME textiles"})["name"] == (
        "ACME textiles"
    )
    status, body, _ = call("PATCH", f"/clients/{zeta}", body={"name": "acme TEXTILES"})
    assert status == 409
    assert body["error"]["code"] == "name_taken"
    assert "ACME textiles" in body["error"]["message"]
    # Bruno's "Acme" is his: Ana may use the name.
    assert ok("PATCH", f"/clients/{zeta}", body={"name": "Acme"})["name"] == "Acme"
    listed = ok("GET", f"/meetings?client_id={acme['id']}")["meetings"]
    assert {m["client"]["name"] for m in listed} == {"ACME textiles"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 7}, "name"),
        ({"name": "Acme\x00"}, "name"),
        ({}, "name"),
        (["Acme"], "body"),
    ],
)
def test_a_bad_client_name_is_a_400(
    two_people: dict[str, list[UUID]], body: Any, field: str
) -> None:
    acme = ok("GET", "/clients")["clients"][0]["id"]
    status, answer, _ = call("PATCH", f"/clients/{acme}", body=body)
    assert status == 400, answer
    assert list(answer["error"]["fields"]) == [field]


def test_a_body_that_is_not_json_is_a_400(two_people: dict[str, list[UUID]]) -> None:
    acme = ok("GET", "/clients")["clients"][0]["id"]
    status, answer, _ = call("PATCH", f"/clients/{acme}", raw_body="{name: Acme")
    assert status == 400
    assert answer["error"]["fields"] == {"body": "must be valid JSON"}


def test_amounts_and_times_are_written_one_way() -> None:
    assert account_views.usd(Decimal("0.1")) == "0.100000"
    assert account_views.usd(Decimal("12.3456789")) == "12.345679"
    assert account_views.usd(None) == "0.000000"
    assert account_views.quantity(Decimal("1234.000000")) == "1234"
    assert account_views.quantity(Decimal("61.250")) == "61.25"
    assert account_views.minutes(Decimal("89")) == 1.5
    at = datetime(2025, 5, 1, 12, 0, 1, 123456, tzinfo=UTC)
    assert account_views.when(at) == "2025-05-01T12:00:01.123Z"


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        body: bytes = answer.read()
        return body


# --- one meeting through the whole chain ------------------------------------------
def signed_in(
    dev_issuer: DevIssuer, method: str, path: str, email: str
) -> tuple[int, Any, dict[str, str]]:
    """A request with a real RS256 token, checked as the JWT authorizer checks it."""
    event = signed_in_event(dev_issuer, method, path, sub=f"user-{email}", email=email)
    out = load_function("account_api").lambda_handler(event, events.LambdaContext("AccountApi"))
    return int(out["statusCode"]), json.loads(out["body"]), dict(out.get("headers") or {})


@pytest.fixture
def emailed(chain: Chain) -> dict[str, Any]:
    """The Spanish sample transcribed, written up and emailed to its recipient."""
    chain.run_all(chain.drop(SPANISH))
    meeting = chain.meeting()
    assert meeting["status"] == "emailed", meeting
    return meeting


def test_a_meeting_with_its_acta_timeline_costs_and_working_download_links(
    chain: Chain, emailed: dict[str, Any], dev_issuer: DevIssuer
) -> None:
    mid = emailed["id"]
    status, got, _ = signed_in(dev_issuer, "GET", f"/meetings/{mid}", RECIPIENT)
    assert status == 200, got

    meeting = got["meeting"]
    assert meeting["id"] == str(mid)
    assert meeting["status"] == "emailed"
    assert meeting["filename"] == "reunión.mp3"
    assert meeting["language"] == emailed["language"]
    assert meeting["error"] is None
    stored = chain.conn.execute("SELECT content FROM actas WHERE meeting_id = %s", (mid,))
    assert got["acta"] == (stored.fetchone() or {})["content"]
    assert meeting["title"] == got["acta"]["title"]

    steps = [(step["status"], step["event"]) for step in got["timeline"]]
    assert steps[0][0] == "received"
    assert steps[-1][0] == "emailed"
    assert all(step["at"].endswith("Z") for step in got["timeline"])

    costs = got["costs"]
    parts = [Decimal(costs[k]) for k in ("transcription_usd", "generation_usd", "email_usd")]
    # The emulated model is priced at nothing; AssemblyAI and SES are not.
    assert parts[0] > 0 and parts[2] > 0, costs
    assert sum(parts) == Decimal(costs["total_usd"]) == emailed["total_cost_usd"]
    assert sum(Decimal(line["cost_usd"]) for line in costs["lines"]) == Decimal(costs["total_usd"])
    assert {line["provider"] for line in costs["lines"]} == {"assemblyai", "openai", "ses"}

    links = got["downloads"]
    assert fetch(links["audio"]["url"]) == SPANISH.read_bytes()
    for kind, key in (("docx", "docx_s3_key"), ("transcript", "transcript_s3_key")):
        stored_object = chain.aws.s3.get_object(Bucket=chain.aws.bucket, Key=emailed[key])
        assert fetch(links[kind]["url"]) == stored_object["Body"].read(), kind
    expires = datetime.fromisoformat(links["docx"]["expires_at"])
    assert timedelta(0) < expires - datetime.now(UTC) <= timedelta(seconds=300)

    # The other person: not found, and nothing of it in their lists.
    status, other, _ = signed_in(dev_issuer, "GET", f"/meetings/{mid}", BRUNO)
    assert status == 404, other
    assert signed_in(dev_issuer, "GET", "/meetings", BRUNO)[1]["meetings"] == []


def test_no_audio_link_once_its_retention_has_passed(
    chain: Chain, emailed: dict[str, Any], dev_issuer: DevIssuer
) -> None:
    chain.conn.execute(
        "UPDATE meetings SET received_at = now() - interval '31 days' WHERE id = %s",
        (emailed["id"],),
    )
    status, got, _ = signed_in(dev_issuer, "GET", f"/meetings/{emailed['id']}", RECIPIENT)
    assert status == 200, got
    assert got["downloads"]["audio"] is None
    assert got["downloads"]["docx"] is not None


def test_resend_queues_the_acta_to_the_callers_address_and_is_limited(
    chain: Chain, emailed: dict[str, Any], dev_issuer: DevIssuer
) -> None:
    path = f"/meetings/{emailed['id']}/resend"
    status, got, _ = signed_in(dev_issuer, "POST", path, RECIPIENT)
    assert status == 202, got
    assert got["status"] == "queued"
    row = chain.conn.execute(
        "SELECT kind, recipient, status FROM email_deliveries WHERE id = %s",
        (got["delivery_id"],),
    ).fetchone()
    assert row == {"kind": "resend", "recipient": RECIPIENT, "status": "pending"}
    for _ in range(2):
        assert signed_in(dev_issuer, "POST", path, RECIPIENT)[0] == 202
    status, limited, headers = signed_in(dev_issuer, "POST", path, RECIPIENT)
    assert status == 429
    assert limited["error"]["code"] == "resend_limit"
    assert int(headers["Retry-After"]) == limited["error"]["retry_after_s"] > 0


def test_resend_before_the_acta_was_emailed_is_a_409(
    db_url: str, conn: psycopg.Connection[Any]
) -> None:
    mid = add_meeting(conn, ANA, received_at=NOW, status="failed")
    status, body, _ = call("POST", f"/meetings/{mid}/resend")
    assert status == 409
    assert body["error"]["code"] == "not_ready"


def test_deleting_a_meeting_erases_it_from_the_history_and_again_is_a_no_op(
    chain: Chain, emailed: dict[str, Any], dev_issuer: DevIssuer
) -> None:
    mid = emailed["id"]
    assert signed_in(dev_issuer, "DELETE", f"/meetings/{mid}", BRUNO)[0] == 404
    status, got, _ = signed_in(dev_issuer, "DELETE", f"/meetings/{mid}", RECIPIENT)
    assert status == 200, got
    assert got == {"erased": True, "pending": []}
    assert signed_in(dev_issuer, "GET", f"/meetings/{mid}", RECIPIENT)[0] == 404
    assert signed_in(dev_issuer, "GET", "/meetings", RECIPIENT)[1]["meetings"] == []
    totals = signed_in(dev_issuer, "GET", "/me", RECIPIENT)[1]["totals"]
    assert totals["meetings"] == totals["actas"] == 0
    assert signed_in(dev_issuer, "DELETE", f"/meetings/{mid}", RECIPIENT)[:2] == (200, got)


def test_deleting_the_account_erases_every_meeting_and_only_the_callers(
    two_people: dict[str, list[UUID]], conn: psycopg.Connection[Any]
) -> None:
    got = ok("DELETE", "/me")
    assert got["erased"] is True
    assert got["meetings"] == 3
    assert conn.execute("SELECT count(*) AS n FROM users WHERE email = %s", (ANA,)).fetchone() == {
        "n": 0
    }
    # Signing in again starts an empty account; Bruno's is untouched.
    assert ok("GET", "/me")["totals"]["meetings"] == 0
    assert ok("GET", "/me", BRUNO)["totals"]["meetings"] == 1


@pytest.mark.parametrize(
    ("name", "status", "says"),
    [
        ("api-get-me.json", 200, "ana.mendez@example.com"),
        ("api-get-meetings.json", 200, '"meetings":[]'),
        ("api-get-meeting.json", 404, "No meeting of yours"),
        ("api-delete-meeting.json", 404, "No meeting of yours"),
        ("api-patch-client.json", 404, "No client of yours"),
    ],
)
def test_the_sample_events_reach_their_routes(
    db_url: str, load_event: Any, name: str, status: int, says: str
) -> None:
    out = load_function("account_api").lambda_handler(
        load_event(name), events.LambdaContext("AccountApi")
    )
    assert out["statusCode"] == status, out
    assert says in out["body"]
