"""A company's applications on the third-party portal: created in review with the
credentials shown once, every field checked with a sentence, edited, credentials
rotated (the old client secret refused at /oauth/token at once), and another
company's application out of reach (404). SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import html

import pytest
from sqlalchemy import select

from gbconnect.audit.models import AuditEvent
from gbconnect.espi import scope as espi_scope
from gbconnect.oauth import models as om
from gbconnect.oauth.secrets import digest
from gbconnect.registration import models as rm
from tests.factories.world import World, _csrf
from tests.integration.thirdparty_portal.helpers import (
    app_form,
    company,
    csrf,
    register,
    shown,
    sign_in,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def client_token_status(world: World, client_id: str, secret: str) -> int:
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(client_id, secret),
    )
    return r.status_code


def the_app(world: World) -> rm.ApplicationInformation:
    with world.factory() as s:
        return s.scalars(
            select(rm.ApplicationInformation).where(
                rm.ApplicationInformation.company_id.is_not(None)
            )
        ).one()


def test_register_shows_the_credentials_once(portal: World) -> None:
    company(portal)
    status, text = register(portal)
    assert status == 200
    secret = shown(text, "client-secret")
    token = shown(text, "registration-token")
    notify_key = shown(text, "notify-secret")
    app = the_app(portal)
    assert app.client_secret_hash == digest(secret)
    assert app.notify_secret == notify_key
    assert app.data_custodian_status == rm.REVIEW and app.third_party_status == 1
    assert app.client_name == "Acme Insights" and app.portal_uri == "https://acme.example/start"
    assert (app.application_type, app.application_use) == (1, 1)
    assert app.description == "Shows your hourly usage and how to save."
    blocks = espi_scope.parse(app.scopes[0]).function_blocks
    assert {1, 3, 4, 5, 15, 16, 39} <= blocks and 10 not in blocks and 51 not in blocks
    # The secret works at the token endpoint; the registration token reads the
    # application (RFC 7592).
    assert client_token_status(portal, app.client_id, secret) == 200
    r = portal.client.get(
        portal.url(f"/ApplicationInformation/{app.id}"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200
    # Shown once: the application's page has none of them; never cached.
    page = portal.client.get(f"/thirdparty/applications/{app.id}")
    assert secret not in page.text and token not in page.text and notify_key not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "review" in page.text and "development" in page.text
    listing = portal.client.get("/thirdparty/applications").text
    assert "Acme Insights" in listing and "due by" in listing
    with portal.factory() as s:
        (event,) = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "application.created")
        ).all()
        assert event.actor_kind == "third party" and event.target_id == str(app.id)


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"client_name": "   "}, "Enter the application's name."),
        ({"client_name": "n" * 300}, "The name is at most 256 characters."),
        ({"description": "d" * 300}, "at most 256 characters"),
        ({"redirect_uris": ""}, "Enter at least one redirect URI."),
        ({"redirect_uris": "ftp://x.example/cb"}, "must be an absolute http(s) URI"),
        ({"redirect_uris": "https://x.example/cb#frag"}, "must not have a fragment"),
        ({"redirect_uris": "\n".join(f"https://x.example/{i}" for i in range(11))}, "At most 10"),
        ({"notify_uri": "javascript:alert(1)"}, "Notify URI 'javascript:alert(1)' must be"),
        ({"client_uri": "javascript:alert(1)"}, "The website must be an absolute"),
        ({"tos_uri": "not a uri"}, "The terms of service must be"),
        ({"policy_uri": "data:text/html,x"}, "The privacy policy must be"),
        ({"logo_uri": "/relative.png"}, "The logo URI must be"),
        ({"portal_uri": "mailto:a@b.example"}, "The user portal screen URI must be"),
        ({"application_type": "9"}, "Choose the kind of application."),
        ({"application_use": "x"}, "Choose what the application is used for."),
        ({"block": ["fb39"]}, "Choose at least one kind of data."),
        ({"block": ["electric", "fb999"]}, "Choose among the kinds of data and services"),
    ],
)
def test_each_field_is_checked(portal: World, changes: dict[str, object], sentence: str) -> None:
    company(portal)
    status, text = register(portal, **changes)
    assert status == 400, text
    assert sentence in html.unescape(text)
    # The values typed are kept.
    if "client_name" not in changes:
        assert 'value="Acme Insights"' in text
    with portal.factory() as s:
        assert (
            s.scalars(
                select(rm.ApplicationInformation.id).where(
                    rm.ApplicationInformation.company_id.is_not(None)
                )
            ).all()
            == []
        )


def test_edit_saves_every_field_and_narrows_only(portal: World) -> None:
    company(portal)
    register(portal)
    app = the_app(portal)
    form = portal.client.get(f"/thirdparty/applications/{app.id}/edit")
    assert form.status_code == 200 and "Acme Insights" in form.text
    data = app_form(
        client_name="Acme Insights 2",
        description="New words.",
        redirect_uris="https://tp.example.com/callback\nhttps://tp.example.com/other",
        tos_uri="",
        application_type="3",
        application_use="2",
        block=["electric"],
    )
    data["csrf"] = _csrf(form.text)
    r = portal.client.post(
        f"/thirdparty/applications/{app.id}/edit", data=data, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    after = the_app(portal)
    assert after.client_name == "Acme Insights 2" and after.description == "New words."
    assert after.redirect_uris == [
        "https://tp.example.com/callback",
        "https://tp.example.com/other",
    ]
    assert after.tos_uri is None and (after.application_type, after.application_use) == (3, 2)
    assert 15 not in espi_scope.parse(after.scopes[0]).function_blocks
    # Widening is refused with a sentence.
    data["block"] = ["electric", "gas"]
    data["csrf"] = csrf(portal.client, f"/thirdparty/applications/{app.id}/edit")
    r = portal.client.post(f"/thirdparty/applications/{app.id}/edit", data=data)
    assert r.status_code == 400 and "can only be narrowed" in r.text
    # A bad field on edit: a sentence, nothing saved.
    data.update(block=["electric"], client_uri="javascript:x")
    r = portal.client.post(f"/thirdparty/applications/{app.id}/edit", data=data)
    assert r.status_code == 400 and "The website must be" in r.text
    assert the_app(portal).client_uri == "https://acme.example"


def test_rotation_refuses_the_old_secret_at_once(portal: World) -> None:
    company(portal)
    _, text = register(portal)
    old = shown(text, "client-secret")
    old_token = shown(text, "registration-token")
    old_key = shown(text, "notify-secret")
    app = the_app(portal)
    page = f"/thirdparty/applications/{app.id}"
    r = portal.client.post(f"{page}/rotate/client-secret", data={"csrf": csrf(portal.client, page)})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    new = shown(r.text, "client-secret")
    assert new != old
    assert client_token_status(portal, app.client_id, old) == 401
    assert client_token_status(portal, app.client_id, new) == 200

    r = portal.client.post(
        f"{page}/rotate/registration-token", data={"csrf": csrf(portal.client, page)}
    )
    new_token = shown(r.text, "registration-token")
    info = portal.url(f"/ApplicationInformation/{app.id}")
    assert portal.client.get(
        info, headers={"Authorization": f"Bearer {old_token}"}
    ).status_code in (401, 403)
    assert (
        portal.client.get(info, headers={"Authorization": f"Bearer {new_token}"}).status_code == 200
    )

    r = portal.client.post(f"{page}/rotate/notify-secret", data={"csrf": csrf(portal.client, page)})
    new_key = shown(r.text, "notify-secret")
    after = the_app(portal)
    assert after.notify_secret == new_key and after.notify_secret_previous == old_key

    r = portal.client.post(f"{page}/rotate/everything", data={"csrf": csrf(portal.client, page)})
    assert r.status_code == 404
    r = portal.client.post(f"{page}/rotate/client-secret", data={"csrf": "forged"})
    assert r.status_code == 403
    with portal.factory() as s:
        rotated = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "credential.rotated")
        ).all()
        assert [e.details["credential"] for e in rotated] == [  # type: ignore[index]
            "client-secret",
            "registration-token",
            "notify-secret",
        ]
        assert all(e.actor_kind == "third party" for e in rotated)
        assert (
            s.scalars(select(om.Token).where(om.Token.token_hash == digest(old_token)))
            .one()
            .revoked_at
            is not None
        )


def test_another_companys_application_is_not_found(portal: World) -> None:
    company(portal)
    register(portal)
    app = the_app(portal)
    portal.client.cookies.clear()
    company(portal, "other@rival.example")
    base = f"/thirdparty/applications/{app.id}"
    token = csrf(portal.client, "/thirdparty/applications")
    for path in (base, f"{base}/edit", f"{base}/production"):
        r = portal.client.get(path)
        assert r.status_code == 404 and "There is no such application." in r.text
    for path in (
        f"{base}/edit",
        f"{base}/rotate/client-secret",
        f"{base}/connectivity",
        f"{base}/notifications/replay",
    ):
        r = portal.client.post(path, data={"csrf": token, "client_secret": "x"})
        assert r.status_code == 404, path
    # The CLI's application (no company) and ids that are no ids.
    for key in (str(portal.app_id), "abc", "99999999999999999999", "-1"):
        assert portal.client.get(f"/thirdparty/applications/{key}").status_code == 404
    assert "Acme Insights" not in portal.client.get("/thirdparty/applications").text
    assert the_app(portal).client_secret_hash == app.client_secret_hash


def test_logo_upload(portal: World) -> None:
    company(portal)
    register(portal)
    app = the_app(portal)
    page = f"/thirdparty/applications/{app.id}"
    token = csrf(portal.client, page)
    r = portal.client.post(
        f"{page}/logo",
        data={"csrf": token},
        files={"logo": ("logo.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with portal.factory() as s:
        logo = s.get(rm.ApplicationLogo, app.id)
        assert logo is not None and logo.content_type == "image/png"
    r = portal.client.post(
        f"{page}/logo", data={"csrf": token}, files={"logo": ("x.svg", b"<svg/>", "image/svg+xml")}
    )
    assert r.status_code == 400 and "not a PNG, JPEG, GIF or WebP" in r.text
    r = portal.client.post(
        f"{page}/logo",
        data={"csrf": token},
        files={"logo": ("big.png", PNG + b"0" * 300_000, "image/png")},
    )
    assert r.status_code == 400 and "larger than" in r.text
    r = portal.client.post(
        f"{page}/logo", data={"csrf": "forged"}, files={"logo": ("l.png", PNG, "image/png")}
    )
    assert r.status_code == 403
    r = portal.client.post(
        f"{page}/logo",
        content=b"--x\r\nbroken",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert r.status_code in (400, 403)


def test_signed_out_cannot_post(portal: World) -> None:
    r = portal.client.post("/thirdparty/applications/new", data={"csrf": "x"})
    assert r.status_code == 403
    token = csrf(portal.client, "/thirdparty/login")
    r = portal.client.post(
        "/thirdparty/applications/new", data={"csrf": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/thirdparty/login"
    assert sign_in(portal.client) == 401
