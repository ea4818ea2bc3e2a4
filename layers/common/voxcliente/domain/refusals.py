"""Why Submit refuses a file, in the words stored with the failed meeting.

Written for support and the person who sent the file (the failure notice's
own sentence comes from :mod:`voxcliente.render`): each says what to do next.
"""

from __future__ import annotations

REFUSALS = {
    "upload_unknown": "The file arrived under uploads/ but matches no upload that was "
    "requested, so there is nobody to send the acta to.",
    "email_missing": "The file has no recipient: drop it under inbox/<your email>/ or add "
    "the metadata email=<your email> when copying it.",
    "email_invalid": "The recipient address given with the file is not one we can send "
    "email to. Check it for typos; addresses with accents or other non-ASCII characters "
    "before the @ cannot be used. Send the file again with another address.",
    "empty_file": "The file is empty (0 bytes): the upload did not finish or the recording "
    "is missing. Upload it again.",
    "too_large": "The file is larger than the {limit} limit. Split the recording or "
    "compress it (for example to MP3) and upload it again.",
    "language_unsupported": "The language given with the file (metadata language=...) is "
    "not one AssemblyAI can transcribe. Send the file again with a code such as 'es', "
    "'es-MX' or 'en-GB', or without the language to have it detected.",
    "not_audio": "The file does not contain audio or video that can be transcribed "
    "(its first bytes are not those of any audio or video format). Check that you sent "
    "the recording itself.",
    "file_missing": "The file was deleted, or could no longer be read, before we could "
    "check it. Upload it again.",
    "daily_spend_limit": "The service reached its spending limit for today before this file "
    "was sent for transcription, so nothing was done with it. Send the file again after "
    "00:00 UTC.",
    "internal_error": "Something unexpected went wrong while we read the file, so no acta "
    "will be written for it. Send the file again; if it happens again, tell us the date "
    "and time you sent it.",
}


def human_size(n: int) -> str:
    """Bytes as a person reads a size limit: decimal GB or MB, as storage is sold."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def refusal_message(code: str, *, max_upload_bytes: int) -> str:
    """The stored message of a refused file (``code`` is one of Submit's refusals)."""
    return REFUSALS[code].format(limit=human_size(max_upload_bytes))
