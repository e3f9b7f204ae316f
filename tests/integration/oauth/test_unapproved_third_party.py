"""A third party the utility has not approved yet (dataCustodianApplicationStatus 1,
review) may be authorized only by test customers, as in PG&E's connectivity test
(STANDARD.md sections 4 and 7); real customers cannot be asked, and the token endpoint
refuses the same. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

from click.testing import CliRunner
from sqlalchemy import select, update

from gbconnect.cli import main
from gbconnect.customer.models import RetailCustomer
from gbconnect.customer.services import create_customer
from gbconnect.oauth import models as om
from gbconnect.oauth.clients import register
from gbconnect.registration import models as rm
from tests.factories.customers import PASSWORD, make_customer
from tests.factories.world import REDIRECT, SCOPE, World


def _in_review(world: World) -> None:
    """The world's third party becomes a fresh one in review."""
    with world.factory() as s:
        done = register(
            s, world.settings, name="Review Co", redirect_uris=[REDIRECT], scopes=[SCOPE]
        )
        s.commit()
        assert done.application.data_custodian_status == rm.REVIEW
        assert done.client_secret is not None
        world.client_id, world.client_secret = done.application.client_id, done.client_secret
        world.app_id = done.application.id


def _test_customer(world: World) -> list[int]:
    with world.factory() as s:
        tess = make_customer(s, "tess", days=2)
        create_customer(s, "tess", None, is_test=True)
        s.commit()
        return tess.points


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    return m.group(1) if m else ""


def test_real_customer_cannot_authorize_a_third_party_in_review(world: World) -> None:
    _in_review(world)
    world.login()
    page = world.client.get(world.authorize_url())
    assert page.status_code == 403
    assert "Review Co is not yet approved by" in page.text
    assert 'name="decision"' not in page.text
    # Posting the form anyway (a CSRF token from another page) grants nothing.
    csrf = _csrf(world.client.get("/account").text)
    r = world.client.post(
        world.authorize_url(),
        data={
            "csrf": csrf,
            "decision": "approve",
            "service": [str(i) for i in world.alice_points],
            "group": ["electric"],
            "end": "revoke",
        },
        follow_redirects=False,
    )
    assert r.status_code == 403 and "not yet approved" in r.text
    with world.factory() as s:
        assert s.scalars(select(om.Authorization)).first() is None


def test_test_customer_authorizes_a_third_party_in_review(world: World) -> None:
    _in_review(world)
    points = _test_customer(world)
    world.login("tess", PASSWORD)
    page = world.client.get(world.authorize_url())
    assert page.status_code == 200 and 'id="in-review"' in page.text
    code = world.consent(service=[str(i) for i in points])["code"][0]
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        headers=world.basic(),
    )
    assert r.status_code == 200, r.text
    tokens = r.json()
    sub = tokens["resourceURI"].replace(world.settings.base_url, "")
    got = world.client.get(sub, headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert got.status_code == 200


def test_approved_third_party_shows_no_review_notice(world: World) -> None:
    world.login()
    page = world.client.get(world.authorize_url())
    assert page.status_code == 200 and 'id="in-review"' not in page.text


def _set_status(world: World, status: int) -> None:
    with world.factory() as s:
        s.execute(
            update(rm.ApplicationInformation)
            .where(rm.ApplicationInformation.id == world.app_id)
            .values(data_custodian_status=status)
        )
        s.commit()


def test_token_endpoint_refuses_a_real_customer_of_a_third_party_in_review(
    world: World,
) -> None:
    # A code given while approved cannot be exchanged once back in review ...
    world.login()
    code = world.consent()["code"][0]
    _set_status(world, rm.REVIEW)
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        headers=world.basic(),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # ... and a refresh token of a real customer gives nothing either.
    _set_status(world, rm.PRODUCTION)
    tokens = world.code_tokens()
    _set_status(world, rm.REVIEW)
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": str(tokens["refresh_token"])},
        headers=world.basic(),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # Client credentials still work: the connectivity test starts with them.
    world.client_token()


def test_customer_create_test_flag(db_url: str, world: World) -> None:
    result = CliRunner().invoke(
        main,
        [
            "--database-url",
            db_url,
            "customer",
            "create",
            "tester1",
            "--password",
            "a long enough password",
            "--test",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"test": true' in result.stdout
    with world.factory() as s:
        tester = s.scalars(select(RetailCustomer).where(RetailCustomer.username == "tester1"))
        assert tester.one().is_test
        alice = s.scalars(select(RetailCustomer).where(RetailCustomer.username == "alice"))
        assert not alice.one().is_test
    args = ["--database-url", db_url, "customer", "create", "tester1", "--password", "x" * 12]
    assert CliRunner().invoke(main, args).exit_code == 0
    with world.factory() as s:
        tester = s.scalars(select(RetailCustomer).where(RetailCustomer.username == "tester1"))
        assert tester.one().is_test  # unchanged when not given
    assert CliRunner().invoke(main, [*args, "--no-test"]).exit_code == 0
    with world.factory() as s:
        tester = s.scalars(select(RetailCustomer).where(RetailCustomer.username == "tester1"))
        assert not tester.one().is_test
