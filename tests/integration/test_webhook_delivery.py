"""The AssemblyAI emulator delivers webhooks the way AssemblyAI does.

AssemblyAI docs, "Webhooks for pre-recorded audio": the receiver must answer a
2xx within 10 seconds; otherwise AssemblyAI retries, up to 10 attempts in all;
a 4xx ends the delivery. A loopback receiver answers what each test scripts;
the deadline and the pause between attempts are shortened so the suite stays
fast. The last tests put the real Webhook function behind the receiver.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from conftest import WEBHOOK_SECRET, WEBHOOK_URL, AwsEnv
from harness import SPANISH as SAMPLE
from harness import submit_recording
from voxlocal import events
from voxlocal.emulators.assemblyai_server import AssemblyAIEmulator, rewrite_origin
from voxlocal.emulators.assemblyai_webhook import WebhookAttempt
from voxlocal.functions import load_function

pytestmark = pytest.mark.integration

AUDIO = b"ID3 a short registered recording"
TRANSCRIPT = {"text": "Buenos dias.", "language_code": "es", "audio_duration": 2.0}
SECRET_HEADER = "X-Test-Secret"
DEADLINE_S = 0.5  # stands in for AssemblyAI's 10 s
RETRY_DELAY_S = 0.01


# --- a receiver whose answers the test scripts -------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int = 200
    delay_s: float = 0.0  # wait this long before answering
    location: str | None = None  # a Location header (for a 3xx)
    trickle_s: float = 0.0  # pause between the lines of the answer's head


@dataclass
class Received:
    path: str  # with the query string
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any]


@dataclass
class Receiver:
    """Answers the scripted statuses in order, then ``then`` for every later request."""

    script: list[Answer] = field(default_factory=list)
    then: Answer = field(default_factory=Answer)
    handler: Callable[[Received], int] | None = None  # answers instead of the script
    received: list[Received] = field(default_factory=list)
    on_receive: Callable[[Received], None] | None = None
    origin: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self, request: Received) -> Answer:
        with self._lock:
            self.received.append(request)
            scripted = self.script.pop(0) if self.script else self.then
        if self.on_receive is not None:
            self.on_receive(request)
        if self.handler is not None:
            return Answer(self.handler(request))
        return scripted


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            request = Received(
                self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw)
            )
            answer = state.next_answer(request)
            time.sleep(answer.delay_s)
            head = [f"HTTP/1.1 {answer.status} Scripted\r\n", "Content-Length: 0\r\n"]
            if answer.location is not None:
                head.append(f"Location: {answer.location}\r\n")
            head += ["Connection: close\r\n", "\r\n"]
            self.close_connection = True
            try:
                for number, line in enumerate(head):
                    if number:
                        time.sleep(answer.trickle_s)
                    self.wfile.write(line.encode("latin-1"))
                    self.wfile.flush()
            except OSError:  # the emulator gave up waiting
                pass

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.origin = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def emulator(**options: Any) -> AssemblyAIEmulator:
    settings: dict[str, Any] = {
        "deliver_webhooks": True,
        "webhook_deadline_s": DEADLINE_S,
        "webhook_retry_delay_s": RETRY_DELAY_S,
    }
    settings.update(options)
    return AssemblyAIEmulator(**settings)


def submit(emu: AssemblyAIEmulator, webhook_url: str, audio: bytes = AUDIO) -> str:
    """Upload ``audio`` to the emulator and submit it with a webhook; return the id."""
    headers = {"authorization": emu.api_key}
    upload_url = httpx.post(f"{emu.base_url}/v2/upload", content=audio, headers=headers).json()[
        "upload_url"
    ]
    response = httpx.post(
        f"{emu.base_url}/v2/transcript",
        headers=headers,
        json={
            "audio_url": upload_url,
            "speech_models": ["universal-3-5-pro", "universal-2"],
            "language_code": "es",
            "webhook_url": webhook_url,
            "webhook_auth_header_name": SECRET_HEADER,
            "webhook_auth_header_value": "s3cr3t",
        },
    )
    assert response.status_code == 200, response.text
    transcript_id: str = response.json()["id"]
    return transcript_id


def statuses(emu: AssemblyAIEmulator, transcript_id: str) -> list[int | None]:
    return [a.status_code for a in emu.wait_webhook_delivery(transcript_id)]


# --- delivery rules -----------------------------------------------------------------------


def test_a_2xx_is_delivered_once_with_the_body_and_the_secret_header(receiver: Receiver) -> None:
    with emulator() as emu:
        emu.register_audio(AUDIO, TRANSCRIPT)
        transcript_id = submit(emu, f"{receiver.origin}/hook")

        attempts = emu.wait_webhook_delivery(transcript_id)

    assert [(a.number, a.status_code, a.succeeded) for a in attempts] == [(1, 200, True)]
    [request] = receiver.received
    assert request.body == {"transcript_id": transcript_id, "status": "completed"}
    assert request.headers["x-test-secret"] == "s3cr3t"
    assert request.headers["content-type"] == "application/json"
    assert emu.transcript(transcript_id)["webhook_status_code"] == 200


def test_a_failed_transcript_is_announced_too(receiver: Receiver) -> None:
    with emulator() as emu:
        transcript_id = submit(emu, f"{receiver.origin}/hook", audio=b"not registered")

        assert statuses(emu, transcript_id) == [200]

    assert receiver.received[0].body == {"transcript_id": transcript_id, "status": "error"}


def test_a_5xx_is_retried_until_a_2xx(receiver: Receiver) -> None:
    receiver.script = [Answer(503), Answer(500)]
    with emulator() as emu:
        emu.register_audio(AUDIO, TRANSCRIPT)
        transcript_id = submit(emu, f"{receiver.origin}/hook")

        assert statuses(emu, transcript_id) == [503, 500, 200]

    assert len(receiver.received) == 3
    assert {r.body["transcript_id"] for r in receiver.received} == {transcript_id}


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_a_4xx_ends_the_delivery(receiver: Receiver, status: int) -> None:
    receiver.script = [Answer(status)]
    with emulator() as emu:
        emu.register_audio(AUDIO, TRANSCRIPT)
        transcript_id = submit(emu, f"{receiver.origin}/hook")

        assert statuses(emu, transcript_id) == [status]
        assert emu.transcript(transcript_id)["webhook_status_code"] == status

    assert len(receiver.received) == 1


def test_no_answer_within_the_deadline_is_retried(receiver: Receiver) -> None:
    receiver.script = [Answer(200, delay_s=DEADLINE_S * 3)]  # a 200, but too late
    with emulator() as emu:
        emu.register_audio(AUDIO, TRANSCRIPT)
        transcript_id = submit(emu, f"{receiver.origin}/hook")

        first, second = emu.wait_webhook_delivery(transcript_id)

    assert first.status_code is None and first.error is not None
    assert "no answer within" in first.error
    assert (second.number, second.status_code) == (2, 200)


def test_an_answer_completed_after_the_deadline_counts_as_none(receiver: Receiver) -> None:
    # Given a 200 whose head trickles in over four lines: every pause is shorter
    # than the deadline, the whole answer takes longer (three pauses), which a
    # per-read socket timeout alone would accept
    receiver.script = [Answer(200, trickle_s=DEADLINE_S * 0.45)]
    with emulator() as emu:
        emu.register_audio(AUDIO, TRANSCRIPT)
        transcript_id = submit(emu, f"{receiver.origin}/hook")

        first, second = emu.wait_webhook_delivery(transcript_id)

    assert (first.status_code, first.succeeded) == (None, False)
    assert first.error == f"no answer within {DEADLINE_S} s"
    assert (second.number, second.status_code) == (2, 200)
    assert len(receiver.received) == 2


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_but_retried(receiver: Receiver, status: int) -> None:
    receiver.script = [Answer(status, location=f"{receiver.origin}/elsewhere")]
    with emulator() as emu:
        emu.register_audio(AUDIO, TRANSCRIPT)
        transcript_id = submit(emu, f"{receiver.origin}/hook")

        first, second = emu.wait_webhook_delivery(transcript_id)

    assert (first.status_code, first.succeeded, first.error) == (status, False, None)
    assert (second.number, second.status_code) == (2, 200)
    assert [r.path for r in receiver.received] == ["/hook", "/hook"]  # never /elsewhere


def test_at_most_ten_attempts_in_all(receiver: Receiver) -> None:
    receiver.then = Answer(500)
    with emulator() as emu:  # AssemblyAI's attempt count, not a shortened one
        emu.register_audio(AUDIO, TRANSCRIPT)
        transcript_id = submit(emu, f"{receiver.origin}/hook")

        attempts = emu.wait_webhook_delivery(transcript_id)

    assert [a.number for a in attempts] == list(range(1, 11))
    assert {a.status_code for a in attempts} == {500}
    assert len(receiver.received) == 10


def test_an_unreachable_receiver_is_retried_then_given_up(receiver: Receiver) -> None:
    closed = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens there any more
    with emulator(webhook_max_attempts=3) as emu:
        emu.register_audio(AUDIO, TRANSCRIPT)
        transcript_id = submit(emu, f"http://127.0.0.1:{port}/hook")

        attempts = emu.wait_webhook_delivery(transcript_id)

    assert [a.status_code for a in attempts] == [None, None, None]
    assert all(a.error and a.error.startswith("connection failed") for a in attempts)


def test_a_public_webhook_url_is_rewritten_to_the_receiver(receiver: Receiver) -> None:
    with emulator(webhook_url_rewrite=rewrite_origin(receiver.origin)) as emu:
        emu.register_audio(AUDIO, TRANSCRIPT)
        transcript_id = submit(emu, "https://api.example/webhooks/assemblyai?meeting_id=m-1")

        [attempt] = emu.wait_webhook_delivery(transcript_id)
        # what AssemblyAI would be told is still the public URL
        assert emu.webhook_request(transcript_id)[0].startswith("https://api.example/")

    assert attempt.url == f"{receiver.origin}/webhooks/assemblyai?meeting_id=m-1"
    assert receiver.received[0].path == "/webhooks/assemblyai?meeting_id=m-1"


def test_the_webhook_can_arrive_before_the_submitter_has_the_id(receiver: Receiver) -> None:
    answered = threading.Event()
    seen_before_answer: list[bool] = []
    receiver.on_receive = lambda _request: seen_before_answer.append(not answered.is_set())
    with emulator(webhook_before_response=True) as emu:
        emu.register_audio(AUDIO, TRANSCRIPT)
        transcript_id = submit(emu, f"{receiver.origin}/hook")
        answered.set()

        assert statuses(emu, transcript_id) == [200]

    assert seen_before_answer == [True]


def test_without_deliver_webhooks_nothing_is_sent(receiver: Receiver) -> None:
    with AssemblyAIEmulator() as emu:
        emu.register_audio(AUDIO, TRANSCRIPT)
        transcript_id = submit(emu, f"{receiver.origin}/hook")
        emu.wait(transcript_id)

        with pytest.raises(LookupError, match="deliver_webhooks"):
            emu.wait_webhook_delivery(transcript_id)
        assert emu.webhook_attempts(transcript_id) == []
        # ...and the test still delivers it by hand, once, recorded like any attempt
        assert emu.deliver_webhook(transcript_id) == 200
        [attempt] = emu.webhook_attempts(transcript_id)
        assert (attempt.number, attempt.status_code) == (1, 200)

    assert len(receiver.received) == 1


def test_a_hand_delivery_follows_the_same_rules(receiver: Receiver) -> None:
    closed = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens there any more
    receiver.script = [Answer(302, location=f"{receiver.origin}/elsewhere")]
    with AssemblyAIEmulator(webhook_deadline_s=DEADLINE_S) as emu:
        emu.register_audio(AUDIO, TRANSCRIPT)
        redirected = submit(emu, f"{receiver.origin}/hook")
        unreachable = submit(emu, f"http://127.0.0.1:{port}/hook")

        # When the test delivers each by hand
        assert emu.deliver_webhook(redirected) == 302
        assert emu.deliver_webhook(unreachable) is None

        # Then each is one recorded attempt: the redirect not followed, the refused
        # connection an attempt without a status rather than an exception
        [moved] = emu.webhook_attempts(redirected)
        [failed] = emu.webhook_attempts(unreachable)
    assert (moved.status_code, moved.succeeded) == (302, False)
    assert [r.path for r in receiver.received] == ["/hook"]
    assert failed.status_code is None
    assert failed.error is not None and failed.error.startswith("connection failed")


def test_options_that_cannot_work_are_refused() -> None:
    with pytest.raises(ValueError, match="deliver_webhooks"):
        AssemblyAIEmulator(webhook_before_response=True)
    with pytest.raises(ValueError, match="at least 1"):
        AssemblyAIEmulator(deliver_webhooks=True, webhook_max_attempts=0)


# --- end to end: the real Webhook function behind the receiver ------------------------------


def webhook_function(request: Received) -> int:
    """Hand the delivery to functions/webhook/app.py as API Gateway (HTTP API) would."""
    # http_api takes the query from the path, as API Gateway does.
    event = events.http_api(
        "POST", request.path, headers=request.headers, body=json.dumps(request.body)
    )
    out = load_function("webhook").lambda_handler(event, events.LambdaContext("Webhook"))
    return int(out["statusCode"])


@pytest.fixture
def pipeline(
    db_url: str,
    aws: AwsEnv,
    assemblyai: AssemblyAIEmulator,
    receiver: Receiver,
    configure: Callable[..., None],
) -> Callable[..., AssemblyAIEmulator]:
    """An emulator that delivers to the Webhook function, with the settings pointing at it."""
    receiver.handler = webhook_function

    def start(**options: Any) -> AssemblyAIEmulator:
        # AssemblyAI's own 10 s for the real function behind the receiver: a short
        # stand-in deadline would make a slow machine's first call a "timeout".
        emu = emulator(
            api_key=assemblyai.api_key,
            webhook_url_rewrite=rewrite_origin(receiver.origin),
            **{"webhook_deadline_s": 10.0, **options},
        )
        emu.start()
        configure(ASSEMBLYAI_BASE_URL=emu.base_url)
        return emu

    return start


def drop(aws: AwsEnv, emu: AssemblyAIEmulator, name: str = "reunion.mp3") -> None:
    """Put the sample in inbox/<recipient>/ and run the Submit function on its S3 event."""
    submit_recording(aws, emu, SAMPLE, name=name)


def deliver(
    emu: AssemblyAIEmulator, aws: AwsEnv, conn: psycopg.Connection[Any]
) -> list[WebhookAttempt]:
    """Submit the sample to ``emu`` and wait for its webhook delivery to end; returns
    the delivery attempts. Stops the emulator."""
    with emu:
        drop(aws, emu)
        transcript_id = str(only_meeting(conn)["assemblyai_transcript_id"])
        return emu.wait_webhook_delivery(transcript_id)


def only_meeting(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    [row] = conn.execute("SELECT * FROM meetings").fetchall()
    return dict(row)


def test_the_webhook_function_queues_the_acta(
    pipeline: Callable[..., AssemblyAIEmulator],
    aws: AwsEnv,
    receiver: Receiver,
    conn: psycopg.Connection[Any],
) -> None:
    # When Submit sends the sample and the emulator delivers the webhook itself
    attempts = deliver(pipeline(), aws, conn)

    # Then the Webhook function took it at the first attempt and queued the acta
    assert [a.status_code for a in attempts] == [200]
    assert receiver.received[0].headers["x-voxcliente-webhook-secret"] == WEBHOOK_SECRET
    assert urlsplit(attempts[0].url).path == urlsplit(WEBHOOK_URL).path
    assert only_meeting(conn)["status"] == "transcribed"
    assert [m["meeting_id"] for m in aws.queue_messages()] == [str(only_meeting(conn)["id"])]


def test_a_webhook_before_submit_committed_is_not_lost(
    pipeline: Callable[..., AssemblyAIEmulator],
    aws: AwsEnv,
    receiver: Receiver,
    conn: psycopg.Connection[Any],
) -> None:
    # Given AssemblyAI finishing and calling back before Submit has stored the id
    attempts = deliver(pipeline(webhook_before_response=True, webhook_retry_delay_s=0.2), aws, conn)

    # Then the first answer was not a 4xx (that would end AssemblyAI's retries)...
    assert attempts[0].status_code is not None and not 400 <= attempts[0].status_code < 500
    # ...and the delivery ended in a 2xx with the acta queued
    assert attempts[-1].succeeded, [(a.status_code, a.error) for a in attempts]
    assert only_meeting(conn)["status"] == "transcribed"
    assert len(aws.queue_messages()) == 1
