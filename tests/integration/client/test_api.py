"""The SDK's resource client against a real gbconnect (REQ.21 section 1), on SQLite
and PostgreSQL: the GBA FND cases, bulk, the transparent refresh of an expired token,
429 honoured, 202 as Pending, and every error as an ApiError."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import Engine, update

from gbconnect.client import ApiError, DataCustodianClient, Pending, PendingError, TokenSet
from gbconnect.oauth import models as om
from gbconnect.resource import now
from tests.factories.world import World
from tests.integration.client.conftest import (
    customer_tokens,
    endpoints_of,
    oauth_of,
    served_with,
)

ESPI = "{http://naesb.org/espi}"


def api_of(world: World, tokens: TokenSet, **kw: object) -> DataCustodianClient:
    return DataCustodianClient(endpoints_of(world), tokens, http=world.client, **kw)  # type: ignore[arg-type]


def readings_in(body: bytes) -> int:
    return len(etree.fromstring(body).findall(f".//{ESPI}IntervalReading"))


def test_fnd004_subscription_with_a_customer_token(world: World) -> None:
    api = api_of(world, customer_tokens(world))
    body = api.subscription()
    assert isinstance(body, bytes) and readings_in(body) > 0
    assert api.get(api.tokens.resource_uri or "") == body


def test_fnd003_authorizations_and_one_authorization(world: World) -> None:
    customer = customer_tokens(world)
    api = api_of(world, oauth_of(world).client_credentials())
    found = api.authorizations()
    assert {a["href"] for a in found} >= {customer.authorization_uri}
    one = api.authorization(customer.authorization_uri or "")
    assert one["status"] == "1" and one["resourceURI"] == customer.resource_uri
    assert one["href"] == customer.authorization_uri and one["atom_id"].startswith("urn:uuid:")
    by_id = api.authorization((customer.authorization_uri or "").rsplit("/", 1)[1])
    assert by_id == one


def test_fnd006_read_service_status_with_a_client_token(world: World) -> None:
    api = api_of(world, oauth_of(world).client_credentials())
    assert api.read_service_status() == 1


def test_fnd002_application_information_with_the_registration_token(world: World) -> None:
    tokens = TokenSet(world.registration_token, "Bearer", None, None, None, None, None, None)
    info = api_of(world, tokens).application_information(str(world.app_id))
    assert info["client_id"] == world.client_id
    assert "client_secret" not in info or info["client_secret"] != world.client_secret


def test_rbk001_bulk_with_a_client_token(world: World) -> None:
    customer_tokens(world)  # alice authorizes: the bulk now holds her usage points
    api = api_of(world, oauth_of(world).client_credentials())
    body = api.bulk()
    assert isinstance(body, bytes) and readings_in(body) > 0
    with api.stream(api.tokens.resource_uri or "") as chunks:
        assert b"".join(chunks) == body


def test_oad016_an_expired_access_token_is_refreshed_transparently(world: World) -> None:
    oauth = oauth_of(world)
    tokens = customer_tokens(world, oauth)
    seen: list[TokenSet] = []
    api = api_of(world, tokens, oauth=oauth, on_tokens=seen.append)
    with world.factory() as s:  # the server sees it expired; the SDK does not yet
        s.execute(update(om.Token).where(om.Token.kind == "access").values(expires_at=now() - 1))
        s.commit()
    body = api.subscription()
    assert isinstance(body, bytes) and readings_in(body) > 0
    assert len(seen) == 1 and api.tokens is seen[0]
    assert seen[0].refresh_token != tokens.refresh_token
    assert seen[0].resource_uri == tokens.resource_uri
    # Known expired on the client side: refreshed before asking.
    api.tokens.expires_at = 0.0
    assert isinstance(api.subscription(), bytes) and len(seen) == 2


def test_a_client_token_is_renewed_with_client_credentials(world: World) -> None:
    oauth = oauth_of(world)
    tokens = oauth.client_credentials()
    seen: list[TokenSet] = []
    api = api_of(world, tokens, oauth=oauth, on_tokens=seen.append)
    with world.factory() as s:
        s.execute(update(om.Token).values(expires_at=now() - 1))
        s.commit()
    assert api.read_service_status() == 1
    assert len(seen) == 1 and seen[0].resource_uri == tokens.resource_uri


def test_401_without_an_oauth_client_is_an_api_error(world: World) -> None:
    tokens = TokenSet("forged", "Bearer", None, None, None, None, None, None)
    with pytest.raises(ApiError) as info:
        api_of(world, tokens).read_service_status()
    err = info.value
    assert err.status == 401 and err.error == "invalid_token" and "ReadServiceStatus" in err.url
    assert "forged" not in str(err)


def test_a_refresh_that_fails_is_an_api_error_naming_it(world: World) -> None:
    oauth = oauth_of(world)
    tokens = customer_tokens(world, oauth)
    oauth.refresh(tokens)  # rotates: the refresh token in hand is now dead
    with world.factory() as s:
        s.execute(update(om.Token).values(expires_at=now() - 1))
        s.commit()
    with pytest.raises(ApiError) as info:
        api_of(world, tokens, oauth=oauth).subscription()
    assert info.value.error == "invalid_grant" and "refreshing the token failed" in str(info.value)


def test_wrong_token_class_and_unknown_resource_are_api_errors(world: World) -> None:
    api = api_of(world, customer_tokens(world))
    with pytest.raises(ApiError) as info:
        api.read_service_status()  # OAD015: a customer token may not
    assert info.value.status in (401, 403)
    with pytest.raises(ApiError) as info:
        api.get("Subscription/999999999/UsagePoint")
    assert info.value.status in (403, 404) and info.value.message


def test_subscription_without_a_resource_uri_says_so(world: World) -> None:
    tokens = TokenSet("t", "Bearer", None, None, None, None, None, None)
    with pytest.raises(ValueError, match="resourceURI"):
        api_of(world, tokens).subscription()


def test_a_malformed_query_parameter_is_an_api_error(world: World) -> None:
    api = api_of(world, customer_tokens(world))
    with pytest.raises(ApiError) as info:
        api.subscription(params={"published-min": "yesterday"})  # QRY002
    assert info.value.status == 400


def test_429_is_honoured_with_retry_after(world: World, engine: Engine) -> None:
    limits = {
        "rate_limits": True,
        "rate_vendor_per_second": 1,
        "rate_client_per_hour": 1000,
        "rate_client_per_day": 1000,
    }
    with served_with(world, engine, **limits) as limited:
        waits: list[float] = []

        def sleep(seconds: float) -> None:
            import time

            waits.append(seconds)
            time.sleep(seconds)

        tokens = oauth_of(limited).client_credentials()
        api = api_of(limited, tokens, sleep=sleep)
        for _ in range(3):
            assert api.read_service_status() == 1
        assert waits and all(0 < w <= 1 for w in waits)
        impatient = api_of(limited, tokens, max_retries=0)
        with pytest.raises(ApiError) as info:
            for _ in range(3):
                impatient.read_service_status()
        assert info.value.status == 429 and info.value.error == "too_many_requests"
        assert "rate limit exceeded" in info.value.message


def test_202_is_pending_with_the_package_location(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    tokens = customer_tokens(world)
    options = {"batch_async_blocks": 1, "batch_dir": tmp_path}
    with served_with(world, engine, **options) as deferred:
        api = api_of(deferred, tokens)
        pending = api.subscription()
        assert isinstance(pending, Pending)
        assert pending.retry_after is not None and pending.retry_after >= 0
        assert pending.url != tokens.resource_uri and "espi/1_1/resource" in pending.url
        with pytest.raises(PendingError) as info, api.stream(tokens.resource_uri or "") as chunks:
            list(chunks)
        assert info.value.status == 202 and info.value.pending.url == pending.url


def test_204_for_an_empty_window_is_an_empty_body(world: World, engine: Engine) -> None:
    tokens = customer_tokens(world)
    with served_with(world, engine, empty_window_204=True) as pge:
        body = api_of(pge, tokens).subscription(
            params={
                "published-min": "2000-01-01T00:00:00Z",
                "published-max": "2000-02-01T00:00:00Z",
            }
        )
    assert body == b""


def test_request_answers_any_status_and_manages_authorizations(world: World) -> None:
    customer = customer_tokens(world)
    oauth = oauth_of(world)
    seen: list[TokenSet] = []
    api = api_of(world, oauth.client_credentials(), oauth=oauth, on_tokens=seen.append)
    missing = api.request("GET", "Authorization/999999999")
    assert missing.status_code in (403, 404) and missing.text
    gone = api.request("DELETE", customer.authorization_uri or "")  # MGA: the third party revokes
    assert gone.status_code in (200, 204), gone.text
    assert api.authorization(customer.authorization_uri or "")["status"] == "0"
    with world.factory() as s:  # the refresh rules hold here too
        s.execute(update(om.Token).where(om.Token.token_class == "C").values(expires_at=now() - 1))
        s.commit()
    assert api.request("GET", "ReadServiceStatus").status_code == 200 and len(seen) == 1
