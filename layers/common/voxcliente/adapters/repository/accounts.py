"""Users and their clients: who a meeting is for, and whether we may email them.

All SQL of the project lives in this package, one module per aggregate.
An email address is one person whatever its case (the unique index is on
``lower(email)``), so every lookup here compares lower-cased.
"""

from __future__ import annotations

from uuid import UUID

from voxcliente.adapters.db import Connection
from voxcliente.adapters.repository._rows import fetch_optional, fetch_required
from voxcliente.domain.identity import Caller, Forbidden
from voxcliente.domain.models import Client, User


def get_or_create_user(conn: Connection, email: str) -> User:
    return fetch_required(
        conn,
        User,
        """
        INSERT INTO users (email) VALUES (%s)
        ON CONFLICT ((lower(email))) DO UPDATE SET email = users.email
        RETURNING *
        """,
        (email.strip(),),
    )


def get_user(conn: Connection, user_id: UUID) -> User | None:
    return fetch_optional(conn, User, "SELECT * FROM users WHERE id = %s", (user_id,))


def get_or_create_client(
    conn: Connection, user_id: UUID, name: str, industry: str | None = None
) -> Client:
    return fetch_required(
        conn,
        Client,
        """
        INSERT INTO clients (user_id, name, industry) VALUES (%s, %s, %s)
        ON CONFLICT (user_id, (lower(name))) DO UPDATE SET name = clients.name
        RETURNING *
        """,
        (user_id, name.strip(), industry),
    )


def get_client(conn: Connection, client_id: UUID) -> Client | None:
    return fetch_optional(conn, Client, "SELECT * FROM clients WHERE id = %s", (client_id,))


def suppress_email(conn: Connection, email: str, reason: str) -> None:
    """Stop sending to an address (hard bounce, complaint)."""
    conn.execute(
        """
        INSERT INTO users (email, email_suppressed_at, email_suppressed_reason)
        VALUES (%s, now(), %s)
        ON CONFLICT ((lower(email))) DO UPDATE
        SET email_suppressed_at = coalesce(users.email_suppressed_at, now()),
            email_suppressed_reason = EXCLUDED.email_suppressed_reason
        """,
        (email.strip(), reason),
    )


def is_suppressed(conn: Connection, email: str) -> bool:
    row = conn.execute(
        "SELECT email_suppressed_at IS NOT NULL AS suppressed FROM users "
        "WHERE lower(email) = lower(%s)",
        (email,),
    ).fetchone()
    return bool(row and row["suppressed"])


def user_for_caller(conn: Connection, caller: Caller) -> User:
    """The signed-in caller's row, linked or created at their first request.

    Looked up by (issuer, subject). The first time, the row their actas created
    before they signed up (keyed by address) is linked to the identity by the
    token's verified email, so that history appears in the account; without one,
    a row is created. An address already linked to another identity is refused:
    the same inbox signed in through two providers is two accounts only if the
    person says so, not by accident.
    """
    found = fetch_optional(
        conn,
        User,
        "SELECT * FROM users WHERE auth_issuer = %s AND auth_subject = %s",
        (caller.issuer, caller.subject),
    )
    if found is not None:
        return found
    email = caller.verified_email
    linked = fetch_optional(
        conn,
        User,
        """
        INSERT INTO users (email, auth_issuer, auth_subject, signed_up_at)
        VALUES (%(email)s, %(issuer)s, %(subject)s, now())
        ON CONFLICT ((lower(email))) DO UPDATE
        SET auth_issuer = EXCLUDED.auth_issuer, auth_subject = EXCLUDED.auth_subject,
            signed_up_at = now()
        WHERE users.auth_issuer IS NULL
        RETURNING *
        """,
        {"email": email, "issuer": caller.issuer, "subject": caller.subject},
    )
    if linked is None:
        raise Forbidden(
            "This email address already belongs to an account signed in another way: "
            "sign in the way you did before."
        )
    return linked
