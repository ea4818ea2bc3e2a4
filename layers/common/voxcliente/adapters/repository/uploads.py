"""Uploads: what the upload API promised before the file reached S3.

All SQL of the project lives in this package, one module per aggregate.
Submit finds the upload by the object's key and takes its email, client,
date and language for the meeting. An upload was asked for by a signed-in
user (``user_id``) or, in trial mode, by a confirmed address (``confirmation_id``
and the ``source_ip`` its limits counted).
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
    user_id: UUID | None = None,
    confirmation_id: UUID | None = None,
    source_ip: str | None = None,
) -> Upload:
    return fetch_required(
        conn,
        Upload,
        """
        INSERT INTO uploads (id, email, s3_key, original_filename, content_type, size_bytes,
                             client_name, meeting_date, language, expires_at, user_id,
                             confirmation_id, source_ip)
        VALUES (%(id)s, %(email)s, %(s3_key)s, %(original_filename)s, %(content_type)s,
                %(size_bytes)s, %(client_name)s, %(meeting_date)s, %(language)s,
                %(expires_at)s, %(user_id)s, %(confirmation_id)s, %(source_ip)s::inet)
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
            "user_id": user_id,
            "confirmation_id": confirmation_id,
            "source_ip": source_ip,
        },
    )


def get_upload(conn: Connection, upload_id: UUID) -> Upload | None:
    return fetch_optional(conn, Upload, "SELECT * FROM uploads WHERE id = %s", (upload_id,))


def get_upload_by_key(conn: Connection, s3_key: str) -> Upload | None:
    return fetch_optional(conn, Upload, "SELECT * FROM uploads WHERE s3_key = %s", (s3_key,))


def caller_owns_upload(conn: Connection, upload_id: UUID, issuer: str, subject: str) -> bool:
    """Whether the signed-in identity (issuer, subject) asked for this upload: only the
    owner is shown its file name. Reads the caller's row without creating it."""
    row = conn.execute(
        """
        SELECT EXISTS (
            SELECT 1 FROM uploads u JOIN users ON users.id = u.user_id
            WHERE u.id = %s AND users.auth_issuer = %s AND users.auth_subject = %s
        ) AS owns
        """,
        (upload_id, issuer, subject),
    ).fetchone()
    return bool(row and row["owns"])
