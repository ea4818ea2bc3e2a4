"""The faster paths a long meeting takes read and write exactly what the slow ones did.

A 10-hour transcript is read without its words, JSON columns go through orjson,
email bodies are encoded by binascii: what is read, stored and decoded by a mail
client must not depend on it.
"""

from __future__ import annotations

import email
import json
from datetime import date
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from voxcliente.adapters import ses
from voxcliente.adapters.assemblyai import parse_transcript
from voxcliente.adapters.assemblyai_json import read_transcript
from voxcliente.render import DOCX_MIME, TEXT_MIME, RenderedEmail


def _result(data: Any) -> tuple[Any, ...]:
    r = parse_transcript(data)
    return (
        r.transcript_id,
        r.status,
        r.error,
        r.text,
        [(u.speaker, u.start_ms, u.end_ms, u.text, u.confidence) for u in r.utterances],
        r.language_code,
        r.audio_duration_s,
        r.confidence,
        r.speech_model,
    )


def _completed(**changes: Any) -> bytes:
    word = {"text": "hola", "start": 0, "end": 400, "confidence": 0.9, "speaker": "A"}
    utterance = {
        "speaker": "A",
        "start": 0,
        "end": 1200,
        "text": "Hola, buenos días.",
        "confidence": 0.93,
        "words": [word],
    }
    answer: dict[str, Any] = {
        "id": "t-1",
        "status": "completed",
        "text": "Hola, buenos días.",
        "words": [word] * 3,
        "utterances": [utterance, {**utterance, "speaker": "B", "start": 1300}],
        "language_code": "es",
        "audio_duration": 12.5,
        "confidence": 0.91,
        "speech_model_used": "universal-2",
        "extra": {"nested": [1, {"x": None}]},
    }
    answer.update(changes)
    return json.dumps({k: v for k, v in answer.items() if v is not _ABSENT}).encode()


_ABSENT = object()


@pytest.mark.parametrize(
    "document",
    [
        _completed(),
        _completed(utterances=None, speech_model_used=_ABSENT, speech_model="best"),
        _completed(utterances=_ABSENT, text="  ", audio_duration=None),
        _completed(utterances=[], error="Audio too short", status="error"),
        _completed(id=123456789012345678901234567890, audio_duration=3600),
        _completed(utterances=[{"speaker": None, "text": "sin hablante"}]),
        _completed(text="reunión \u2028 café \U0001f600"),
        b"{}",
    ],
)
def test_a_transcript_reads_the_same_without_its_words(document: bytes) -> None:
    record = read_transcript(document)
    assert not isinstance(record, dict)  # msgspec's records, not the fallback
    assert _result(record) == _result(json.loads(document))


@pytest.mark.parametrize(
    "document",
    [
        b'{"id": "t", "confidence": NaN, "audio_duration": Infinity}',  # msgspec refuses these
        b'{"id": "t", "audio_duration": 1e400}',  # and numbers beyond a double
        b'{"id": "t", "text": "\\ud800 a lone surrogate"}',  # and lone surrogate escapes
        '{"id": "t", "text": "utf-16"}'.encode("utf-16"),  # and text that is not UTF-8
        b'{"id": "t", "utterances": {"not": "a list"}}',  # and what the records do not fit
    ],
)
def test_what_msgspec_will_not_read_json_still_reads_whole(document: bytes) -> None:
    record = read_transcript(document)
    assert isinstance(record, dict)
    assert json.dumps(record, sort_keys=True) == json.dumps(json.loads(document), sort_keys=True)


def test_an_utterance_that_is_no_object_fails_as_before() -> None:
    document = b'{"id": "t", "utterances": [null]}'
    with pytest.raises(AttributeError):
        parse_transcript(json.loads(document))
    with pytest.raises(AttributeError):
        parse_transcript(read_transcript(document))


@pytest.mark.parametrize("document", [b"[1, 2]", b'"text"', b"null"])
def test_an_answer_that_is_no_object_is_refused(document: bytes) -> None:
    with pytest.raises(TypeError):
        read_transcript(document)


def test_an_answer_that_is_no_json_is_refused() -> None:
    with pytest.raises(ValueError):
        read_transcript(b'{"status": "completed",')


# --- the email's text bodies ----------------------------------------------------------

TRICKY = (
    "Línea con acentos: café, reunión, ñandú; and = signs == a=b\n"
    "trailing spaces   \n"
    "tab\tinside and trailing tab\t\n"
    ".\n"
    "a very long line " + "palabra " * 60 + "\n"
    "===============1234567890== a boundary look-alike\n"
    "windows line\r\nold mac line\rlast line without newline"
)


def _rendered(text: str, html: str, transcript: str) -> RenderedEmail:
    return RenderedEmail(
        subject="Acta de reunión",
        html=html,
        text=text,
        attachments=[
            ("acta.docx", DOCX_MIME, b"PK\x03\x04 not really a docx \x00\xff"),
            ("transcripcion.txt", TEXT_MIME, transcript.encode("utf-8")),
        ],
    )


def _stdlib_message(rendered: RenderedEmail) -> bytes:
    """The message as the email package alone encodes it (the reference)."""
    smtp = policy.SMTP.clone(cte_type="7bit")
    message = EmailMessage(policy=smtp)
    message["Subject"] = rendered.subject

    def lf(text: str) -> str:
        return text.replace("\r\n", "\n").replace("\r", "\n")

    message.set_content(lf(rendered.text), subtype="plain", cte="quoted-printable")
    message.add_alternative(lf(rendered.html), subtype="html", cte="quoted-printable")
    for name, mime, data in rendered.attachments:
        if mime.startswith("text/"):
            message.add_attachment(
                lf(data.decode()), subtype="plain", cte="quoted-printable", filename=name
            )
        else:
            maintype, subtype = mime.split("/")
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes(policy=smtp)


def _decoded(raw: bytes) -> list[tuple[str, Any]]:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return [
        (part.get_content_type(), part.get_content())
        for part in message.walk()
        if not part.is_multipart()
    ]


@pytest.mark.parametrize("transcript", [TRICKY, "", "\n", "sin salto final", "x" * 5000])
def test_bodies_decode_to_what_the_email_package_would_have_sent(transcript: str) -> None:
    rendered = _rendered(TRICKY, f"<p>{TRICKY}</p>", transcript)
    raw = ses.build_mime(
        rendered, sender="VoxCliente <a@example.com>", recipient="b@example.com", reply_to=None
    )
    reference = _stdlib_message(rendered)
    assert _decoded(raw) == _decoded(reference)
    assert b"voxcliente-body-" not in raw  # every body put in its place
    # No line longer than the email package writes (a header it cannot fold, 85).
    assert max(map(len, raw.split(b"\r\n"))) <= max(map(len, reference.split(b"\r\n")))
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    raw.decode("ascii")  # 7-bit


def test_a_text_part_keeps_its_headers() -> None:
    raw = ses.build_mime(
        _rendered("hola", "<p>hola</p>", "línea"),
        sender="a@example.com",
        recipient="b@example.com",
        reply_to=None,
    )
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    texts = [p for p in message.walk() if p.get_content_maintype() == "text"]
    assert [p["Content-Transfer-Encoding"] for p in texts] == ["quoted-printable"] * 3
    assert all(p.get_content_charset() == "utf-8" for p in texts)
    assert texts[-1].get_filename() == "transcripcion.txt"
    assert texts[-1].get_content().splitlines() == ["línea"]


# --- JSON parameters and columns ------------------------------------------------------


class _Label(str):
    pass


@pytest.mark.parametrize(
    "value",
    [
        [{"speaker": "A", "start_ms": 0, "end_ms": 1200, "text": "Buenos días", "confidence": 0.9}],
        {"reason": "café ñandú \u2028 \U0001f600", "attempt": 3, "ok": True, "none": None},
        {1: "an int key", 2.5: "a float key", None: "a None key", False: "a bool key"},
        {"big": 2**70, "nested": [[1, 2], {"a": [1.5, -0.0, 1e-5, 1e16]}]},
        {"label": _Label("a str subclass")},
        [],
        "plain",
    ],
)
def test_json_parameters_hold_what_json_dumps_wrote(value: Any) -> None:
    from voxcliente.adapters.db import dump_json

    written = dump_json(value)
    assert json.loads(written) == json.loads(json.dumps(value))


@pytest.mark.parametrize("value", [{"when": date(2026, 3, 1)}, {"cost": Decimal("1.5")}])
def test_what_json_dumps_refused_is_still_refused(value: Any) -> None:
    from voxcliente.adapters.db import dump_json

    with pytest.raises(TypeError):
        dump_json(value)


def test_json_columns_read_as_json_loads_reads_them() -> None:
    from voxcliente.adapters.db import load_json

    for text in ('{"a": [1, 2.5, "é"]}', '{"c": NaN}', '"\\ud800"'):
        got, expected = load_json(text.encode()), json.loads(text)
        assert json.dumps(got) == json.dumps(expected)
    assert load_json(b"[1]") == [1]
