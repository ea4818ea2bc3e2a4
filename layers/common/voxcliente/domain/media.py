"""What counts as a meeting recording: types, extensions, first bytes, names.

The allow-list is the common subset of the formats AssemblyAI documents as
supported ("Supported audio and video file formats" in its FAQ). A web upload
is accepted only when its declared type and its extension agree; every file,
web or inbox, only when its first bytes show an audio or video container.
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
    """The container family the first bytes show, or None if not audio/video.

    Signatures come from ``puremagic`` (a maintained, pure-Python magic-number
    database); it is imported here, not at module level, because UploadApi
    imports this module for its allow-lists only. Three families need more than
    a signature, and are checked structurally instead:

    * MPEG transport streams have no signature, only the sync byte 0x47 at the
      start of every 188-byte packet (192 with M2TS's 4-byte timecode): one
      0x47 is a text file starting with ``G``, so every packet in the buffer
      must start with it, two at least.
    * Raw MP3 / ADTS AAC: an 11-bit frame sync (``FF E0``) is also the start of
      UTF-16 text (``FF FE``) and many binaries, so the header must be a real
      MPEG audio frame header (version, layer, bitrate and sample rate allowed)
      and the next frame must start where its length says.
    * ID3v2 (the tag before most MP3s): a version 2-4 header with a syncsafe size.
    """
    if len(head) < 4:
        return None
    if _transport_stream(head):
        return "mpeg-ts"
    if head[0] == 0xFF:
        return _mpeg_audio(head)
    if _id3v2(head):
        return "mp3"
    import puremagic

    matches = puremagic.magic_string(head)
    if not matches:
        return None
    best = max(m.confidence for m in matches)
    for match in matches:
        family = _FAMILY_BY_EXTENSION.get(match.extension.lower())
        if match.confidence == best and family is not None:
            return family
    return None


# puremagic's extension of a match -> our family (only the families we accept;
# raw MPEG audio and transport streams are not trusted to signatures, see sniff).
_FAMILY_BY_EXTENSION: dict[str, str] = {
    ".wav": "wav",
    ".avi": "avi",
    ".mp4": "mp4",
    ".m4a": "mp4",
    ".m4b": "mp4",
    ".m4v": "mp4",
    ".f4a": "mp4",
    ".3gp": "mp4",
    ".3g2": "mp4",
    ".mov": "mp4",
    ".qt": "mp4",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".ogv": "ogg",
    ".ogx": "ogg",
    ".opus": "ogg",
    ".webm": "webm",
    ".mkv": "webm",
    ".mka": "webm",
    ".flac": "flac",
    ".amr": "amr",
    ".aif": "aiff",
    ".aiff": "aiff",
    ".aifc": "aiff",
    ".wma": "asf",
    ".wmv": "asf",
    ".asf": "asf",
}

_TS_PACKET = 188


def _transport_stream(head: bytes) -> bool:
    """Every packet in the buffer starts with the sync byte (TS: 188 bytes; M2TS:
    a 4-byte timecode, then the 188-byte packet), two packets at least, and the
    first packet is binary (a text whose lines happen to start with G is not)."""
    for offset, stride in ((0, _TS_PACKET), (4, _TS_PACKET + 4)):
        starts = range(offset, len(head), stride)
        if len(starts) >= 2 and all(head[i] == 0x47 for i in starts):
            return not _printable(head[offset : offset + _TS_PACKET])
    return False


def _printable(data: bytes) -> bool:
    return all(32 <= b < 127 or b in b"\t\r\n" for b in data)


def _id3v2(head: bytes) -> bool:
    return (
        len(head) >= 10
        and head.startswith(b"ID3")
        and head[3] in (2, 3, 4)
        and head[4] != 0xFF
        and all(b < 0x80 for b in head[6:10])
    )


# MPEG audio frame header tables (ISO/IEC 11172-3, 13818-3): kbit/s by bitrate
# index, for (MPEG-1 or not, layer). Index 0 ("free") and 15 are not accepted.
_BITRATES: dict[tuple[bool, int], tuple[int, ...]] = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# sample rates by version bits (0: MPEG-2.5, 2: MPEG-2, 3: MPEG-1) and index
_SAMPLE_RATES = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}
# ADTS sampling frequency index -> Hz (ISO/IEC 14496-3); 13-15 are reserved
_ADTS_INDEXES = 13


def _frame(head: bytes, pos: int) -> tuple[str, int] | None:
    """(family, length in bytes) of the MPEG audio frame at ``pos``, or None."""
    if pos + 7 > len(head) or head[pos] != 0xFF or head[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2 = head[pos + 1], head[pos + 2]
    version, layer_bits = (b1 >> 3) & 0x03, (b1 >> 1) & 0x03
    if layer_bits == 0:
        # ADTS (AAC): 12-bit sync, layer 00; frame_length counts the header.
        if b1 & 0xF6 != 0xF0 or (b2 >> 2) & 0x0F >= _ADTS_INDEXES:
            return None
        length = ((head[pos + 3] & 0x03) << 11) | (head[pos + 4] << 3) | (head[pos + 5] >> 5)
        return ("aac", length) if length >= 7 else None
    if version == 1:
        return None
    layer = 4 - layer_bits
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 0x03
    if bitrate_index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index] * 1000
    rate = _SAMPLE_RATES[version][rate_index]
    padding = (b2 >> 1) & 0x01
    if layer == 1:
        length = (12 * bitrate // rate + padding) * 4
    else:
        length = (144 if mpeg1 or layer == 2 else 72) * bitrate // rate + padding
    return "mp3", length


def _mpeg_audio(head: bytes) -> str | None:
    """MP3 or AAC when the first frame header is real and the next frame follows it."""
    first = _frame(head, 0)
    if first is None:
        return None
    family, length = first
    second = _frame(head, length)
    return family if second is not None and second[0] == family else None


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
