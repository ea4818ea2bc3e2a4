"""The signed-in caller: claims read from the event, the user row linked by verified email."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from voxcliente.adapters import repository as repo
from voxcliente.adapters.db import transaction
from voxcliente.domain.identity import (
    Caller,
    Forbidden,
    Unauthenticated,
    caller_from_event,
    optional_caller,
)

ISSUER = "https://issuer.example"


def _event(claims: dict[str, str] | None) -> dict[str, Any]:
    context: dict[str, Any] = {"http": {"method": "GET"}}
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {"version": "2.0", "requestContext": context}


def test_claims_are_read_as_api_gateway_gives_them_strings_included() -> None:
    caller = caller_from_event(
        _event(
            {"iss": ISSUER, "sub": "user_1", "email": "ana@example.com", "email_verified": "true"}
        )
    )
    assert caller == Caller(
        issuer=ISSUER, subject="user_1", email="ana@example.com", email_verified=True
    )
    assert caller.verified_email == "ana@example.com"


def test_a_public_route_has_no_caller_and_a_signed_in_one_requires_it() -> None:
    assert optional_caller(_event(None)) is None
    with pytest.raises(Unauthenticated, match="Sign in"):
        caller_from_event(_event(None))
    with pytest.raises(Unauthenticated):
        caller_from_event(_event({"iss": ISSUER}))


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iss": ISSUER, "sub": "u"}, "no 'email' claim"),
        ({"iss": ISSUER, "sub": "u", "email": "a@example.com"}, "not verified"),
        (
            {"iss": ISSUER, "sub": "u", "email": "a@example.com", "email_verified": "false"},
            "not verified",
        ),
    ],
)
def test_actas_go_only_to_a_verified_address(claims: dict[str, str], message: str) -> None:
    with pytest.raises(Forbidden, match=message):
        _ = caller_from_event(_event(claims)).verified_email


def test_the_first_sign_in_links_the_row_earlier_actas_created(
    db_url: str, conn: psycopg.Connection[Any]
) -> None:
    with transaction() as tx:
        before = repo.get_or_create_user(tx, "Ana@Example.com")
    caller = Caller(issuer=ISSUER, subject="user_1", email="ana@example.com", email_verified=True)
    with transaction() as tx:
        linked = repo.user_for_caller(tx, caller)
    with transaction() as tx:
        again = repo.user_for_caller(tx, caller)
    assert linked.id == before.id == again.id
    row = conn.execute("SELECT auth_issuer, auth_subject, signed_up_at FROM users").fetchone()
    assert row is not None
    assert (row["auth_issuer"], row["auth_subject"]) == (ISSUER, "user_1")
    assert row["signed_up_at"] is not None


def test_a_new_person_gets_a_row_and_an_address_taken_by_another_identity_is_refused(
    db_url: str, conn: psycopg.Connection[Any]
) -> None:
    first = Caller(issuer=ISSUER, subject="a", email="ana@example.com", email_verified=True)
    other = Caller(
        issuer="https://other.example", subject="b", email="ANA@example.com", email_verified=True
    )
    with transaction() as tx:
        user = repo.user_for_caller(tx, first)
    assert user.email == "ana@example.com"
    with pytest.raises(Forbidden, match="another way"), transaction() as tx:
        repo.user_for_caller(tx, other)
    assert conn.execute("SELECT count(*) AS n FROM users").fetchone() == {"n": 1}
