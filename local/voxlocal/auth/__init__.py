"""Sign-in, locally: a test OpenID issuer and API Gateway's JWT authorizer checks.

* :class:`DevIssuer` signs real RS256 tokens and serves its key set on loopback.
* :func:`verify_token` / :func:`authorize` check a token as the deployed HTTP
  API's JWT authorizer does and put its claims into the event.
* :func:`signed_in_event` is the one-liner the tests use for a request that went
  through both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from voxlocal.auth.issuer import DEFAULT_AUDIENCE, DevIssuer
from voxlocal.auth.verify import (
    TokenRejected,
    authorize,
    bearer_token,
    clear_jwks_cache,
    fetch_jwks,
    gateway_claims,
    verify_token,
)
from voxlocal.events import http_api

__all__ = [
    "DEFAULT_AUDIENCE",
    "DevIssuer",
    "TokenRejected",
    "authorize",
    "bearer_token",
    "clear_jwks_cache",
    "fetch_jwks",
    "gateway_claims",
    "signed_in_event",
    "verify_token",
]


def signed_in_event(
    issuer: DevIssuer,
    method: str,
    path: str,
    *,
    sub: str,
    email: str | None,
    email_verified: bool = True,
    audience: str | Sequence[str] = DEFAULT_AUDIENCE,
    token_claims: Mapping[str, Any] | None = None,
    body: str | Mapping[str, Any] | list[Any] | None = None,
    headers: Mapping[str, str] | None = None,
    **http_api_kwargs: Any,
) -> dict[str, Any]:
    """An HTTP API event from ``sub`` (signed in with ``email``) that went through
    the JWT authorizer: a token minted by ``issuer``, sent as ``Authorization:
    Bearer ...``, verified against the issuer's served key set.

    ``body`` may be a string or JSON-able data (sent as JSON); the other keyword
    arguments are :func:`voxlocal.events.http_api`'s (``route``,
    ``path_parameters``, ``source_ip``, ...). ``token_claims`` adds claims to the token.
    """
    token = issuer.mint(
        sub, email, email_verified=email_verified, audience=audience, **dict(token_claims or {})
    )
    all_headers = dict(headers or {})
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
        all_headers.setdefault("content-type", "application/json")
    all_headers["authorization"] = f"Bearer {token}"
    event = http_api(method, path, headers=all_headers, body=body, **http_api_kwargs)
    return authorize(event, issuer=issuer.issuer, audience=audience)
