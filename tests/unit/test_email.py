"""The raw MIME message and the SES v2 send: structure, safety, error mapping."""

from __future__ import annotations

import email
import email.policy
from datetime import date
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from voxcliente.acta.model import Acta
from voxcliente.adapters import aws
from voxcliente.adapters.ses import (
    MAX_SUBJECT_CHARS,
    SES_MAX_MESSAGE_BYTES,
    build_mime,
    send_raw_email,
)
from voxcliente.domain.errors import ProviderError, TransientError
from voxcliente.domain.models import Utterance
from voxcliente.render import (
    DOCX_MIME,
    MeetingFacts,
    RenderedEmail,
    render_acta_email,
    render_failure_email,
)

SENDER = "VoxCliente <actas@voxcliente.example>"
RECIPIENT = "lucia@example.com"
SCRIPT = "<script>alert(1)</script>"
INJECTION = "send this to someone@else.com\r\nBcc: x@y.z"


def acta(**overrides: Any) -> Acta:
    data: dict[str, Any] = {
        "language": "es",
        "title": "Revisión de campaña",
        "meeting_date": None,
        "start_time": None,
        "end_time": None,
        "modality": None,
        "place": None,
        "client": "Textiles Andinos",
        "summary": "Se revisó la campaña de otoño.",
        "participants": [
            {"speaker_label": "A", "name": "Ana Pérez", "role": None, "organization": None}
        ],
        "topics": [{"title": "Campaña de otoño", "summary": "Se revisaron los resultados."}],
        "decisions": ["Se acuerda ampliar la campaña."],
        "action_items": [{"task": "Enviar el informe.", "owner": "Ana Pérez", "due_date": None}],
        "open_questions": [],
        "next_meeting": None,
    }
    data.update(overrides)
    return Acta.model_validate(data)


FACTS = MeetingFacts(
    meeting_id="7b1e0c52-0000-4000-8000-000000000001",
    original_filename="Reunión campaña.m4a",
    client_name="Textiles Andinos",
    meeting_date=date(2027, 3, 3),
    audio_duration_s=1800.0,
    recipient=RECIPIENT,
)
UTTERANCES = [Utterance(speaker="A", start_ms=83_000, end_ms=85_000, text="Buenos días.")]


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def lf(text: str) -> str:
    """Decoded MIME text keeps the wire's CRLF line endings."""
    return text.replace("\r\n", "\n")


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


# --------------------------------------------------------------------------- MIME structure


def test_mime_structure_alternatives_and_attachments() -> None:
    rendered = render_acta_email(acta(), FACTS, UTTERANCES)

    raw = build_mime(rendered, sender=SENDER, recipient=RECIPIENT, reply_to="soporte@example.com")
    message = parse(raw)

    # Then: multipart/mixed( multipart/alternative(text/plain, text/html), .docx, .txt )
    assert message.get_content_type() == "multipart/mixed"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "multipart/alternative",
        DOCX_MIME,
        "text/plain",
    ]
    alternative = [p for p in parts[0].iter_parts() if isinstance(p, EmailMessage)]
    assert [p.get_content_type() for p in alternative] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in alternative)
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert lf(plain.get_content()) == rendered.text
    assert lf(html.get_content()) == rendered.html

    attachments = {p.get_filename(): p for p in message.iter_attachments()}
    assert set(attachments) == {
        "acta-2027-03-03-revisión-de-campaña.docx",
        "transcripcion-2027-03-03-revisión-de-campaña.txt",
    }
    docx_part = attachments["acta-2027-03-03-revisión-de-campaña.docx"]
    assert docx_part.get_content() == rendered.attachments[0][2]
    txt_part = attachments["transcripcion-2027-03-03-revisión-de-campaña.txt"]
    assert txt_part.get_content_charset() == "utf-8"
    assert lf(txt_part.get_content()) == rendered.attachments[1][2].decode("utf-8")

    assert message["Subject"] == rendered.subject
    assert message["From"] == SENDER
    assert message["To"] == RECIPIENT
    assert message["Reply-To"] == "soporte@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@voxcliente.example>")


def test_raw_message_is_7bit_with_short_lines_and_encoded_headers() -> None:
    # Given: accents everywhere and one very long paragraph
    rendered = render_acta_email(acta(summary="Año señal " * 400), FACTS, UTTERANCES)

    raw = build_mime(
        rendered,
        sender="Señal Actas <actas@voxcliente.example>",
        recipient=RECIPIENT,
        reply_to=None,
    )

    raw.decode("ascii")  # raises if anything is not 7-bit
    # SES v2 RawMessage: no line longer than 1,000 characters (RFC 5321).
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    headers = header_block(raw)
    assert b"=?utf-8?" in headers  # RFC 2047 subject / display name
    assert b"filename*=utf-8''" in raw  # RFC 2231 file names
    message = parse(raw)
    assert message["From"] == "Señal Actas <actas@voxcliente.example>"
    assert message["Reply-To"] is None


def test_failure_notice_builds_without_attachments() -> None:
    rendered = render_failure_email("no_speech", "Sin habla.", FACTS)

    message = parse(build_mime(rendered, sender=SENDER, recipient=RECIPIENT, reply_to=None))

    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "No se encontró habla en la grabación: Reunión campaña.m4a"
    assert list(message.iter_attachments()) == []


def test_message_id_domain_can_be_given() -> None:
    rendered = RenderedEmail(subject="Hola", html="<p>Hola</p>", text="Hola")

    message = parse(
        build_mime(
            rendered,
            sender=SENDER,
            recipient=RECIPIENT,
            reply_to=None,
            message_id_domain="mail.voxcliente.example",
        )
    )

    assert message["Message-ID"].endswith("@mail.voxcliente.example>")


# --------------------------------------------------------------------------- header safety


def test_model_text_cannot_inject_headers_or_script() -> None:
    # Given: an acta and a transcript written to attack the message
    hostile = acta(
        title=f"{SCRIPT} {INJECTION}",
        summary=INJECTION,
        decisions=[SCRIPT, INJECTION],
        action_items=[{"task": SCRIPT, "owner": INJECTION, "due_date": None}],
    )
    utterances = [Utterance(speaker="A", start_ms=0, end_ms=1, text=f"{SCRIPT} {INJECTION}")]
    rendered = render_acta_email(hostile, FACTS, utterances)

    # When
    raw = build_mime(rendered, sender=SENDER, recipient=RECIPIENT, reply_to=None)
    message = parse(raw)

    # Then: one To, the given recipient; no Cc/Bcc; a single-line subject
    assert message.get_all("To") == [RECIPIENT]
    assert message.get_all("Cc") is None
    assert message.get_all("Bcc") is None
    assert b"\nbcc:" not in header_block(raw).lower()
    assert b"\ncc:" not in header_block(raw).lower()
    subject = message["Subject"]
    assert "\r" not in subject and "\n" not in subject
    assert "Bcc: x@y.z" in subject  # kept as harmless text on the one line
    # The script is escaped text in the HTML
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    body = html.get_content()
    assert "<script" not in body.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    transcript = next(p for p in message.iter_attachments() if p.get_content_type() == "text/plain")
    assert "Bcc: x@y.z" in transcript.get_content()  # inside the attachment only


@pytest.mark.parametrize(
    "recipient",
    [
        "someone@else.com\r\nBcc: x@y.z",
        "someone@else.com\nBcc: x@y.z",
        "a@example.com, b@example.com",
        "a@example.com;b@example.com",
        "a@example.com b@example.com",
        "Ana <a@example.com>, b@example.com",
        "not-an-address",
        "",
    ],
)
def test_recipient_must_be_one_clean_address(recipient: str) -> None:
    rendered = RenderedEmail(subject="Hola", html="<p>Hola</p>", text="Hola")

    with pytest.raises(ValueError):
        build_mime(rendered, sender=SENDER, recipient=recipient, reply_to=None)


@pytest.mark.parametrize("field", ["sender", "reply_to"])
def test_sender_and_reply_to_are_validated_too(field: str) -> None:
    rendered = RenderedEmail(subject="Hola", html="<p>Hola</p>", text="Hola")
    kwargs: dict[str, Any] = {"sender": SENDER, "recipient": RECIPIENT, "reply_to": None}
    kwargs[field] = "actas@voxcliente.example\r\nBcc: x@y.z"

    with pytest.raises(ValueError, match=field):
        build_mime(rendered, **kwargs)


def test_subject_is_one_line_and_capped() -> None:
    rendered = RenderedEmail(
        subject="Acta\r\n de\treunión\x00\u202e " + "x" * 500, html="<p>x</p>", text="x"
    )

    subject = parse(build_mime(rendered, sender=SENDER, recipient=RECIPIENT, reply_to=None))[
        "Subject"
    ]

    assert subject.startswith("Acta de reunión x")
    assert len(subject) == MAX_SUBJECT_CHARS
    assert subject.endswith("…")


# --------------------------------------------------------------------------- SES (moto)


@pytest.fixture
def moto_ses() -> Any:
    with mock_aws():
        aws.reset_clients()
        client = boto3.client("sesv2", region_name="us-east-1")
        client.create_email_identity(EmailIdentity="voxcliente.example")
        yield client
    aws.reset_clients()


def sent_messages() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def test_send_raw_email_through_moto(moto_ses: Any) -> None:
    rendered = render_acta_email(acta(), FACTS, UTTERANCES)
    raw = build_mime(rendered, sender=SENDER, recipient=RECIPIENT, reply_to=None)

    message_id = send_raw_email(
        raw, sender=SENDER, recipient=RECIPIENT, configuration_set=None, ses_client=moto_ses
    )

    assert message_id
    [stored] = sent_messages()
    assert stored.id == message_id
    assert stored.source == "actas@voxcliente.example"
    assert RECIPIENT in stored.destinations
    assert stored.raw_data.encode("ascii") == raw  # the bytes arrived unchanged


def test_client_is_created_lazily_when_none_is_given(moto_ses: Any) -> None:
    rendered = RenderedEmail(subject="Hola", html="<p>Hola</p>", text="Hola")
    raw = build_mime(
        rendered, sender=SENDER, recipient=RECIPIENT, reply_to="soporte@voxcliente.example"
    )

    message_id = send_raw_email(raw, sender=SENDER, recipient=RECIPIENT, configuration_set=None)

    [stored] = sent_messages()
    assert stored.id == message_id
    assert "Reply-To: soporte@voxcliente.example" in stored.raw_data


def test_unverified_sender_is_a_provider_error(moto_ses: Any) -> None:
    raw = build_mime(
        RenderedEmail(subject="Hola", html="<p>Hola</p>", text="Hola"),
        sender="otro@unverified.example",
        recipient=RECIPIENT,
        reply_to=None,
    )

    with pytest.raises(ProviderError) as caught:
        send_raw_email(
            raw,
            sender="otro@unverified.example",
            recipient=RECIPIENT,
            configuration_set=None,
            ses_client=moto_ses,
        )

    # SES's own words (the strict double of the test session gives them)
    assert caught.value.code == "ses_rejected"
    assert "Email address is not verified" in caught.value.message
    assert "otro@unverified.example" in caught.value.message
    assert sent_messages() == []


# --------------------------------------------------------------------------- SES (Stubber)
# Which SES errors are transient and which final: tests/unit/test_ses_errors.py.


def stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("sesv2", region_name="us-east-1")
    return client, Stubber(client)


def test_request_shape_with_configuration_set() -> None:
    client, stubber = stubbed()
    raw = b"Subject: x\r\n\r\nbody\r\n"
    stubber.add_response(
        "send_email",
        {"MessageId": "0100-abc"},
        expected_params={
            "FromEmailAddress": "actas@voxcliente.example",
            "Destination": {"ToAddresses": [RECIPIENT]},
            "Content": {"Raw": {"Data": raw}},
            "ConfigurationSetName": "voxcliente-events",
        },
    )

    with stubber:
        message_id = send_raw_email(
            raw,
            sender=SENDER,
            recipient=RECIPIENT,
            configuration_set="voxcliente-events",
            ses_client=client,
        )

    assert message_id == "0100-abc"
    stubber.assert_no_pending_responses()


def test_unreachable_endpoint_is_transient() -> None:
    # Given: nothing listens on the discard port of the loopback interface
    client = boto3.client(
        "sesv2",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2),
    )

    with pytest.raises(TransientError) as caught:
        send_raw_email(
            b"x", sender=SENDER, recipient=RECIPIENT, configuration_set=None, ses_client=client
        )

    assert caught.value.code == "ses_unavailable"


def test_oversized_message_is_refused_before_calling_ses() -> None:
    client, stubber = stubbed()  # no responses queued: any call would fail the test

    with stubber, pytest.raises(ValueError, match="SES accepts at most"):
        send_raw_email(
            b"x" * (SES_MAX_MESSAGE_BYTES + 1),
            sender=SENDER,
            recipient=RECIPIENT,
            configuration_set=None,
            ses_client=client,
        )

    stubber.assert_no_pending_responses()


def test_send_refuses_a_second_recipient() -> None:
    client, stubber = stubbed()

    with stubber, pytest.raises(ValueError):
        send_raw_email(
            b"x",
            sender=SENDER,
            recipient="a@example.com, b@example.com",
            configuration_set=None,
            ses_client=client,
        )
