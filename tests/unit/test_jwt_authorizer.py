"""The JWT authorizer as the local API runs it: real RS256 tokens from a local
issuer whose key set is served on loopback and fetched over HTTP, checked the
way API Gateway's HTTP API checks them before any function runs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from voxcliente.domain.identity import Forbidden, caller_from_event
from voxlocal.auth import (
    DEFAULT_AUDIENCE,
    DevIssuer,
    TokenRejected,
    authorize,
    clear_jwks_cache,
    signed_in_event,
    verify_token,
)
from voxlocal.auth import verify as auth_verify
from voxlocal.events import http_api


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _rejection(dev_issuer: DevIssuer, token: str, **kwargs: Any) -> TokenRejected:
    """The refusal of ``token`` by an authorizer configured for ``dev_issuer``."""
    with pytest.raises(TokenRejected) as refused:
        verify_token(
            token,
            issuer=kwargs.pop("issuer", dev_issuer.issuer),
            audience=kwargs.pop("audience", DEFAULT_AUDIENCE),
            **kwargs,
        )
    return refused.value


# --- accepted -------------------------------------------------------------------


def test_a_signed_in_request_carries_the_claims_as_strings_and_names_the_caller(
    dev_issuer: DevIssuer,
) -> None:
    event = signed_in_event(dev_issuer, "GET", "/meetings", sub="user_ana", email="ana@example.com")

    jwt_context = event["requestContext"]["authorizer"]["jwt"]
    claims = jwt_context["claims"]
    assert jwt_context["scopes"] is None
    assert all(isinstance(value, str) for value in claims.values())
    assert claims["iss"] == dev_issuer.issuer
    assert claims["aud"] == DEFAULT_AUDIENCE
    assert claims["email_verified"] == "true"
    assert int(claims["exp"]) > int(claims["iat"])
    caller = caller_from_event(event)
    assert (caller.issuer, caller.subject) == (dev_issuer.issuer, "user_ana")
    assert caller.verified_email == "ana@example.com"


def test_the_key_set_is_fetched_from_the_issuer_over_http_then_cached() -> None:
    with DevIssuer() as issuer:
        token = issuer.mint("user_1", "one@example.com")
        clear_jwks_cache()

        first = verify_token(f"Bearer {token}", issuer=issuer.issuer, audience="voxcliente")
        again = verify_token(token, issuer=issuer.issuer, audience="voxcliente")

        assert first == again
        assert first["sub"] == "user_1"
        assert issuer.jwks_requests == 1


def test_a_rotated_key_is_found_by_fetching_the_key_set_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(auth_verify, "JWKS_MIN_REFRESH_S", 0.0)
    with DevIssuer(kid="key-2025") as issuer:
        verify_token(issuer.mint("user_1"), issuer=issuer.issuer, audience="voxcliente")
        issuer.kid = "key-2026"  # the issuer now publishes (and signs with) a new kid

        claims = verify_token(issuer.mint("user_1"), issuer=issuer.issuer, audience="voxcliente")

        assert claims["sub"] == "user_1"
        assert issuer.jwks_requests == 2


def test_a_bare_token_a_list_audience_and_cognitos_client_id_are_accepted(
    dev_issuer: DevIssuer,
) -> None:
    bare = dev_issuer.mint("user_1")
    listed = dev_issuer.mint("user_1", audience=["other-app", "voxcliente"])
    access_token = dev_issuer.mint("user_1", audience=None, client_id="voxcliente")

    for token in (bare, listed, access_token):
        claims = verify_token(token, issuer=dev_issuer.issuer, audience=["voxcliente"])
        assert claims["sub"] == "user_1"


def test_an_unverified_email_passes_the_authorizer_but_gives_no_address(
    dev_issuer: DevIssuer,
) -> None:
    event = signed_in_event(
        dev_issuer, "POST", "/uploads", sub="user_2", email="bo@example.com", email_verified=False
    )

    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["email_verified"] == "false"
    with pytest.raises(Forbidden, match="email_verified"):
        _ = caller_from_event(event).verified_email


# --- refused --------------------------------------------------------------------


def test_an_expired_token_is_refused(dev_issuer: DevIssuer) -> None:
    refused = _rejection(dev_issuer, dev_issuer.mint("user_1", expires_in=-60))
    assert refused.reason == "expired"


def test_a_token_for_another_audience_is_refused(dev_issuer: DevIssuer) -> None:
    refused = _rejection(dev_issuer, dev_issuer.mint("user_1", audience="someone-elses-api"))
    assert refused.reason == "wrong_audience"
    assert "someone-elses-api" in refused.detail


def test_aud_wins_over_a_matching_client_id(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("user_1", audience="other", client_id="voxcliente")
    assert _rejection(dev_issuer, token).reason == "wrong_audience"


def test_a_token_without_any_audience_is_refused(dev_issuer: DevIssuer) -> None:
    assert _rejection(dev_issuer, dev_issuer.mint("user_1", audience=None)).reason == (
        "wrong_audience"
    )


def test_a_token_from_another_issuer_is_refused(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("user_1", issuer="https://clerk.attacker.example")
    refused = _rejection(dev_issuer, token)
    assert refused.reason == "wrong_issuer"


def test_the_issuer_must_match_exactly_not_just_by_prefix(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("user_1", issuer=f"{dev_issuer.issuer}/")
    assert _rejection(dev_issuer, token).reason == "wrong_issuer"


def test_an_unsigned_token_is_refused(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("user_1", algorithm="none")
    assert token.endswith(".")  # header.payload. with an empty signature
    assert _rejection(dev_issuer, token).reason == "unsupported_algorithm"


def test_hs256_keyed_with_the_public_key_is_refused(dev_issuer: DevIssuer) -> None:
    # The confusion attack: the public key (anyone can fetch it) used as an HMAC
    # secret, hoping the verifier feeds the same bytes to HS256.
    token = dev_issuer.mint("user_1", algorithm="HS256")
    signing_input, _, signature = token.rpartition(".")
    expected = hmac.new(dev_issuer.public_key_pem, signing_input.encode(), hashlib.sha256)
    assert _b64url_decode(signature) == expected.digest()

    assert _rejection(dev_issuer, token).reason == "unsupported_algorithm"


def test_a_tampered_payload_is_refused(dev_issuer: DevIssuer) -> None:
    header, payload, signature = dev_issuer.mint("user_1", "one@example.com").split(".")
    claims = json.loads(_b64url_decode(payload))
    claims["sub"] = "user_admin"
    forged = ".".join((header, _b64url_encode(json.dumps(claims).encode()), signature))

    assert _rejection(dev_issuer, forged).reason == "bad_signature"


def test_a_tampered_signature_is_refused(dev_issuer: DevIssuer) -> None:
    header, payload, signature = dev_issuer.mint("user_1").split(".")
    raw = bytearray(_b64url_decode(signature))
    raw[len(raw) // 2] ^= 0x01
    forged = ".".join((header, payload, _b64url_encode(bytes(raw))))

    assert _rejection(dev_issuer, forged).reason == "bad_signature"


def test_a_token_signed_by_another_key_under_the_issuers_kid_is_refused(
    dev_issuer: DevIssuer,
) -> None:
    impostor = DevIssuer()  # never started: only its private key is used
    token = impostor.mint("user_1", issuer=dev_issuer.issuer, kid=dev_issuer.kid)
    assert _rejection(dev_issuer, token).reason == "bad_signature"


def test_a_token_naming_an_unknown_kid_is_refused(dev_issuer: DevIssuer) -> None:
    refused = _rejection(dev_issuer, dev_issuer.mint("user_1", kid="not-a-published-key"))
    assert refused.reason == "unknown_kid"
    assert "not-a-published-key" in refused.detail


def test_a_token_not_valid_yet_is_refused(dev_issuer: DevIssuer) -> None:
    refused = _rejection(dev_issuer, dev_issuer.mint("user_1", not_before=600))
    assert refused.reason == "not_yet_valid"
    assert "nbf" in refused.detail


def test_a_token_issued_in_the_future_is_refused(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("user_1", iat=int(time.time()) + 600)
    assert _rejection(dev_issuer, token).reason == "not_yet_valid"


def test_a_token_without_exp_is_refused(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("user_1", exp=None)
    assert _rejection(dev_issuer, token).reason == "malformed"


@pytest.mark.parametrize(
    ("header_value", "reason"),
    [
        ("", "missing_token"),
        ("Bearer ", "missing_token"),
        ("Basic dXNlcjpwYXNz", "malformed"),
        ("Bearer not.a.jwt", "malformed"),
        ("Bearer abc", "malformed"),
    ],
)
def test_an_absent_or_malformed_authorization_value_is_refused(
    dev_issuer: DevIssuer, header_value: str, reason: str
) -> None:
    assert _rejection(dev_issuer, header_value).reason == reason


def test_a_route_scope_must_be_granted(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("user_1", scope="openid email")
    granted = verify_token(
        token, issuer=dev_issuer.issuer, audience="voxcliente", scopes=["email", "admin"]
    )
    assert granted["scope"] == "openid email"
    assert _rejection(dev_issuer, token, scopes=["admin"]).reason == "missing_scope"


def test_an_issuer_that_cannot_be_reached_refuses_the_token(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("user_1", issuer="http://127.0.0.1:9")
    refused = _rejection(dev_issuer, token, issuer="http://127.0.0.1:9")
    assert refused.reason == "jwks_unavailable"


# --- the event ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_headers", "reason"),
    [
        (lambda issuer: {}, "missing_token"),
        (lambda issuer: {"Authorization": f"Bearer {issuer.mint('u', expires_in=-1)}"}, "expired"),
        (
            lambda issuer: {"Authorization": issuer.mint("u", algorithm="none")},
            "unsupported_algorithm",
        ),
    ],
)
def test_authorize_refuses_as_api_gateway_answers_401(
    dev_issuer: DevIssuer, make_headers: Callable[[DevIssuer], dict[str, str]], reason: str
) -> None:
    event = http_api("GET", "/me", headers=make_headers(dev_issuer))

    with pytest.raises(TokenRejected) as refused:
        authorize(event, issuer=dev_issuer.issuer, audience=DEFAULT_AUDIENCE)

    assert refused.value.reason == reason
    answer = refused.value.response()
    assert answer["statusCode"] == 401
    assert json.loads(answer["body"]) == {"message": "Unauthorized"}
    assert answer["headers"]["www-authenticate"].startswith("Bearer ")


def test_authorize_leaves_the_incoming_event_untouched(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("user_1", "one@example.com")
    event = http_api("GET", "/me", headers={"Authorization": f"Bearer {token}"})

    authorized = authorize(event, issuer=dev_issuer.issuer, audience="voxcliente", jwks=None)

    assert "authorizer" not in event["requestContext"]
    assert caller_from_event(authorized).subject == "user_1"
    assert authorized["headers"] == event["headers"]


def test_signed_in_event_sends_a_json_body_and_keeps_http_api_options(
    dev_issuer: DevIssuer,
) -> None:
    event = signed_in_event(
        dev_issuer,
        "PATCH",
        "/clients/c-1",
        sub="user_1",
        email="one@example.com",
        body={"name": "Acme"},
        route="/clients/{client_id}",
        path_parameters={"client_id": "c-1"},
        source_ip="198.51.100.4",
    )

    assert json.loads(event["body"]) == {"name": "Acme"}
    assert event["routeKey"] == "PATCH /clients/{client_id}"
    assert event["pathParameters"] == {"client_id": "c-1"}
    assert event["requestContext"]["http"]["sourceIp"] == "198.51.100.4"
    assert event["headers"]["authorization"].startswith("Bearer ")


def test_a_new_issuer_on_a_reused_port_is_not_judged_by_an_old_cached_key_set() -> None:
    with DevIssuer(kid="first") as first:
        verify_token(first.mint("user_1"), issuer=first.issuer, audience="voxcliente")
        port = first.port
    second = DevIssuer(kid="second")
    second.bind_port = port  # the kernel may hand the same port to the next issuer
    with second:
        claims = verify_token(second.mint("user_2"), issuer=second.issuer, audience="voxcliente")

    assert claims["sub"] == "user_2"
    assert second.jwks_requests == 1
