"""The signed-in customer's home, ``/account`` (REQ.21 FB_51/57/58 customer records,
FB_15/16 bills, FB_3 authorizations), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.factories.world import TODAY, ZONE, World


def test_home_names_the_customer_their_services_sharing_and_bill(world: World) -> None:
    world.code_tokens()
    page = world.client.get("/account")
    assert page.status_code == 200
    html = page.text
    # Their name, not their login.
    assert "Welcome, Alice" in html and ">alice<" not in html
    # Services by agreement and address; the gas point no agreement covers apart.
    assert "Electric service SA-1" in html and "1 Main St, Oakland CA 94612" in html
    assert "Electricity · Home electric" in html
    assert "Other services" in html and "Natural gas · Home gas" in html
    # What is shared with whom, linking to the list.
    sharing = html[html.index('id="sharing"') :]
    assert "Solar Helper" in sharing and 'href="/account/authorizations"' in sharing
    # The latest bill: $88.12 for the 30 days before today (last day included).
    first = datetime.fromtimestamp(TODAY - 30 * 86400, ZONE).date()
    last = datetime.fromtimestamp(TODAY - 1, ZONE).date()
    assert "$88.12" in html
    assert f'datetime="{first.isoformat()}"' in html and f'datetime="{last.isoformat()}"' in html
    for link in ("/account/authorizations", "/account/usage", "/account/download", "/logout"):
        assert f'"{link}"' in html
    assert '<html lang="en">' in html and 'name="viewport"' in html
    assert '<nav aria-label="Your account">' in html


def test_a_customer_without_records_bills_or_grants(world: World) -> None:
    """Bob has one empty usage point, no customer records, no bill, no grant: the
    page shows what exists and says the rest plainly."""
    world.login("bob")
    html = world.client.get("/account").text
    assert "Welcome, Bob" in html
    assert "Other services" in html and "Electricity · bob-0" in html
    assert "You are not sharing your data with anyone." in html
    assert 'id="bill"' not in html


@pytest.mark.parametrize(
    "path",
    [
        "/account",
        "/account/authorizations",
        "/account/authorizations/1/revoke",
        "/account/authorizations/1/end",
    ],
)
def test_not_signed_in_is_sent_to_login(world: World, path: str) -> None:
    r = world.client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=%2Faccount")


def test_forms_posted_without_signing_in_go_to_login(world: World) -> None:
    for path in ("/account/authorizations/1/revoke", "/account/authorizations/1/end"):
        r = world.client.post(path, data={"csrf": "x"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
