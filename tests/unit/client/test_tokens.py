"""TokenSet (RFC 6749 section 5.1 with the ESPI additions) and its errors."""

from __future__ import annotations

import pytest

from gbconnect.client import Endpoints, OAuthError, TokenSet
from gbconnect.client.oauth import code_challenge


def test_token_response_lower_case_bearer_and_espi_uris() -> None:
    body = {
        "access_token": "a",
        "token_type": "bearer",
        "expires_in": 3600,
        "refresh_token": "r",
        "scope": "FB=1_3",
        "resourceURI": "https://dc/r/Batch/Subscription/5",
        "authorizationURI": "https://dc/r/Authorization/9",
        "customerResourceURI": "https://dc/r/Batch/RetailCustomer/5",
    }
    t = TokenSet.from_response(body, now=1000.0)
    assert t.token_type == "Bearer" and t.expires_at == 4600.0
    assert t.resource_uri.endswith("/5") and t.customer_resource_uri  # type: ignore[union-attr]
    assert t.expired() is True and TokenSet.from_dict(t.to_dict()) == t


def test_a_rotation_without_new_refresh_token_keeps_the_old_one() -> None:
    old = TokenSet.from_response(
        {"access_token": "a", "token_type": "Bearer", "refresh_token": "r1", "resourceURI": "u"}
    )
    new = TokenSet.from_response({"access_token": "b", "token_type": "Bearer"}, previous=old)
    assert new.refresh_token == "r1" and new.resource_uri == "u" and new.expires_at is None
    assert not new.expired()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "no access_token"),
        ({"access_token": "a", "token_type": "mac"}, "unsupported token_type"),
        ({"access_token": "a", "token_type": "Bearer", "expires_in": "soon"}, "expires_in"),
    ],
)
def test_an_unusable_token_response_is_an_oauth_error(
    body: dict[str, object], message: str
) -> None:
    with pytest.raises(OAuthError, match=message) as info:
        TokenSet.from_response(body)
    assert info.value.error == "invalid_response"


def test_from_dict_needs_an_access_token() -> None:
    with pytest.raises(ValueError, match="access_token"):
        TokenSet.from_dict({"token_type": "Bearer"})


def test_rfc7636_appendix_b_challenge() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_endpoints_defaults_and_resource_paths() -> None:
    e = Endpoints.defaults("https://dc.example/")
    assert e.token == "https://dc.example/oauth/token"
    assert e.resource_base == "https://dc.example/DataCustodian/espi/1_1/resource"
    assert e.resource("/ReadServiceStatus").endswith("/resource/ReadServiceStatus")
    pge = Endpoints.defaults("https://dc.example", "/GreenButtonConnect/espi/1_1/resource/")
    assert pge.resource("Authorization") == (
        "https://dc.example/GreenButtonConnect/espi/1_1/resource/Authorization"
    )
