"""Uploads: what the upload API promised before the file reached S3.

All SQL of the project lives in this package, one module per aggregate.
Submit finds the upload by the object's key and takes its email, client,
date and language for the meeting.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from voxcliente.adapters.db import Connection
from voxcliente.adapters.repository._rows import fetch_optional, fetch_required
from voxcliente.domain.models import Upload


def create_upload(
    conn: Connection,
    *,
    upload_id: UUID,
    email: str,
    s3_key: str,
    original_filename: str,
    content_type: str,
    size_bytes: int,
    expires_at: datetime,
    client_name: str | None = None,
    meeting_date: date | None = None,
    language: str | None = None,
) -> Upload:
    return fetch_required(
        conn,
        Upload,
        """
        INSERT INTO uploads (id, email, s3_key, original_filename, content_type, size_bytes,
                             client_name, meeting_date, language, expires_at)
        VALUES (%(id)s, %(email)s, %(s3_key)s, %(original_filename)s, %(content_type)s,
                %(size_bytes)s, %(client_name)s, %(meeting_date)s, %(language)s,
                %(expires_at)s)
        RETURNING *
        """,
        {
            "id": upload_id,
            "email": email,
            "s3_key": s3_key,
            "original_filename": original_filename,
            "content_type": content_type,
            "size_bytes": size_bytes,
            "client_name": client_name,
            "meeting_date": meeting_date,
            "language": language,
            "expires_at": expires_at,
        },
    )


def get_upload(conn: Connection, upload_id: UUID) -> Upload | None:
    return fetch_optional(conn, Upload, "SELECT * FROM uploads WHERE id = %s", (upload_id,))


def get_upload_by_key(conn: Connection, s3_key: str) -> Upload | None:
    return fetch_optional(conn, Upload, "SELECT * FROM uploads WHERE s3_key = %s", (s3_key,))
