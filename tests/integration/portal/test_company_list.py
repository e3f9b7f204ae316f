"""The companies a customer can share with, as the list shows them (STANDARD.md
section 7): name, logo, description, website, privacy policy and terms from their
ApplicationInformation (espi.xsd ``thirdPartyApplicationDescription``); logos kept and
served by the utility (gbconnect.registration.logos), fetched from ``logo_uri`` by the
worker's hook from a real local HTTP server. SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from gbconnect.oauth import models as om
from gbconnect.oauth import services
from gbconnect.registration import logos
from gbconnect.registration import models as rm
from tests.factories.world import World

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PORTAL = "https://thirdparty.example/start"


@contextlib.contextmanager
def files(folder: Path) -> Iterator[str]:
    """A real HTTP server on a loopback port serving ``folder``; its base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def listed(world: World, **fields: Any) -> None:
    """Solar Helper approved, with a portal screen and ``fields``."""
    with world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        app.portal_uri = PORTAL
        app.data_custodian_status = rm.PRODUCTION
        for name, value in fields.items():
            setattr(app, name, value)
        s.commit()


def test_the_list_shows_description_logo_and_links(world: World) -> None:
    listed(
        world,
        description="Tells you when your solar panels need cleaning.",
        client_uri="https://solar.example/",
        policy_uri="javascript:alert(1)",
        tos_uri="https://solar.example/terms",
    )
    world.login()
    page = world.client.get("/account/share").text
    assert "Tells you when your solar panels need cleaning." in page
    assert 'href="https://solar.example/"' in page and 'href="https://solar.example/terms"' in page
    assert "javascript:" not in page  # only http(s) links
    assert "/logo" not in page  # none kept yet
    with world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        logos.store(s, app, logos.check(PNG), logos.FROM_FILE)
        s.commit()
    page = world.client.get("/account/share").text
    assert f'<img class="logo" src="/companies/{world.app_id}/logo" alt=""' in page
    # The logo is served from here, as an image that can run nothing.
    r = world.client.get(f"/companies/{world.app_id}/logo")
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]


def test_a_logo_is_served_only_for_an_approved_company(world: World) -> None:
    with world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        logos.store(s, app, logos.check(PNG), logos.FROM_FILE)
        app.data_custodian_status = rm.ON_HOLD
        s.commit()
    assert world.client.get(f"/companies/{world.app_id}/logo").status_code == 404
    for path in ("/companies/1/logo", "/companies/99999999999999999999/logo", "/companies/x/logo"):
        assert world.client.get(path).status_code == 404, path


def test_the_worker_fetches_logos_from_logo_uri(world: World, tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(PNG)
    (tmp_path / "logo.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "huge.png").write_bytes(PNG + b"\x00" * logos.MAX_BYTES)
    settings = world.settings.model_copy(update={"notify_allow_private": True})
    with files(tmp_path) as base:
        listed(world, logo_uri=f"{base}/logo.png")
        now = time.time()
        assert logos.refresh_logos(world.factory, settings, now) == 1
        with world.factory() as s:
            row = s.get(rm.ApplicationLogo, world.app_id)
            assert row is not None and row.data == PNG and row.content_type == "image/png"
            assert row.source == f"{base}/logo.png" and row.error is None
        # Fresh: not fetched again until MAX_AGE has passed.
        assert logos.refresh_logos(world.factory, settings, now + 60) == 0
        # A new logo_uri is fetched at once; what cannot be kept is refused with a
        # reason, and the logo fetched before stays.
        for name, reason in (
            ("logo.svg", "not a PNG"),
            ("huge.png", "larger than 256 KB"),
            ("missing.png", "HTTP 404"),
        ):
            listed(world, logo_uri=f"{base}/{name}")
            assert logos.refresh_logos(world.factory, settings, now + 120) == 1
            with world.factory() as s:
                row = s.get(rm.ApplicationLogo, world.app_id)
                assert row is not None and row.error and reason in row.error, (name, row.error)
                assert row.data == PNG
        # Outside development, a logo URI on a private address is not fetched (SSRF).
        strict = world.settings.model_copy(update={"notify_allow_private": False})
        listed(world, logo_uri=f"{base}/logo.png")
        with world.factory() as s:
            s.get(rm.ApplicationLogo, world.app_id).source = "elsewhere"  # type: ignore[union-attr]
            s.commit()
        assert logos.refresh_logos(world.factory, strict, now + 180) == 1
        with world.factory() as s:
            row = s.get(rm.ApplicationLogo, world.app_id)
            assert row is not None and "loopback" in (row.error or "")
    # A logo set from a file is the utility's choice: never replaced by a fetch.
    with world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        logos.store(s, app, logos.check(PNG), logos.FROM_FILE)
        app.logo_uri = "https://elsewhere.example/logo.png"
        s.commit()
    assert logos.refresh_logos(world.factory, settings, now + 10**6) == 0


def _invite(world: World) -> str:
    with world.factory() as s:
        value, _ = services.issue_token(
            s,
            kind="access",
            token_class=om.INITIAL,
            application_id=None,
            authorization_id=None,
            scope="FB=36",
            lifetime=600,
        )
        s.commit()
    return value


METADATA: dict[str, Any] = {
    "client_name": "Grid Insights",
    "redirect_uris": ["https://grid.example/cb"],
    "scope": "FB=1_3_4_5_13_14_39;IntervalDuration=900;HistoryLength=12",
    "thirdPartyApplicationDescription": "  Hourly   tips to use less at peak times. ",
}


def test_the_description_is_registered_read_and_changed(world: World) -> None:
    c = world.client
    r = c.post(
        "/oauth/register", json=METADATA, headers={"Authorization": f"Bearer {_invite(world)}"}
    )
    assert r.status_code == 201, r.text
    reg = r.json()
    assert reg["thirdPartyApplicationDescription"] == "Hourly tips to use less at peak times."
    uri = reg["registration_client_uri"].replace(world.settings.base_url, "")
    rat = {"Authorization": f"Bearer {reg['registration_access_token']}"}
    update = {**METADATA, "client_id": reg["client_id"], "thirdPartyApplicationDescription": "New"}
    r = c.put(uri, json=update, headers=rat)
    assert r.status_code == 200, r.text
    assert r.json()["thirdPartyApplicationDescription"] == "New"
    # The ApplicationInformation document carries it, in the schema's place.
    with world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        app.description = "Solar panels, watched."
        s.commit()
    doc = c.get(
        world.url(f"/ApplicationInformation/{world.app_id}"),
        headers={"Authorization": f"Bearer {world.registration_token}"},
    )
    assert doc.status_code == 200, doc.text
    root = etree.fromstring(doc.content)
    names = [etree.QName(e).localname for e in root.iter("{*}*")]
    assert names.index("thirdPartyApplicationDescription") == (
        names.index("dataCustodianApplicationStatus") + 1
    )
    assert b"Solar panels, watched." in doc.content


@pytest.mark.parametrize(
    "description",
    ["x" * 257, "line\u0000break", 42, ["a"]],
)
def test_a_bad_description_is_refused(world: World, description: object) -> None:
    body = {**METADATA, "thirdPartyApplicationDescription": description}
    r = world.client.post(
        "/oauth/register", json=body, headers={"Authorization": f"Bearer {_invite(world)}"}
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_client_metadata"
    assert "thirdPartyApplicationDescription" in r.json()["error_description"]
