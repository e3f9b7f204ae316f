"""Share My Data from the utility's side (STANDARD.md section 7): the approved
companies, the choices, the redirect to the company's portal screen with PG&E's
``scope`` and ``ThirdPartyID``, and the consent page filled with those choices.
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from gbconnect.espi import scope as espi_scope
from gbconnect.oauth import models as om
from gbconnect.registration import models as rm
from tests.factories.parties import make_third_party
from tests.factories.world import World, _csrf

PORTAL = "https://thirdparty.example/start?from=utility"


def with_portal(world: World, uri: str | None = PORTAL, status: int = rm.PRODUCTION) -> None:
    with world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        app.portal_uri = uri
        app.data_custodian_status = status
        s.commit()


def choose(world: World, **form: object) -> tuple[int, str, str]:
    """Submit the share form; (status, Location, page text)."""
    page = world.client.get(f"/account/share/{world.app_id}")
    assert page.status_code == 200, page.text
    data: dict[str, object] = {
        "csrf": _csrf(page.text),
        "group": ["electric", "billing"],
        "service": [str(world.alice_points[0])],
        "end": "revoke",
    }
    data.update(form)
    r = world.client.post(f"/account/share/{world.app_id}", data=data, follow_redirects=False)
    return r.status_code, r.headers.get("location", ""), r.text


def checked(html: str, name: str) -> set[str]:
    return set(re.findall(rf'name="{name}" value="([^"]+)" checked', html))


def test_the_list_holds_only_approved_companies_with_a_portal_screen(world: World) -> None:
    with world.factory() as s:
        make_third_party(s, world.settings, name="Not Yet Approved", approve=False)
        s.commit()
    world.login()
    assert world.client.get("/account/share").status_code == 200
    assert "Solar Helper" not in world.client.get("/account/share").text  # no portal screen
    with_portal(world)
    page = world.client.get("/account/share").text
    assert "Share with Solar Helper" in page and "Not Yet Approved" not in page
    with_portal(world, status=rm.ON_HOLD)
    assert "Solar Helper" not in world.client.get("/account/share").text
    assert world.client.get(f"/account/share/{world.app_id}").status_code == 404


def test_signed_out_goes_to_the_login(world: World) -> None:
    r = world.client.get("/account/share", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_unknown_or_unlisted_companies_are_not_found(world: World) -> None:
    world.login()
    assert world.client.get(f"/account/share/{world.app_id}").status_code == 404
    assert world.client.get("/account/share/12345").status_code == 404
    assert world.client.get("/account/share/abc").status_code == 404
    assert world.client.get("/account/share/" + "9" * 30).status_code == 404


def test_the_choices_send_the_customer_to_the_company_with_the_narrowed_scope(
    world: World,
) -> None:
    with_portal(world)
    world.login()
    status, location, _ = choose(world)
    assert status == 303
    assert location.startswith(PORTAL + "&")
    query = parse_qs(urlsplit(location).query)
    assert query["ThirdPartyID"] == [world.client_id] and query["from"] == ["utility"]
    scope = espi_scope.parse(query["scope"][0])
    # The gas and account groups were unticked: their blocks are gone.
    assert 10 not in scope.function_blocks and 51 not in scope.function_blocks
    assert {1, 4, 5} <= scope.function_blocks


def test_the_consent_page_opens_with_the_choices_and_grants_them(world: World) -> None:
    with_portal(world)
    world.login()
    _, location, _ = choose(world, history="", end="date", end_date="2099-06-30")
    scope = parse_qs(urlsplit(location).query)["scope"][0]
    # The company starts the ordinary authorization-code request with that scope.
    url = world.authorize_url(scope=scope)
    page = world.client.get(url)
    assert page.status_code == 200
    assert 'id="chosen"' in page.text
    assert checked(page.text, "service") == {str(world.alice_points[0])}
    assert 'name="end_date" value="2099-06-30"' in page.text
    query = world.consent(
        url,
        service=[str(world.alice_points[0])],
        end="date",
        end_date="2099-06-30",
        group=["electric", "billing"],
    )
    assert "code" in query
    with world.factory() as s:
        auth = s.scalars(
            select(om.Authorization).where(
                om.Authorization.status == om.ACTIVE,
                om.Authorization.retail_customer_id.is_not(None),
            )
        ).one()
        assert (
            espi_scope.parse(auth.scope).function_blocks == espi_scope.parse(scope).function_blocks
        )
    # Used once: the next consent page for this company is not pre-filled.
    again = world.client.get(world.authorize_url(scope=scope))
    assert 'id="chosen"' not in again.text


def test_a_bad_choice_is_explained_and_what_was_typed_kept(world: World) -> None:
    with_portal(world)
    world.login()
    status, _, text = choose(world, service=[], group=["electric"])
    assert status == 400
    assert "Choose at least one service to share." in text
    assert checked(text, "group") == {"electric"}
    status, _, text = choose(world, end="date", end_date="1999-01-01")
    assert status == 400 and "The end date must be after today." in text
    assert 'value="1999-01-01"' in text
    status, _, text = choose(world, service=[str(world.bob_points[0])])
    assert status == 400 and "not one of yours" in text
    status, _, text = choose(world, group=["nonsense"])
    assert status == 400


def test_a_forged_form_is_refused(world: World) -> None:
    with_portal(world)
    world.login()
    r = world.client.post(
        f"/account/share/{world.app_id}",
        data={"csrf": "forged", "group": ["electric"], "service": [str(world.alice_points[0])]},
        follow_redirects=False,
    )
    assert r.status_code == 403
