"""Hostile consent and sign-in forms get a page with a sentence under the utility's
name and a 4xx status, never a Python message, raw JSON or a traceback
(gbconnect.portal.consent.read_decision, gbconnect.web.errors); the consent page
offers only the services the requested scope can carry."""

from __future__ import annotations

import re

from sqlalchemy import select

from gbconnect.customer.models import RetailCustomer
from gbconnect.espi import blocks as fb
from gbconnect.espi import scope as espi_scope
from gbconnect.portal.consent import service_choices
from gbconnect.usage.points import customer_usage_points
from tests.factories.world import World

PYTHON_TEXT = ("invalid literal", "int()", "Traceback", '{"error"', "ValueError")
NO_GAS = "FB=1_3_4_5_13_14_15_39;IntervalDuration=900_3600;BlockDuration=daily;HistoryLength=13"


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def assert_sentence_page(r: object, status: int | None = None) -> None:
    response = r  # a TestClient response
    code = response.status_code  # type: ignore[attr-defined]
    text: str = response.text  # type: ignore[attr-defined]
    assert 400 <= code < 500 and (status is None or code == status), (code, text)
    assert "text/html" in response.headers["content-type"]  # type: ignore[attr-defined]
    assert "Demo Utility" in text and 'role="alert"' in text
    assert not any(t in text for t in PYTHON_TEXT), text


def consent_post(world: World, **fields: object) -> object:
    url = world.authorize_url()
    page = world.client.get(url)
    data: dict[str, object] = {
        "csrf": _csrf(page.text),
        "decision": "approve",
        "service": [str(i) for i in world.alice_points],
        "group": ["electric", "gas"],
        "end": "revoke",
    }
    data.update(fields)
    return world.client.post(url, data=data, follow_redirects=False)


def test_consent_with_ten_thousand_repeated_fields_is_a_page(world: World) -> None:
    world.login()
    assert_sentence_page(consent_post(world, service=["1"] * 10_000))


def test_consent_without_csrf_is_a_page(world: World) -> None:
    world.login()
    r = world.client.post(world.authorize_url(), data={"decision": "approve"})
    assert_sentence_page(r, 403)


def test_consent_with_unknown_service_is_a_page(world: World) -> None:
    world.login()
    assert_sentence_page(consent_post(world, service=[str(world.bob_points[0])]), 400)


def test_consent_history_that_is_not_a_number_is_a_sentence(world: World) -> None:
    world.login()
    assert_sentence_page(consent_post(world, history="abc"), 400)
    assert_sentence_page(consent_post(world, service=["x1"]), 400)
    assert_sentence_page(consent_post(world, service=[str(2**70)]), 400)
    assert_sentence_page(consent_post(world, history=["13", "6"]), 400)


def test_login_with_ten_thousand_fields_is_a_page(world: World) -> None:
    r = world.client.post("/login", data={"username": ["alice"] * 10_000})
    assert_sentence_page(r, 413)
    r = world.client.post("/login", data={"u": ["a"] * 2_000})
    assert_sentence_page(r, 400)


def test_service_choices_follow_the_scope(world: World) -> None:
    with world.factory() as s:
        alice = s.scalars(select(RetailCustomer).where(RetailCustomer.username == "alice")).one()
        kinds = {up.id: up.service_kind for up in customer_usage_points(s, alice.id)}
        assert fb.GAS in kinds.values()
        listed = [
            u
            for c in service_choices(s, alice, espi_scope.parse(NO_GAS))
            for u, _ in c.usage_points
        ]
        assert listed and all(kinds[u] != fb.GAS for u in listed)
        everything = [u for c in service_choices(s, alice) for u, _ in c.usage_points]
        assert sorted(everything) == sorted(kinds)


def test_consent_page_without_fb_10_does_not_list_gas(world: World) -> None:
    world.login()
    page = world.client.get(world.authorize_url(scope=NO_GAS))
    assert page.status_code == 200, page.text
    assert "Natural gas" not in page.text and "Electricity" in page.text
