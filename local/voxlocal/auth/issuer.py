"""A local OpenID Connect issuer (a TEST DOUBLE) that signs real RS256 tokens.

It stands where Clerk, Cognito or Auth0 stand in production: an RSA-2048 key
with a ``kid``, the discovery document at ``/.well-known/openid-configuration``
(``issuer``, ``jwks_uri``) and the public key set at ``/.well-known/jwks.json``,
served on loopback. Its ``issuer`` is its own URL, so the verifier finds the
keys exactly as API Gateway does: from the issuer, over HTTP.

:meth:`DevIssuer.mint` makes good tokens and, on request, the bad ones a JWT
authorizer must refuse: expired, not yet valid, for another audience or
issuer, under an unknown ``kid``, unsigned (``alg: none``) or HMAC-signed with
the public key (the algorithm-confusion attack).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from voxlocal.auth.verify import clear_jwks_cache
from voxlocal.emulators._http import LoopbackServer, RecordedRequest, Response

# What the deployed API's AuthAudience is unless told otherwise: the value the
# identity provider's JWT template puts in ``aud``.
DEFAULT_AUDIENCE = "voxcliente"

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


class DevIssuer(LoopbackServer):
    """``with DevIssuer() as issuer: token = issuer.mint("user_1", "ana@example.com")``."""

    def __init__(self, *, kid: str | None = None) -> None:
        super().__init__()
        self.kid = kid or f"dev-{secrets.token_hex(4)}"
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwks_requests = 0  # how often the key set was fetched (the verifier caches it)

    def start(self) -> None:
        super().start()
        # A port the kernel hands out again may carry an earlier issuer's cached
        # key set: this issuer's keys are the ones to fetch from now on.
        clear_jwks_cache(self.issuer)

    # --- what it publishes ----------------------------------------------------

    @property
    def issuer(self) -> str:
        """The ``iss`` of its tokens and the base of its discovery URL."""
        return self.origin

    @property
    def jwks_uri(self) -> str:
        return f"{self.origin}{JWKS_PATH}"

    @property
    def public_key_pem(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwks(self) -> dict[str, Any]:
        """The public key set, as ``/.well-known/jwks.json`` serves it."""
        jwk: dict[str, Any] = dict(RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def _handle(self, request: RecordedRequest) -> Response:
        path = request.path.split("?", 1)[0]
        if request.method != "GET":
            return Response.json_body(405, {"error": "method not allowed"})
        if path == DISCOVERY_PATH:
            return Response.json_body(
                200,
                {
                    "issuer": self.issuer,
                    "jwks_uri": self.jwks_uri,
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "subject_types_supported": ["public"],
                    "response_types_supported": ["code"],
                },
            )
        if path == JWKS_PATH:
            with self._lock:
                self.jwks_requests += 1
            return Response.json_body(200, self.jwks())
        return Response.json_body(404, {"error": f"no such path: {path}"})

    # --- tokens ---------------------------------------------------------------

    def mint(
        self,
        sub: str,
        email: str | None = None,
        *,
        email_verified: bool = True,
        audience: str | Sequence[str] | None = DEFAULT_AUDIENCE,
        expires_in: float = 3600,
        not_before: float | None = None,
        issuer: str | None = None,
        kid: str | None = None,
        algorithm: str = "RS256",
        **claims: Any,
    ) -> str:
        """A signed token for ``sub``, valid for ``expires_in`` seconds from now.

        ``email``/``email_verified`` become claims when an email is given;
        ``audience`` None leaves ``aud`` out; ``not_before`` is seconds from now
        (positive: not valid yet); ``issuer`` and ``kid`` override this issuer's;
        ``claims`` are added last (and may replace ``iat``, ``exp``, ...).
        ``algorithm``: "RS256" (the real thing), "none" (unsigned) or "HS256"
        keyed with this issuer's public key PEM, the bytes an attacker has.
        """
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": issuer if issuer is not None else self.issuer,
            "sub": sub,
            "iat": now,
            "exp": now + int(expires_in),
        }
        if audience is not None:
            payload["aud"] = audience if isinstance(audience, str) else list(audience)
        if not_before is not None:
            payload["nbf"] = now + int(not_before)
        if email is not None:
            payload["email"] = email
            payload["email_verified"] = email_verified
        payload.update(claims)
        header = {"alg": algorithm, "typ": "JWT", "kid": kid or self.kid}
        if algorithm == "RS256":
            return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": header["kid"]})
        # PyJWT refuses to build these two on purpose (a PEM as an HMAC secret is
        # the confusion attack), so they are assembled by hand.
        signing_input = f"{_segment(header)}.{_segment(payload)}"
        if algorithm == "none":
            return f"{signing_input}."
        if algorithm == "HS256":
            mac = hmac.new(self.public_key_pem, signing_input.encode("ascii"), hashlib.sha256)
            return f"{signing_input}.{_b64url(mac.digest())}"
        raise ValueError(f"mint() makes RS256, HS256 or none tokens, not {algorithm!r}")
