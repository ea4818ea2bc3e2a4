"""The checks API Gateway's JWT authorizer makes, for the local API and the tests.

An HTTP API route with a JWT authorizer never reaches the function unless the
token passes every step AWS documents ("Control access to HTTP APIs with JWT
authorizers in API Gateway", the evaluation workflow):

1. the identity source (here the ``Authorization`` header) holds the token,
   alone or after ``Bearer``;
2. the token decodes;
3. its algorithm is RSA-based and its signature verifies with the key of the
   issuer's ``jwks_uri`` whose ``kid`` the token's header names;
4. ``iss`` equals the configured issuer exactly; ``aud`` (or ``client_id`` when
   there is no ``aud``) matches one configured audience; ``exp`` is after now,
   ``nbf`` and ``iat`` before now; the route's scopes, if it has any, appear in
   ``scope``/``scp``.

Anything else answers 401 ``{"message":"Unauthorized"}`` before the function
runs. :func:`verify_token` makes the same checks with PyJWT and says which one
failed (:class:`TokenRejected`), so a test can tell an expired token from a
forged one; :func:`authorize` hands the claims on in the event as API Gateway does.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

import jwt

from voxlocal.events import http_api

# "Currently, only RSA-based algorithms are supported" (API Gateway's JWT
# authorizer). An HMAC or unsigned token is refused before any key is used:
# that is what stops ``alg: none`` and HS256 keyed with the public key.
ALGORITHMS = ("RS256", "RS384", "RS512")

# How long a fetched key set is trusted before it is fetched again; a token
# naming a kid the cached set lacks triggers one early refresh (key rotation),
# at most every JWKS_MIN_REFRESH_S so unknown kids cannot hammer the issuer.
JWKS_TTL_S = 300.0
JWKS_MIN_REFRESH_S = 10.0
FETCH_TIMEOUT_S = 5.0

UNAUTHORIZED_BODY = '{"message":"Unauthorized"}'


class TokenRejected(Exception):
    """The token fails one of the authorizer's checks: ``reason`` says which.

    Reasons: missing_token, malformed, unsupported_algorithm, unknown_kid,
    bad_signature, expired, not_yet_valid, wrong_issuer, wrong_audience,
    missing_scope, jwks_unavailable.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    def response(self) -> dict[str, Any]:
        """The Lambda-proxy-shaped 401 API Gateway answers, with the RFC 6750 challenge."""
        challenge = f'Bearer error="invalid_token" error_description="{self.reason}"'
        return {
            "statusCode": 401,
            "headers": {"content-type": "application/json", "www-authenticate": challenge},
            "body": UNAUTHORIZED_BODY,
        }


# --- the issuer's key set -------------------------------------------------------

_cache_lock = threading.Lock()
_jwks_cache: dict[str, tuple[float, dict[str, Any]]] = {}  # issuer -> (fetched at, JWKS)


def clear_jwks_cache(issuer: str | None = None) -> None:
    """Forget the cached key set of ``issuer`` (of every issuer by default)."""
    with _cache_lock:
        if issuer is None:
            _jwks_cache.clear()
        else:
            _jwks_cache.pop(issuer, None)


def _get_json(url: str) -> dict[str, Any]:
    if not url.startswith(("https://", "http://")):
        raise TokenRejected("jwks_unavailable", f"{url!r} is not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as answer:
            data = json.loads(answer.read())
    except (OSError, ValueError) as exc:
        raise TokenRejected("jwks_unavailable", f"could not read {url}: {exc}") from exc
    if not isinstance(data, dict):
        raise TokenRejected("jwks_unavailable", f"{url} did not answer a JSON object")
    return data


def fetch_jwks(issuer: str) -> dict[str, Any]:
    """The key set named by the issuer's discovery document (no cache)."""
    discovery = _get_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    jwks_uri = discovery.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise TokenRejected("jwks_unavailable", f"{issuer}'s discovery document has no jwks_uri")
    jwks = _get_json(jwks_uri)
    if not isinstance(jwks.get("keys"), list):
        raise TokenRejected("jwks_unavailable", f"{jwks_uri} has no 'keys' list")
    return jwks


def _issuer_jwks(issuer: str, *, refresh_for_kid: str | None = None) -> dict[str, Any]:
    now = time.monotonic()
    with _cache_lock:
        cached = _jwks_cache.get(issuer)
    if cached is not None:
        fetched_at, jwks = cached
        fresh = now - fetched_at < JWKS_TTL_S
        may_refresh = now - fetched_at >= JWKS_MIN_REFRESH_S
        if fresh and (refresh_for_kid is None or not may_refresh):
            return jwks
    jwks = fetch_jwks(issuer)
    with _cache_lock:
        _jwks_cache[issuer] = (time.monotonic(), jwks)
    return jwks


def _key_for(kid: str, jwks: Mapping[str, Any]) -> jwt.PyJWK | None:
    for entry in jwks.get("keys") or []:
        if isinstance(entry, dict) and entry.get("kid") == kid and entry.get("kty") == "RSA":
            return jwt.PyJWK(entry)
    return None


# --- the checks -----------------------------------------------------------------


def bearer_token(header_value: str | None) -> str:
    """The token of an ``Authorization`` value: ``Bearer <jwt>`` or the bare JWT."""
    value = (header_value or "").strip()
    if not value:
        raise TokenRejected("missing_token", "no Authorization header: send 'Bearer <token>'")
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer" and not rest.strip():
        raise TokenRejected("missing_token", "'Bearer' is not followed by a token")
    if not rest:
        return value  # a bare token, as API Gateway accepts from the identity source
    if scheme.lower() != "bearer":
        raise TokenRejected("malformed", f"the Authorization scheme is {scheme!r}, not Bearer")
    return rest.strip()


def _audiences(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def verify_token(
    token: str,
    *,
    issuer: str,
    audience: str | Sequence[str],
    jwks: Mapping[str, Any] | None = None,
    scopes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The verified claims of ``token`` (or of an ``Authorization`` value), or
    :class:`TokenRejected` naming the failed check.

    ``jwks``: the issuer's key set; by default fetched from the issuer's
    discovery document and cached. ``scopes``: the route's authorization
    scopes, if it has any (at least one must be granted).
    """
    token = bearer_token(token)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenRejected("malformed", f"not a JWT ({exc})") from exc
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise TokenRejected(
            "unsupported_algorithm",
            f"alg {algorithm!r}: only RSA signatures ({', '.join(ALGORITHMS)}) are accepted",
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRejected("unknown_kid", "the token's header names no 'kid'")
    key = _key_for(kid, jwks if jwks is not None else _issuer_jwks(issuer))
    if key is None and jwks is None:
        key = _key_for(kid, _issuer_jwks(issuer, refresh_for_kid=kid))
    if key is None:
        raise TokenRejected("unknown_kid", f"no key {kid!r} in {issuer}'s key set")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[algorithm],
            # iss and aud are compared below, the way API Gateway does.
            options={"verify_aud": False, "verify_iss": False, "require": ["exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenRejected("expired", "the token's 'exp' has passed: sign in again") from exc
    except (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError) as exc:
        raise TokenRejected("not_yet_valid", f"{exc} ('nbf' or 'iat' in the future)") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenRejected("bad_signature", "the signature does not verify") from exc
    except jwt.PyJWTError as exc:
        raise TokenRejected("malformed", str(exc)) from exc
    _check_issuer_and_audience(claims, issuer, _audiences(audience))
    if scopes:
        granted = str(claims.get("scope") or claims.get("scp") or "").split()
        if not set(granted) & set(scopes):
            raise TokenRejected("missing_scope", f"none of the scopes {list(scopes)} is granted")
    return claims


def _check_issuer_and_audience(
    claims: Mapping[str, Any], issuer: str, audiences: tuple[str, ...]
) -> None:
    if claims.get("iss") != issuer:
        raise TokenRejected(
            "wrong_issuer", f"'iss' is {claims.get('iss')!r}, the API expects {issuer!r}"
        )
    # "aud" wins when present; "client_id" (Cognito access tokens) only without it.
    aud = claims.get("aud", claims.get("client_id"))
    offered = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(a, str) and a in audiences for a in offered):
        raise TokenRejected(
            "wrong_audience",
            f"'aud' is {aud!r}, the API accepts {list(audiences)} (its AuthAudience)",
        )


# --- the event the function receives ----------------------------------------------


def gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway passes them on: every value a string."""
    # The conversion is voxlocal.events.http_api's, so both ways of building a
    # signed-in event agree.
    event = http_api("GET", "/", claims=claims)
    converted: dict[str, str] = event["requestContext"]["authorizer"]["jwt"]["claims"]
    return converted


def authorize(
    event: Mapping[str, Any],
    *,
    issuer: str,
    audience: str | Sequence[str],
    jwks: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A copy of the HTTP API (payload 2.0) ``event`` carrying the verified claims
    in ``requestContext.authorizer.jwt``, or :class:`TokenRejected` (answer
    :meth:`TokenRejected.response`, as API Gateway would)."""
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    claims = verify_token(
        bearer_token(headers.get("authorization")), issuer=issuer, audience=audience, jwks=jwks
    )
    authorized = copy.deepcopy(dict(event))
    context = authorized.setdefault("requestContext", {})
    context["authorizer"] = {"jwt": {"claims": gateway_claims(claims), "scopes": None}}
    return authorized
