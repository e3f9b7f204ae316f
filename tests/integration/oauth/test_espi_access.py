"""ESPI Connect My Data resources and who may call them: FND, MGA, MGT, OFA, and the
authorization matrix generated from the token classes each route declares
(web.access).
Every served document is validated against the ESPI 4.0 and Atom schemas."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select, update
from starlette.routing import Match

from gbconnect.oauth import models as om
from gbconnect.resource import now
from gbconnect.web.access import espi_routes
from tests.factories.world import World
from tests.shared import shared_path


@cache
def schema() -> etree.XMLSchema:
    """atom.xsd + espi.xsd, with atom.xsd's import of xml.xsd resolved offline."""
    xsd = shared_path("espi", "xsd")
    xml_xsd = (xsd / "w3c" / "xml.xsd").resolve().as_uri()
    atom = (xsd / "4.0" / "atom.xsd").resolve().as_uri()
    espi = (xsd / "4.0" / "espi.xsd").resolve().as_uri()
    customer = (xsd / "4.0" / "customer.xsd").resolve().as_uri()
    wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
      <xs:import namespace="http://www.w3.org/XML/1998/namespace" schemaLocation="{xml_xsd}"/>
      <xs:import namespace="http://www.w3.org/2005/Atom" schemaLocation="{atom}"/>
      <xs:import namespace="http://naesb.org/espi" schemaLocation="{espi}"/>
      <xs:import namespace="http://naesb.org/espi/customer" schemaLocation="{customer}"/>
    </xs:schema>"""

    class Offline(etree.Resolver):
        def resolve(self, url, pubid, context):  # type: ignore[no-untyped-def,override]
            if url.startswith("http://www.w3.org/2001/xml.xsd"):
                return self.resolve_filename(str(xsd / "w3c" / "xml.xsd"), context)
            return None

    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(Offline())
    return etree.XMLSchema(etree.fromstring(wrapper.encode(), parser, base_url=str(xsd) + "/"))


def valid(body: bytes) -> etree._Element:
    doc = etree.fromstring(body)
    schema().assertValid(doc)
    return doc


def bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


NS = {"a": "http://www.w3.org/2005/Atom", "e": "http://naesb.org/espi"}


def test_fnd002_application_information_with_registration_token(world: World) -> None:
    r = world.client.get(
        world.url(f"/ApplicationInformation/{world.app_id}"),
        headers=bearer(world.registration_token),
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    doc = valid(r.content)
    assert doc.findtext(".//e:client_id", namespaces=NS) == world.client_id
    assert doc.findtext(".//e:client_secret", namespaces=NS) in (None, "")
    assert world.client_secret.encode() not in r.content
    admin = world.client.get(
        world.url("/ApplicationInformation"), headers=bearer(world.admin_token)
    )
    assert len(valid(admin.content).findall("a:entry", NS)) == 1


def test_fnd003_fnd004_authorization_feed_and_entry_with_client_token(world: World) -> None:
    tokens = world.code_tokens()
    client = world.client_token()
    feed = world.client.get(world.url("/Authorization"), headers=bearer(client))
    doc = valid(feed.content)
    entries = doc.findall("a:entry", NS)
    assert len(entries) == 2  # the customer's grant and the client-credentials one
    uri = str(tokens["authorizationURI"])
    path = uri[uri.index(world.settings.resource_base) :]
    one = world.client.get(path, headers=bearer(client))
    entry = valid(one.content)
    assert entry.findtext(".//e:status", namespaces=NS) == "1"
    assert entry.findtext(".//e:scope", namespaces=NS) == tokens["scope"]
    assert entry.findtext(".//e:resourceURI", namespaces=NS) == tokens["resourceURI"]


def test_fnd006_read_service_status(world: World) -> None:
    r = world.client.get(world.url("/ReadServiceStatus"), headers=bearer(world.client_token()))
    assert valid(r.content).findtext("e:currentStatus", namespaces=NS) == "1"


def test_mga001_mga002_third_party_revokes_by_put_and_delete(world: World) -> None:
    tokens = world.code_tokens()
    client = world.client_token()
    uri = str(tokens["authorizationURI"])
    path = uri[uri.index(world.settings.resource_base) :]
    bad = world.client.put(path, content=b"<notxml", headers=bearer(client))
    assert bad.status_code == 400
    body = b'<Authorization xmlns="http://naesb.org/espi"><status>0</status></Authorization>'
    r = world.client.put(path, content=body, headers=bearer(client))
    assert r.status_code == 200 and valid(r.content).findtext(".//e:status", namespaces=NS) == "0"
    # The customer's token fails at once.
    r = world.client.get(world.url("/ReadServiceStatus"), headers=bearer(tokens["access_token"]))
    assert r.status_code == 401
    second = world.code_tokens()
    uri = str(second["authorizationURI"])
    r = world.client.delete(uri[uri.index(world.settings.resource_base) :], headers=bearer(client))
    assert r.status_code == 204


def test_mga003_mgt003_other_token_classes_cannot_manage(world: World) -> None:
    tokens = world.code_tokens()
    uri = str(tokens["authorizationURI"])
    path = uri[uri.index(world.settings.resource_base) :]
    for headers, status in (
        ({}, 401),
        (bearer(world.registration_token), 403),
        (bearer(tokens["access_token"]), 403),
    ):
        assert world.client.delete(path, headers=headers).status_code == status
    app = world.url(f"/ApplicationInformation/{world.app_id}")
    for headers, status in (
        ({}, 401),
        (bearer(world.client_token()), 403),
        (bearer(tokens["access_token"]), 403),
    ):
        assert world.client.delete(app, headers=headers).status_code == status


def test_mgt002_third_party_withdraws_its_registration(world: World) -> None:
    client = world.client_token()
    app = world.url(f"/ApplicationInformation/{world.app_id}")
    assert world.client.delete(app, headers=bearer(world.registration_token)).status_code == 204
    assert (
        world.client.get(world.url("/ReadServiceStatus"), headers=bearer(client)).status_code == 401
    )
    r = world.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=world.basic()
    )
    assert r.status_code == 401


def test_ofa001_offline_authorization_by_operator(
    world: World, db_url: str, tmp_path: Path
) -> None:
    env_db = ["--database-url", db_url]
    cmd = [sys.executable, "-c", "from gbconnect.cli import main; main()"]
    out = subprocess.run(
        [
            *cmd,
            *env_db,
            "authorization",
            "create",
            "--client-id",
            world.client_id,
            "--customer",
            "alice",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    assert data["offline"] is True and data["status"] == "active"
    path = data["authorizationURI"][data["authorizationURI"].index(world.settings.resource_base) :]
    r = world.client.get(path, headers=bearer(world.admin_token))
    assert valid(r.content).findtext(".//e:resourceURI", namespaces=NS) == data["resourceURI"]
    listed = subprocess.run(
        [*cmd, *env_db, "authorization", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert [a["authorization_id"] for a in json.loads(listed.stdout)] == [data["authorization_id"]]
    revoked = subprocess.run(
        [*cmd, *env_db, "authorization", "revoke", str(data["authorization_id"]), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(revoked.stdout)["status"] == "revoked"
    refused = subprocess.run(
        [
            *cmd,
            *env_db,
            "authorization",
            "create",
            "--client-id",
            world.client_id,
            "--customer",
            "alice",
            "--scope",
            "FB=1_4_5_51",
        ],
        capture_output=True,
        text=True,
    )
    assert (
        refused.returncode == 1 and "wider" in refused.stderr and "Traceback" not in refused.stderr
    )


def test_an_offline_authorization_ends_after_its_last_day_in_the_utilitys_zone(
    world: World, db_url: str
) -> None:
    """``--end 2099-06-30`` includes all of 30 June where the utility is, as the
    consent page stores an end date."""
    from datetime import date

    from gbconnect.oauth import models as om
    from gbconnect.portal.consent import end_of_day, last_included_day

    cmd = [sys.executable, "-c", "from gbconnect.cli import main; main()"]
    out = subprocess.run(
        [
            *cmd,
            "--database-url",
            db_url,
            "authorization",
            "create",
            "--client-id",
            world.client_id,
            "--customer",
            "alice",
            "--end",
            "2099-06-30",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    auth_id = json.loads(out.stdout)["authorization_id"]
    with world.factory() as s:
        auth = s.get(om.Authorization, auth_id)
        assert auth is not None and auth.authorized_end is not None
        assert auth.authorized_end == end_of_day(date(2099, 6, 30), world.settings.zone)
        assert last_included_day(auth.authorized_end, world.settings.zone) == date(2099, 6, 30)


# -- the matrix ---------------------------------------------------------------------------

CREDENTIALS = [
    "none",
    "malformed",
    "unknown",
    "expired",
    "revoked",
    "customer",
    "client",
    "registration",
    "admin",
    "upload",
]
CLASS_OF = {"customer": "A", "client": "C", "registration": "R", "admin": "DC", "upload": "U"}


def _credentials(world: World) -> dict[str, dict[str, str]]:
    tokens = world.code_tokens()
    client = world.client_token()
    expired = world.client_token()
    revoked = world.client_token()
    with world.factory() as s:
        s.execute(
            update(om.Token)
            .where(om.Token.token_hash == _hash(expired))
            .values(expires_at=now() - 5)
        )
        s.execute(
            update(om.Token).where(om.Token.token_hash == _hash(revoked)).values(revoked_at=now())
        )
        s.commit()
    return {
        "none": {},
        "malformed": {"Authorization": "Bearer a b c"},
        "unknown": bearer("x" * 43),
        "expired": bearer(expired),
        "revoked": bearer(revoked),
        "customer": bearer(tokens["access_token"]),
        "client": bearer(client),
        "registration": bearer(world.registration_token),
        "admin": bearer(world.admin_token),
        "upload": bearer(world.upload_token),
    }


def _hash(value: str) -> str:
    from gbconnect.oauth.secrets import digest

    return digest(value)


def fill(world: World, route: str) -> str:
    """A concrete path of ``route`` naming the customer grant's own resources."""
    from gbconnect.registration.models import ApplicationInformation
    from gbconnect.usage import models as um

    with world.factory() as s:
        auth = s.scalars(
            select(om.Authorization).where(
                om.Authorization.token_class == "A", om.Authorization.status == 1
            )
        ).first()
        assert auth is not None and auth.subscription is not None
        up = world.alice_points[0]
        mr = s.scalars(select(um.MeterReading).where(um.MeterReading.usage_point_id == up)).first()
        assert mr is not None
        block = s.scalars(
            select(um.IntervalBlock.id)
            .where(um.IntervalBlock.meter_reading_id == mr.id)
            .order_by(um.IntervalBlock.start.desc())
        ).first()
        summary = s.scalars(select(um.UsageSummary.id)).first()
        quality = s.scalars(select(um.ElectricPowerQualitySummary.id)).first()
        ltp = s.scalars(select(um.LocalTimeParameters.id)).first()
        app = s.get(ApplicationInformation, world.app_id)
        assert app is not None
        ids = {
            "/ApplicationInformation/": world.app_id,
            "/Authorization/": auth.id,
            "/Batch/Subscription/": auth.subscription.id,
            "/Subscription/": auth.subscription.id,
            "/Batch/Bulk/": app.bulk_id,
            "/Batch/BulkRetailCustomerInfo/": app.bulk_id,
            "/Batch/RetailCustomer/": auth.retail_customer_id,
            "/RetailCustomer/": auth.retail_customer_id,
            "/ReadingType/": mr.reading_type_id,
            "/LocalTimeParameters/": ltp,
            # A package is read only by the token that asked for it: no package here,
            # so the admitted classes get 404 (test_batches.py reads real ones).
            "/Batch/Package/": 1,
        }
        mr_id = mr.id
        from gbconnect.customer import models as cm

        records = {
            kind: s.scalars(select(getattr(cm, kind).id)).first()
            for kind in ("CustomerAccount", "CustomerAgreement", "ServiceLocation", "Meter")
        }
        ids["/Customer/"] = auth.subscription.id
        ids.update(
            {
                "/UsagePoint/": up,
                "/MeterReading/": mr.id,
                "/IntervalBlock/": block,
                "/UsageSummary/": summary,
                "/ElectricPowerQualitySummary/": quality,
            }
        )
    if route == "/Batch/RetailCustomer/{id}":  # customer records: a subscription id
        return route.replace("{id}", str(ids["/Customer/"]))
    if route.startswith("/Customer/") and "{id2}" in route:
        kind = route.split("/")[3]
        return route.replace("{id}", str(ids["/Customer/"])).replace("{id2}", str(records[kind]))
    first = next((v for k, v in ids.items() if route.startswith(k)), "")
    third = {"MeterReading": mr_id, "UsageSummary": summary, "ElectricPowerQualitySummary": quality}
    kind = next((k for k in third if f"/{k}/{{id3}}" in route), "MeterReading")
    return (
        route.replace("{id}", str(first))
        .replace("{id2}", str(up))
        .replace("{id3}", str(third[kind]))
        .replace("{id4}", str(block))
    )


def declared_access(world: World) -> dict[tuple[str, str], frozenset[str]]:
    """(method, path under the resource base, its ids named ``{id}``, ``{id2}``...) ->
    the token classes the route declares, read from the application's routes."""
    base = world.settings.resource_base.rstrip("/")
    table = {}
    for route in espi_routes(world.client.app.routes):  # type: ignore[attr-defined]
        path = route.path_format.removeprefix(base)
        for n, name in enumerate(route.param_convertors, start=1):
            path = path.replace("{" + name + "}", "{id}" if n == 1 else f"{{id{n}}}")
        for method in (route.methods or set()) - {"HEAD"}:
            table[(method, path)] = route.allow
    return table


#: Elements whose text is a link to a resource of ours.
LINK_ELEMENTS = (
    "{http://naesb.org/espi}resourceURI",
    "{http://naesb.org/espi}authorizationURI",
    "{http://naesb.org/espi}customerResourceURI",
    "{http://naesb.org/espi}dataCustodianBulkRequestURI",
    "{http://naesb.org/espi}registration_client_uri",
    "{http://naesb.org/espi/customer}UsagePoint",
)
#: Whom a link is followed with when the reader's own token class may not: the first
#: of these the linked route admits.
ENTITLED = ("customer", "admin", "upload", "client", "registration")


def links(doc: etree._Element) -> set[str]:
    """Every href of a document: Atom links (self, up, related) and the ESPI elements
    naming resources."""
    found = {str(x.get("href")) for x in doc.iter("{http://www.w3.org/2005/Atom}link")}
    for tag in LINK_ELEMENTS:
        found.update(str(x.text).strip() for x in doc.iter(tag) if x.text)
    return found


def follow(
    world: World, doc: etree._Element, reader: str, creds: dict[str, dict[str, str]], seen: set
) -> None:
    """Follow every link of ``doc`` (received by ``reader``) with the reader's token,
    or, where the linked route does not admit the reader's class, with a token of a
    class it admits: each must be served (200, a valid body)."""
    base = world.settings.resource_base.rstrip("/")
    routes = list(espi_routes(world.client.app.routes))  # type: ignore[attr-defined]
    for href in sorted(links(doc)):
        assert base in href, href
        path = href[href.index(base) :]
        scope = {"type": "http", "path": path, "method": "GET"}
        admitted = next((r.allow for r in routes if r.matches(scope)[0] == Match.FULL), None)
        assert admitted is not None, f"{href} (in a document {reader} read) leads nowhere"
        name = reader if CLASS_OF[reader] in admitted else None
        if name == "client" and "/Batch/Subscription/" in path:
            name = None  # a customer's grant: read with the customer's token (OAD010)
        name = name or next(n for n in ENTITLED if CLASS_OF[n] in admitted)
        if (path, name) in seen:
            continue
        seen.add((path, name))
        r = world.client.get(path, headers=creds[name])
        assert r.status_code == 200, (href, reader, name, r.text)
        valid(r.content)


def test_authorization_matrix(world: World) -> None:
    """Every route of the table x every credential: the expected status, and no data
    in a refused response. Mutating routes are probed with refused credentials only.
    Every link of every document received is followed and must be served."""
    creds = _credentials(world)
    seen: set[tuple[str, str]] = set()
    for (method, route), allowed in declared_access(world).items():
        path = world.url(fill(world, route))
        for name in CREDENTIALS:
            cls = CLASS_OF.get(name)
            if cls is None:
                expected = 401
            elif cls in allowed:
                if method != "GET":
                    continue  # allowed mutations are tested by name above
                expected = 404 if route == "/Batch/Package/{id}" else 200
                if name == "client" and route.startswith("/Batch/Subscription/"):
                    # GBA OAD010: only an offline authorization's (OFA001) is read with
                    # a client token; the world's subscription is a customer's grant.
                    expected = 403
            else:
                expected = 403
            r = world.client.request(
                method, path, headers=creds[name], content=b"<x/>" if method == "PUT" else None
            )
            assert r.status_code == expected, (method, route, name, r.text)
            if expected != 200:
                assert b"<" not in r.content and world.client_id.encode() not in r.content
                assert expected != 404 or r.json()["error"] == "not_found"
            elif route == "/DownloadSampleData":
                valid(r.content)  # a sample: its hrefs name a tree of its own
            else:
                follow(world, valid(r.content), name, creds, seen)


def test_another_third_partys_authorization_is_not_found(world: World) -> None:
    from gbconnect.oauth.clients import register

    tokens = world.code_tokens()
    with world.factory() as s:
        other = register(
            s, world.settings, name="Other", redirect_uris=["https://o.example/cb"], approve=True
        )
        s.commit()
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=world.basic(other.application.client_id, other.client_secret),
    )
    token = r.json()["access_token"]
    uri = str(tokens["authorizationURI"])
    path = uri[uri.index(world.settings.resource_base) :]
    assert world.client.get(path, headers=bearer(token)).status_code == 404
    assert (
        world.client.get(
            world.url(f"/ApplicationInformation/{world.app_id}"),
            headers=bearer(other.registration_access_token),
        ).status_code
        == 404
    )


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer " + "x" * 600, "bearer\x00"])
def test_odd_authorization_headers_are_401(world: World, header: str) -> None:
    r = world.client.get(world.url("/ReadServiceStatus"), headers={"Authorization": header})
    assert r.status_code == 401


def test_no_resource_route_is_missing_from_the_access_table(world: World) -> None:
    """A new ESPI route must declare who may call it, or this test fails."""
    from starlette.routing import BaseRoute, Route

    from gbconnect.api.routes import unknown_resource

    base = world.settings.resource_base.rstrip("/")
    import re

    declared = {(m, base + re.sub(r"\{[a-z0-9]+\}", "{x}", p)) for m, p in declared_access(world)}
    assert all(route.allow for route in espi_routes(world.client.app.routes))  # type: ignore[attr-defined]
    found = set()

    def leaves(routes: list[BaseRoute]) -> list[BaseRoute]:
        inner = [getattr(r, "original_router", None) for r in routes]
        return [
            leaf
            for r, router in zip(routes, inner, strict=True)
            for leaf in ([r] if router is None else leaves(router.routes))
        ]

    for route in leaves(world.client.app.routes):  # type: ignore[attr-defined]
        if (
            isinstance(route, Route)
            and route.path.startswith(base)
            and route.endpoint is not unknown_resource  # the 404/405 of any other path
        ):
            path = route.path_format  # "{sid:int}" written "{sid}"
            for name in route.param_convertors:
                path = path.replace("{" + name + "}", "{x}")
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((method, path))
    assert found == declared


def test_mgt001_third_party_updates_its_registration(world: World) -> None:
    path = world.url(f"/ApplicationInformation/{world.app_id}")
    body = (
        b'<entry xmlns="http://www.w3.org/2005/Atom"><content>'
        b'<ApplicationInformation xmlns="http://naesb.org/espi">'
        b"<thirdPartyNotifyUri>https://thirdparty.example/v2/notify</thirdPartyNotifyUri>"
        b"<client_name>Solar Helper 2</client_name>"
        b"<redirect_uri>https://thirdparty.example/v2/cb</redirect_uri>"
        b"<redirect_uri>https://thirdparty.example/callback</redirect_uri>"
        b"</ApplicationInformation></content></entry>"
    )
    r = world.client.put(path, content=body, headers=bearer(world.registration_token))
    assert r.status_code == 200, r.text
    doc = valid(r.content)
    assert doc.findtext(".//e:client_name", namespaces=NS) == "Solar Helper 2"
    assert [e.text for e in doc.findall(".//e:redirect_uri", NS)] == [
        "https://thirdparty.example/v2/cb",
        "https://thirdparty.example/callback",
    ]
    for bad, message in (
        (
            b"<ApplicationInformation xmlns='http://naesb.org/espi'><redirect_uri>javascript:x"
            b"</redirect_uri></ApplicationInformation>",
            "absolute",
        ),
        (
            b"<ApplicationInformation xmlns='http://naesb.org/espi'><client_id>mine</client_id>"
            b"</ApplicationInformation>",
            "cannot be changed",
        ),
        (
            b"<ApplicationInformation xmlns='http://naesb.org/espi'><scope>FB=1_4_5_10_12_15_51"
            b"</scope></ApplicationInformation>",
            "wider",
        ),
        (b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>", "ApplicationInformation document"),
        (b"<Authorization xmlns='http://naesb.org/espi'/>", "ApplicationInformation document"),
    ):
        r = world.client.put(path, content=bad, headers=bearer(world.registration_token))
        assert r.status_code == 400 and message in r.json()["error_description"], bad


# -- the GBA's wrong-token-class cases, by name (the matrix covers every route) ---------


def _statuses(world: World, method: str, path: str, names: list[str]) -> list[int]:
    creds = _credentials(world)
    return [world.client.request(method, path, headers=creds[n]).status_code for n in names]


def test_oad006_application_information_refuses_client_customer_and_no_token(
    world: World,
) -> None:
    path = world.url(f"/ApplicationInformation/{world.app_id}")
    assert _statuses(world, "GET", path, ["client", "customer", "none"]) == [403, 403, 401]


def test_oad007_oad008_authorization_refuses_registration_customer_and_no_token(
    world: World,
) -> None:
    assert _statuses(
        world, "GET", world.url("/Authorization"), ["registration", "customer", "none"]
    ) == [403, 403, 401]
    with world.factory() as s:
        auth_id = s.scalars(select(om.Authorization.id)).first()
    assert _statuses(
        world, "GET", world.url(f"/Authorization/{auth_id}"), ["registration", "customer", "none"]
    ) == [403, 403, 401]


def test_oad009_read_service_status_refuses_registration_customer_and_no_token(
    world: World,
) -> None:
    assert _statuses(
        world, "GET", world.url("/ReadServiceStatus"), ["registration", "customer", "none"]
    ) == [403, 403, 401]


def test_oad015_grant_types_follow_the_application_information(world: World) -> None:
    """A client may use only the grant types its ApplicationInformation lists."""
    from gbconnect.oauth.clients import register

    with world.factory() as s:
        done = register(
            s,
            world.settings,
            name="Code only",
            redirect_uris=["https://c.example/cb"],
            grant_types=["authorization_code", "refresh_token"],
            approve=True,
        )
        s.commit()
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=world.basic(done.application.client_id, done.client_secret),
    )
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
    admin = world.client.get(
        world.url(f"/ApplicationInformation/{done.application.id}"),
        headers=bearer(world.admin_token),
    )
    assert [e.text for e in valid(admin.content).findall(".//e:grant_types", NS)] == [
        "authorization_code",
        "refresh_token",
    ]


def test_download_sample_data_with_a_client_token(world: World) -> None:
    """PG&E's connectivity test, last step: schema-valid synthetic data, no customer's."""
    path = world.url("/DownloadSampleData")
    r = world.client.get(path, headers=bearer(world.client_token()))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    doc = valid(r.content)
    kinds = {e.tag.split("}")[1] for e in doc.iterfind("a:entry/a:content/*", NS)}
    assert {"UsagePoint", "MeterReading", "ReadingType", "IntervalBlock"} <= kinds
    assert len(doc.findall(".//e:IntervalReading", NS)) >= 2 * 96
    hrefs = [x.get("href") for x in doc.iterfind(".//a:link", NS)]
    assert all("/DownloadSampleData" in h for h in hrefs)  # type: ignore[operator]
    assert b"Alice" not in r.content
    again = world.client.get(path, headers=bearer(world.client_token()))
    assert again.content == r.content  # the same for every call
    assert world.client.get(path).status_code == 401
    assert world.client.get(path, headers=bearer(world.admin_token)).status_code == 403


def test_authorization_and_application_documents_have_validators(world: World) -> None:
    tokens = world.code_tokens()
    client = bearer(world.client_token())
    uri = str(tokens["authorizationURI"])
    path = uri[uri.index(world.settings.resource_base) :]
    for url, token in (
        (path, client),
        (world.url("/Authorization"), client),
        (world.url(f"/ApplicationInformation/{world.app_id}"), bearer(world.registration_token)),
        (world.url("/ApplicationInformation"), bearer(world.admin_token)),
    ):
        first = world.client.get(url, headers=token)
        etag = first.headers["etag"]
        assert first.headers["last-modified"].endswith("GMT")
        same = world.client.get(url, headers={**token, "If-None-Match": etag})
        assert same.status_code == 304 and same.content == b"", url
    etag = world.client.get(path, headers=client).headers["etag"]
    revoke = world.client.delete(path, headers=client)
    assert revoke.status_code == 204
    after = world.client.get(path, headers={**client, "If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag  # even within the second
    assert valid(after.content).findtext(".//e:status", namespaces=NS) == "0"


def test_mgt001_put_of_the_unchanged_get_body_is_accepted(world: World) -> None:
    """Read-only fields may be present with their current values; a change to one is
    refused (issue 15 item 3)."""
    path = world.url(f"/ApplicationInformation/{world.app_id}")
    headers = bearer(world.registration_token)
    got = world.client.get(path, headers=headers)
    assert got.status_code == 200
    r = world.client.put(path, content=got.content, headers=headers)
    assert r.status_code == 200, r.text
    assert valid(r.content).findtext(".//e:client_id", namespaces=NS) == world.client_id
    renamed = got.content.replace(b"<client_name>", b"<client_name>New ")
    r = world.client.put(path, content=renamed, headers=headers)
    assert r.status_code == 200, r.text
    assert valid(r.content).findtext(".//e:client_name", namespaces=NS).startswith("New ")
    for element in (b"dataCustodianId", b"dataCustodianBulkRequestURI", b"client_id"):
        changed = r.content.replace(b"<" + element + b">", b"<" + element + b">x")
        refused = world.client.put(path, content=changed, headers=headers)
        assert refused.status_code == 400, element
        assert refused.json() == {
            "error": "invalid_client_metadata",
            "error_description": f"{element.decode()} cannot be changed",
        }


def test_application_information_feed_stays_valid_with_a_public_client(world: World) -> None:
    """espi.xsd cannot state a public client's method (``none``): the ESPI resource
    leaves it out, RFC 7592 serves it (issue 15 item 4)."""
    from gbconnect.oauth.clients import register
    from tests.factories.world import REDIRECT, SCOPE

    with world.factory() as s:
        done = register(
            s,
            world.settings,
            name="Phone App",
            redirect_uris=[REDIRECT],
            scopes=[SCOPE],
            public=True,
            approve=True,
        )
        s.commit()
        public_id, app_id = done.application.client_id, done.application.id
        registration = done.registration_access_token
    admin = bearer(world.admin_token)
    r = world.client.get(world.url("/ApplicationInformation"), headers=admin)
    assert r.status_code == 200
    doc = valid(r.content)
    assert public_id not in [e.text for e in doc.findall(".//e:client_id", NS)]
    assert world.client_id in [e.text for e in doc.findall(".//e:client_id", NS)]
    for token in (world.admin_token, registration):
        one = world.client.get(
            world.url(f"/ApplicationInformation/{app_id}"), headers=bearer(token)
        )
        assert one.status_code == 404
    own = world.client.get(f"/oauth/register/{public_id}", headers=bearer(registration))
    assert own.status_code == 200 and own.json()["token_endpoint_auth_method"] == "none"


def _offline_authorization(world: World, scope: str) -> int:
    """An offline (paper, FB_40) authorization of alice for the world's third party, as
    ``gbconnect authorization create`` records it; its id."""
    from gbconnect.customer.services import find_customer
    from gbconnect.espi import scope as espi_scope
    from gbconnect.oauth import services as grants
    from gbconnect.registration.models import ApplicationInformation
    from gbconnect.usage.points import customer_usage_point_ids

    with world.factory() as s:
        app = s.get(ApplicationInformation, world.app_id)
        alice = find_customer(s, "alice")
        assert app is not None and alice is not None
        request = grants.GrantRequest(
            scope=espi_scope.parse(scope),
            usage_point_ids=customer_usage_point_ids(s, alice.id),
            end=None,
        )
        auth = grants.grant_customer_authorization(
            s, world.settings, app, alice, request, offline=True
        )
        s.commit()
        return auth.id


def test_ofa001_offline_resource_uri_answers_the_client_token(world: World) -> None:
    """Issue 15 item 5: the third party reads its offline authorization's resourceURI
    with its client token, under that authorization's scope; the record says
    client_credentials."""
    auth_id = _offline_authorization(world, "FB=1_3_4_5_13_14_39_51;IntervalDuration=3600")
    client = bearer(world.client_token())
    r = world.client.get(world.url(f"/Authorization/{auth_id}"), headers=client)
    doc = valid(r.content)
    assert doc.findtext(".//e:grant_type", namespaces=NS) == "client_credentials"
    resource = str(doc.findtext(".//e:resourceURI", namespaces=NS))
    path = resource[resource.index(world.settings.resource_base) :]
    batch = world.client.get(path, headers=client)
    assert batch.status_code == 200, batch.text
    entries = valid(batch.content)
    assert entries.findall(".//e:IntervalBlock", NS)
    assert not entries.findall(".//e:UsageSummary", NS)  # FB_15 not granted
    point = world.alice_points[0]
    one = world.client.get(f"{path}/UsagePoint/{point}", headers=client)
    assert one.status_code == 200
    assert valid(one.content).findall(".//e:UsagePoint", NS)
    # Once revoked, it is not found.
    world.client.delete(world.url(f"/Authorization/{auth_id}"), headers=client)
    assert world.client.get(path, headers=client).status_code == 404
