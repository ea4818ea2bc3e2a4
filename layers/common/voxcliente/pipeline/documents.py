"""What is kept of an emailed acta, and what is not: the .docx and the transcript
stored for download, and the transcript deleted at AssemblyAI.

The two attachments of the acta email are stored in the audio bucket before the
email is sent, so every acta that reached an inbox can be downloaded again
(``GET /meetings/{id}``) and sent again (:mod:`voxcliente.pipeline.resend`) as
it was, byte for byte:

* ``{ACTA_DOCUMENTS_PREFIX}{meeting_id}/acta.docx``
* ``{TRANSCRIPT_DOCUMENTS_PREFIX}{meeting_id}/transcript.txt``

Each prefix sits under its own lifecycle rule in the template (ACTA_RETENTION_DAYS,
TRANSCRIPT_RETENTION_DAYS), and erasure deletes both. The keys depend only on the
meeting, so a retried message writes the same objects again and never leaves a
second copy behind. Objects are encrypted at rest (SSE-S3) whatever the bucket's
default, and carry the attachment's file name for the browser that downloads them.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING
from urllib.parse import quote
from uuid import UUID

from voxcliente.adapters import s3
from voxcliente.domain.errors import ObjectGone
from voxcliente.domain.models import Meeting
from voxcliente.observability import logger
from voxcliente.settings import Settings, get_settings

if TYPE_CHECKING:
    from voxcliente.render import MeetingFacts, RenderedEmail

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT_MIME = "text/plain; charset=utf-8"


def docx_key(meeting_id: UUID, settings: Settings | None = None) -> str:
    cfg = settings or get_settings()
    return f"{cfg.acta_documents_prefix}{meeting_id}/acta.docx"


def transcript_key(meeting_id: UUID, settings: Settings | None = None) -> str:
    cfg = settings or get_settings()
    return f"{cfg.transcript_documents_prefix}{meeting_id}/transcript.txt"


def content_disposition(filename: str) -> str:
    """``attachment`` with the file name a browser saves the download as: an ASCII
    ``filename`` for old clients and the exact UTF-8 name in ``filename*`` (RFC 6266
    section 4.3, RFC 8187). An HTTP header is ASCII, so accents travel percent-encoded."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    plain = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in plain) or "download"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def store_documents(
    meeting: Meeting,
    docx_bytes: bytes,
    transcript_text_bytes: bytes,
    *,
    docx_filename: str = "acta.docx",
    transcript_filename: str = "transcript.txt",
    settings: Settings | None = None,
) -> tuple[str, str]:
    """Store the meeting's .docx and transcript; returns their keys (the .docx's first).

    Storing again replaces them (same keys). A failure is S3's ``TransientError``:
    the worker's message is retried, and nothing was emailed or paid for yet.
    """
    cfg = settings or get_settings()
    cfg.require("audio_bucket")
    bucket = str(cfg.audio_bucket)
    keys = (docx_key(meeting.id, cfg), transcript_key(meeting.id, cfg))
    s3.put(
        bucket,
        keys[0],
        docx_bytes,
        content_type=DOCX_MIME,
        content_disposition=content_disposition(docx_filename),
    )
    s3.put(
        bucket,
        keys[1],
        transcript_text_bytes,
        content_type=TEXT_MIME,
        content_disposition=content_disposition(transcript_filename),
    )
    return keys


def _attachment(rendered: RenderedEmail, suffix: str) -> tuple[str, str, bytes]:
    return next(a for a in rendered.attachments if a[0].endswith(suffix))


def store_rendered(
    meeting: Meeting, rendered: RenderedEmail, settings: Settings
) -> tuple[str, str]:
    """Store the two attachments of the acta email as they will be sent."""
    docx_name, _, docx = _attachment(rendered, ".docx")
    transcript_name, _, transcript = _attachment(rendered, ".txt")
    return store_documents(
        meeting,
        docx,
        transcript,
        docx_filename=docx_name,
        transcript_filename=transcript_name,
        settings=settings,
    )


def with_stored_documents(
    meeting: Meeting, rendered: RenderedEmail, settings: Settings, *, transcript_kept: bool
) -> RenderedEmail:
    """The acta email sent again: its attachments are the stored documents (what was
    emailed the first time) where they are stored, else the ones just rendered. The
    transcript is left out once it is gone everywhere (its retention ended)."""
    from voxcliente.render import RenderedEmail

    bucket = str(settings.audio_bucket or meeting.s3_bucket)
    attachments: list[tuple[str, str, bytes]] = []
    for name, mime, data in rendered.attachments:
        is_docx = name.endswith(".docx")
        key = meeting.docx_s3_key if is_docx else meeting.transcript_s3_key
        kept = data if is_docx or transcript_kept else None
        if key:
            ref = s3.ObjectRef(bucket=bucket, key=key, version_id="", size=None, etag=None)
            try:
                kept = s3.read(ref)
            except ObjectGone:
                # Deleted by its lifecycle rule (the transcript's is shorter than the acta's).
                logger.info("stored document gone; sending the re-rendered one if any")
        if kept is not None:
            attachments.append((name, mime, kept))
    return RenderedEmail(
        subject=rendered.subject, html=rendered.html, text=rendered.text, attachments=attachments
    )


def meeting_facts(
    meeting: Meeting,
    client_name: str | None,
    duration_s: float | None,
    *,
    recipient: str | None = None,
) -> MeetingFacts:
    """What the documents say about the meeting that the code knows (not the model)."""
    from voxcliente.render import MeetingFacts

    if duration_s is None and meeting.audio_duration_s is not None:
        duration_s = float(meeting.audio_duration_s)
    return MeetingFacts(
        meeting_id=str(meeting.id),
        original_filename=meeting.original_filename,
        client_name=client_name,
        meeting_date=meeting.meeting_date,
        audio_duration_s=duration_s,
        recipient=recipient if recipient is not None else meeting.recipient_email or "",
    )


def forget_provider_transcript(meeting: Meeting, settings: Settings) -> None:
    """Once the acta is emailed, delete the transcript AssemblyAI keeps (when
    DELETE_PROVIDER_TRANSCRIPT is on). Best effort: the meeting is emailed whatever
    happens here, and a transcript not deleted now is left to the reconciler's sweep,
    never to a retry of this message (which would send the acta again)."""
    if not settings.delete_provider_transcript or not meeting.assemblyai_transcript_id:
        return
    try:
        from voxcliente.pipeline import erasure

        erasure.forget_at_provider(meeting.id, meeting.assemblyai_transcript_id)
    except Exception:  # noqa: BLE001 - never the email's problem; the sweep retries
        logger.exception(
            "transcript not deleted at AssemblyAI now; the reconciler's sweep retries",
            extra={"meeting_id": str(meeting.id)},
        )
