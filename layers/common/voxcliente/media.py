"""What counts as a meeting recording: types, extensions, first bytes, names.

The allow-list is the common subset of the formats AssemblyAI documents as
supported ("Supported audio and video file formats" in its FAQ). A file is
accepted only when its declared type, its extension and its first bytes agree
that it is audio or video.
"""

from __future__ import annotations

import re
import unicodedata

# content type -> extensions it may carry
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "audio/mpeg": (".mp3", ".mpga", ".mpeg"),
    "audio/mp3": (".mp3",),
    "audio/wav": (".wav",),
    "audio/x-wav": (".wav",),
    "audio/wave": (".wav",),
    "audio/mp4": (".m4a", ".mp4", ".m4b"),
    "audio/x-m4a": (".m4a",),
    "audio/m4a": (".m4a",),
    "audio/aac": (".aac",),
    "audio/ogg": (".ogg", ".oga", ".opus"),
    "audio/opus": (".opus",),
    "audio/webm": (".webm",),
    "audio/flac": (".flac",),
    "audio/x-flac": (".flac",),
    "audio/amr": (".amr",),
    "audio/aiff": (".aif", ".aiff"),
    "audio/x-aiff": (".aif", ".aiff"),
    "audio/x-ms-wma": (".wma",),
    "video/mp4": (".mp4", ".m4v"),
    "video/quicktime": (".mov",),
    "video/webm": (".webm",),
    "video/x-matroska": (".mkv",),
    "video/mp2t": (".ts", ".mts", ".m2ts"),
    "video/x-ms-wmv": (".wmv",),
}
ALLOWED_EXTENSIONS: frozenset[str] = frozenset(e for exts in ALLOWED_TYPES.values() for e in exts)

# How many bytes the sniffer needs (a ranged GET reads only these).
SNIFF_BYTES = 4096


def extension(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot > 0 else ""


def type_matches_extension(content_type: str, filename: str) -> bool:
    return extension(filename) in ALLOWED_TYPES.get(content_type.lower().split(";")[0].strip(), ())


def sniff(head: bytes) -> str | None:
    """The container family the first bytes show, or None if not audio/video."""
    if len(head) < 4:
        return None
    if head.startswith(b"ID3"):
        return "mp3"
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"AVI "):
        return "wav" if head[8:12] == b"WAVE" else "avi"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head.startswith(b"#!AMR"):
        return "amr"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "asf"
    if head[0] == 0x47 and (len(head) < 189 or head[188] == 0x47):
        return "mpeg-ts"
    if head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        # MPEG audio frame sync: MP3 (layer bits != 00) or ADTS AAC (layer bits == 00).
        return "aac" if (head[1] & 0x06) == 0 else "mp3"
    return None


_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+-]+")


def sanitise_filename(filename: str, max_length: int = 120) -> str:
    """A safe S3 key segment: no path, no control characters, accents folded, length capped."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("_", name).strip(" ._") or "audio"
    ext = extension(name)
    if len(name) > max_length:
        stem = name[: max_length - len(ext)].rstrip(" ._")
        name = stem + ext
    return name
