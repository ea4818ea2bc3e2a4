"""Who gets the acta of an uploaded file: the upload's row, the object's metadata,
or the ``inbox/<email>/`` folder it was dropped in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import session
from voxcliente.adapters.s3 import ObjectRef
from voxcliente.domain import recipients
from voxcliente.domain.languages import UnsupportedLanguage, to_assemblyai
from voxcliente.settings import Settings
from voxcliente.text import clean_text

# Longest client name the clients table holds (CHECK length(name) <= 200).
MAX_CLIENT_NAME = 200


@dataclass(frozen=True)
class Recipient:
    email: str | None
    client_name: str | None
    meeting_date: date | None
    language: str | None
    upload_id: UUID | None
    problem: str | None  # why no valid recipient was found: a refusal code


def resolve_recipient(ref: ObjectRef, metadata: dict[str, str], settings: Settings) -> Recipient:
    """Who gets the acta: the upload's row, the object's metadata, or inbox/<email>/."""
    with session() as tx:  # reads only: no BEGIN/COMMIT around them
        upload = repo.get_upload_by_key(tx, ref.key)
        if upload is None and metadata.get("upload-id"):
            try:
                upload = repo.get_upload(tx, UUID(metadata["upload-id"]))
            except ValueError:
                upload = None
    if upload is not None:
        # Checked when the upload was requested; checked again for rows written
        # before the check was as strict as SES.
        email = recipients.usable_address(upload.email)
        return Recipient(
            email=email,
            client_name=clean_text(upload.client_name, MAX_CLIENT_NAME),
            meeting_date=upload.meeting_date,
            language=upload.language,
            upload_id=upload.id,
            problem=None if email else "email_invalid",
        )
    if ref.key.startswith(settings.upload_prefix):
        return Recipient(None, None, None, None, None, "upload_unknown")
    # The metadata's address first, else the inbox/<email>/ folder's. When the
    # one given cannot be used, the meeting is refused, and the other (if
    # usable) is told why.
    given = [metadata.get("email")]
    if ref.key.startswith(settings.inbox_prefix):
        parts = ref.key[len(settings.inbox_prefix) :].split("/")
        given.append(parts[0] if len(parts) > 1 else None)
    checked = [recipients.usable_address(g) for g in given if g and g.strip()]
    email = next((e for e in checked if e), None)
    problem: str | None = None
    if not checked:
        problem = "email_missing"
    elif checked[0] is None:
        problem = "email_invalid"
    language, language_problem = _metadata_language(metadata.get("language"))
    return Recipient(
        email=email,
        client_name=clean_text(
            metadata.get("client") or metadata.get("client-name"), MAX_CLIENT_NAME
        ),
        meeting_date=_parse_date(metadata.get("meeting-date")),
        language=language,
        upload_id=None,
        problem=problem or language_problem,
    )


def _metadata_language(given: str | None) -> tuple[str | None, str | None]:
    """The object's ``language`` metadata as AssemblyAI's code, or why it cannot be used."""
    if not given or not given.strip():
        return None, None
    try:
        return to_assemblyai(given), None
    except UnsupportedLanguage:
        return None, "language_unsupported"


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None
