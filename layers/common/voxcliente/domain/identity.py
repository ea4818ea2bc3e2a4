"""Who is calling: the verified claims API Gateway's JWT authorizer passes on.

API Gateway checks every token of a signed-in route (signature against the
issuer's JWKS, ``iss``, ``aud``, ``exp``, ``nbf``) before the function runs,
and hands the claims over in ``requestContext.authorizer.jwt.claims``; an
HTTP API gives each claim as a string ("true", not true). A handler only reads
them: a route without claims was not signed in. The local API verifies tokens
the same way and builds the same event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voxcliente.domain.errors import VoxError
from voxcliente.domain.frozen import Frozen


class Unauthenticated(VoxError):
    """401: the request carries no verified identity."""

    code = "unauthenticated"


class Forbidden(VoxError):
    """403: signed in, but the token cannot be used for this (no verified email)."""

    code = "forbidden"


class Caller(Frozen):
    """A signed-in person: the token's issuer and subject, and its email claims."""

    issuer: str
    subject: str
    email: str | None = None
    email_verified: bool = False

    @property
    def verified_email(self) -> str:
        """The address actas go to, or :class:`Forbidden` saying which claim is missing."""
        if not self.email:
            raise Forbidden(
                "The sign-in token has no 'email' claim: add it to the identity provider's "
                "JWT template (see the README's sign-in setup)."
            )
        if not self.email_verified:
            raise Forbidden(
                "The sign-in token's email is not verified (claim 'email_verified'): "
                "verify the address with the identity provider, then sign in again."
            )
        return self.email.strip()


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def claims_of(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The verified claims of an HTTP API (payload 2.0) event, or None on a public route."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims")
    return claims if isinstance(claims, Mapping) and claims else None


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    """The signed-in caller, or :class:`Unauthenticated`."""
    caller = optional_caller(event)
    if caller is None:
        raise Unauthenticated("Sign in first: this request needs a valid sign-in token.")
    return caller


def optional_caller(event: Mapping[str, Any]) -> Caller | None:
    """The caller when the event carries verified claims with an issuer and a subject."""
    claims = claims_of(event)
    if claims is None:
        return None
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(issuer, str) or not isinstance(subject, str) or not issuer or not subject:
        return None
    email = claims.get("email")
    return Caller(
        issuer=issuer,
        subject=subject,
        email=email if isinstance(email, str) and email.strip() else None,
        email_verified=_truthy(claims.get("email_verified")),
    )
