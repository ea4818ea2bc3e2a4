"""The faster paths a long meeting takes read and write exactly what the slow ones did.

A 10-hour transcript is decoded with orjson, its email bodies are encoded by
binascii: what the decoder accepts and what a mail client decodes must not
depend on it.
"""

from __future__ import annotations

import email
import json
import math
from datetime import date
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from voxcliente.adapters import ses
from voxcliente.adapters.assemblyai import decode_json
from voxcliente.render import DOCX_MIME, TEXT_MIME, RenderedEmail


@pytest.mark.parametrize(
    "document",
    [
        b'{"id": "t1", "status": "completed", "confidence": 0.93, "words": [{"text": "hola"}]}',
        '{"text": "reunión, café y más", "audio_duration": 3600}'.encode(),
        b'{"text": "\\u00e9\\ud83d\\ude00", "n": -0.0, "big": 12345678901234567890}',
    ],
)
def test_orjson_reads_a_transcript_as_json_does(document: bytes) -> None:
    assert decode_json(document) == json.loads(document)


@pytest.mark.parametrize(
    "document",
    [
        b'{"confidence": NaN, "audio_duration": Infinity}',  # orjson refuses these literals
        b'{"text": "\\ud800 lone surrogate"}',  # and lone surrogate escapes
        b'{"big": 1e400}',  # and numbers beyond a double
        '{"text": "utf-16"}'.encode("utf-16"),  # and text that is not UTF-8
    ],
)
def test_what_orjson_refuses_json_still_reads(document: bytes) -> None:
    got, expected = decode_json(document), json.loads(document)
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert isinstance(got, dict)


def test_an_integer_beyond_64_bits_is_the_nearest_float() -> None:
    # The one value orjson reads differently (no transcript time comes near it).
    assert decode_json(b'{"end": 123456789012345678901234567890}') == {
        "end": float(123456789012345678901234567890)
    }
    assert decode_json(b'{"end": 18446744073709551615}') == {"end": 2**64 - 1}


def test_a_document_neither_reads_is_still_an_error() -> None:
    with pytest.raises(ValueError):
        decode_json(b'{"status": "completed",')


def test_nan_stays_nan() -> None:
    assert math.isnan(decode_json(b'{"confidence": NaN}')["confidence"])


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


def test_the_collector_is_held_off_while_a_transcript_is_read_and_restored() -> None:
    import gc

    from voxcliente.adapters.assemblyai import collector_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("a failed read")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()
