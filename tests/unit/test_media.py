"""Media sniffing: real first bytes of every accepted format pass, look-alikes do not."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from voxcliente.domain import media

TINY_MP3 = (Path(__file__).resolve().parents[1] / "fixtures" / "tiny.mp3").read_bytes()


def box(kind: bytes, payload: bytes) -> bytes:
    """An ISO BMFF box (MP4, M4A, MOV)."""
    return struct.pack(">I", 8 + len(payload)) + kind + payload


# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: 417-byte frames.
MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 413
# ADTS AAC-LC, 44.1 kHz, stereo, frame_length 16 (7-byte header + 9 bytes).
ADTS_FRAME = b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 9
TS_PACKET = b"\x47\x40\x00\x10" + b"\xff" * 184

ACCEPTED = {
    "mp3 (ID3v2.4 tag)": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + MP3_FRAME * 2, "mp3"),
    "mp3 (raw frames)": (MP3_FRAME * 3, "mp3"),
    "wav": (
        b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"
        b"\x44\xac\x00\x00\x88\x58\x01\x00\x02\x00\x10\x00data\x00\x08\x00\x00" + b"\x00" * 64,
        "wav",
    ),
    "m4a": (box(b"ftyp", b"M4A \x00\x00\x02\x00M4A isomiso2") + box(b"free", b""), "mp4"),
    "mp4": (box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41") + b"\x00" * 32, "mp4"),
    "mov": (box(b"ftyp", b"qt  \x00\x00\x02\x00qt  ") + box(b"wide", b""), "mp4"),
    "aac (ADTS)": (ADTS_FRAME * 4, "aac"),
    "ogg opus": (
        b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x02\x03\x04" + b"\x00" * 8 + b"\x01\x13"
        b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00",
        "ogg",
    ),
    "ogg vorbis": (
        b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x02\x03\x04" + b"\x00" * 8 + b"\x01\x1e"
        b"\x01vorbis" + b"\x00" * 23,
        "ogg",
    ),
    "webm": (
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81"
        b"\x08\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02",
        "webm",
    ),
    "mkv": (
        b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81"
        b"\x08\x42\x82\x88matroska\x42\x87\x81\x04\x42\x85\x81\x02",
        "webm",
    ),
    "flac": (b"fLaC\x00\x00\x00\x22\x10\x00\x10\x00" + b"\x00" * 30, "flac"),
    "amr": (b"#!AMR\n\x3c" + b"\x00" * 31, "amr"),
    "aiff": (b"FORM\x00\x00\x10\x00AIFFCOMM\x00\x00\x00\x12" + b"\x00" * 18, "aiff"),
    "aifc": (b"FORM\x00\x00\x10\x00AIFCFVER\x00\x00\x00\x04" + b"\x00" * 18, "aiff"),
    "wma (ASF)": (bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + b"\x00" * 40, "asf"),
    "mpeg-ts": (TS_PACKET * 3, "mpeg-ts"),
    "m2ts (timecoded packets)": ((b"\x00\x00\x00\x00" + TS_PACKET) * 3, "mpeg-ts"),
}

REFUSED = {
    "text starting with G": b"Good morning, notes of the meeting\n",
    "text whose 188-byte lines start with G": (b"G" + b"x" * 186 + b"\n") * 3,
    "UTF-16 LE text (FF FE)": "Notas de la reunión del lunes\n".encode("utf-16"),
    "UTF-16 LE text whose first char makes a plausible frame header": "a reunión\n".encode(
        "utf-16"
    ),
    "UTF-16 BE text (FE FF)": b"\xfe\xff" + "Notas\n".encode("utf-16-be"),
    "one MPEG frame header then text": b"\xff\xfb\x90\x64" + b"Notas de la reunion. " * 40,
    "plain text": b"Notas de la reunion en texto\n" * 20,
    "pdf": b"%PDF-1.7\n" + b"\x00" * 40,
    "png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
    "zip / docx": b"PK\x03\x04" + b"\x00" * 40,
    "ID3 then garbage size": b"ID3\x04\x00\x00\xff\xff\xff\xff" + b"\x00" * 20,
    "too short": b"ID3",
    "empty": b"",
}


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_every_accepted_format_is_recognised_from_its_first_bytes(name: str) -> None:
    head, family = ACCEPTED[name]
    assert media.sniff(head) == family


@pytest.mark.parametrize("name", list(REFUSED))
def test_look_alikes_are_not_audio(name: str) -> None:
    assert media.sniff(REFUSED[name]) is None


def test_the_test_fixture_is_mp3() -> None:
    assert media.sniff(TINY_MP3[: media.SNIFF_BYTES]) == "mp3"


def test_every_readme_format_has_a_content_type_and_a_sniffed_family() -> None:
    # The README's list: mp3, wav, m4a/mp4, aac, ogg/opus, webm, flac, amr, aiff,
    # wma, mov, mkv, ts.
    for ext in (".mp3", ".wav", ".m4a", ".mp4", ".aac", ".ogg", ".opus", ".webm", ".flac"):
        assert ext in media.ALLOWED_EXTENSIONS
    for ext in (".amr", ".aiff", ".wma", ".mov", ".mkv", ".ts"):
        assert ext in media.ALLOWED_EXTENSIONS
    families = {family for _, family in ACCEPTED.values()}
    assert families >= {"mp3", "wav", "mp4", "aac", "ogg", "webm", "flac", "amr", "aiff"}
    assert families >= {"asf", "mpeg-ts"}
