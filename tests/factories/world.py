"""An application on a real database with a customer, a third party and tokens."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.app import create_app
from gbconnect.config import Settings, load_settings
from gbconnect.customer.services import create_customer
from gbconnect.ingest.series import Channel, store_channel
from gbconnect.ingest.summary import FileSummary
from gbconnect.oauth import models as om
from gbconnect.oauth import services
from gbconnect.registration.services import register
from gbconnect.usage import models as um
from gbconnect.usage.models import UsagePoint

REDIRECT = "https://thirdparty.example/callback"
PASSWORD = "correct horse battery"
SCOPE = (
    "FB=1_3_4_5_10_13_14_15_17_39_51_57;IntervalDuration=900_3600;BlockDuration=daily;"
    "HistoryLength=13"
)
#: Day (UTC midnight) after the last reading of the world's data: today.
TODAY = (int(__import__("time").time()) // 86400) * 86400
DAYS = 45
ZONE = ZoneInfo("America/Los_Angeles")


@dataclass
class World:
    client: TestClient
    settings: Settings
    factory: sessionmaker[Session]
    client_id: str
    client_secret: str
    registration_token: str
    app_id: int
    admin_token: str
    upload_token: str
    alice_points: list[int]
    bob_points: list[int]
    extra: dict[str, str] = field(default_factory=dict)

    def basic(self, client_id: str | None = None, secret: str | None = None) -> dict[str, str]:
        raw = f"{client_id or self.client_id}:{secret or self.client_secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def login(self, username: str = "alice", password: str = PASSWORD) -> None:
        page = self.client.get("/login")
        csrf = _csrf(page.text)
        r = self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf": csrf, "next": "/"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text

    def authorize_url(self, **params: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "scope": SCOPE,
            "state": "xyz-42",
        }
        query.update(params)
        from urllib.parse import urlencode

        return "/oauth/authorize?" + urlencode({k: v for k, v in query.items() if v != ""})

    def consent(
        self, url: str | None = None, decision: str = "approve", **form: object
    ) -> dict[str, list[str]]:
        """Open the consent page (signed in) and submit; the redirect's query."""
        url = url or self.authorize_url()
        page = self.client.get(url)
        assert page.status_code == 200, page.text
        data: dict[str, object] = {
            "csrf": _csrf(page.text),
            "decision": decision,
            "service": [str(i) for i in self.alice_points],
            "group": ["electric", "gas", "billing", "quality", "account"],
            "end": "revoke",
        }
        data.update(form)
        r = self.client.post(url, data=data, follow_redirects=False)  # type: ignore[arg-type]
        assert r.status_code == 302, r.text
        location = r.headers["location"]
        assert location.startswith(REDIRECT)
        return parse_qs(urlsplit(location).query)

    def code_tokens(self, **consent: object) -> dict[str, object]:
        self.login()
        code = self.consent(**consent)["code"][0]  # type: ignore[arg-type]
        r = self.client.post(
            "/oauth/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            headers=self.basic(),
        )
        assert r.status_code == 200, r.text
        body: dict[str, object] = r.json()
        return body

    def client_token(self) -> str:
        r = self.client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, headers=self.basic()
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def url(self, path: str) -> str:
        return self.settings.resource_base + path


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def store_usage(session: Session, owner: object) -> list[int]:
    """Alice's data: 45 days of 15-minute electricity with cost, daily gas, a bill,
    a power-quality summary and her LocalTimeParameters; returns her usage point ids."""
    now = TODAY
    start = TODAY - DAYS * 86400
    n = DAYS * 96
    starts = start + 900 * np.arange(n, dtype=np.int64)
    electric = Channel(
        usage_point_key="alice-electric",
        usage_point_title="Home electric",
        service_kind=0,
        reading_type={
            "accumulation_behaviour": 4,
            "commodity": 1,
            "flow_direction": 1,
            "interval_length": 900,
            "kind": 12,
            "uom": 72,
            "power_of_ten_multiplier": 0,
            "currency": 840,
            "phase": 769,
        },
        starts=starts,
        durations=np.full(n, 900, dtype=np.int64),
        values=(np.arange(n, dtype=np.int64) % 500) + 100,
        costs=(np.arange(n, dtype=np.int64) % 50) * 100,
    )
    gas = Channel(
        usage_point_key="alice-gas",
        usage_point_title="Home gas",
        service_kind=1,
        reading_type={
            "accumulation_behaviour": 4,
            "commodity": 7,
            "flow_direction": 1,
            "interval_length": 86400,
            "kind": 12,
            "uom": 169,
            "power_of_ten_multiplier": -3,
        },
        starts=start + 86400 * np.arange(DAYS, dtype=np.int64) + 8 * 3600,
        durations=np.full(DAYS, 86400, dtype=np.int64),
        values=np.full(DAYS, 2500, dtype=np.int64),
    )
    summary = FileSummary("world", "test")
    for ch in (electric, gas):
        store_channel(session, owner, ch, ZONE, summary, now)  # type: ignore[arg-type]
    ups = list(
        session.scalars(
            select(UsagePoint)
            .where(UsagePoint.retail_customer_id == owner.id)  # type: ignore[attr-defined]
            .order_by(UsagePoint.service_kind)
        )
    )
    ltp = um.LocalTimeParameters(
        retail_customer_id=ups[0].retail_customer_id,
        dst_end_rule="B40E2000",
        dst_offset=3600,
        dst_start_rule="360E2000",
        tz_offset=-28800,
    )
    session.add(ltp)
    session.flush()
    for up in ups:
        up.local_time_parameters_id = ltp.id
    session.add(
        um.UsageSummary(
            usage_point_id=ups[0].id,
            billing_period_start=TODAY - 30 * 86400,
            billing_period_duration=30 * 86400,
            bill_last_period=8_812_000,
            currency=840,
            status_timestamp=TODAY,
            measurements={
                "overallConsumptionLastPeriod": {
                    "powerOfTenMultiplier": "0",
                    "uom": "72",
                    "value": "612000",
                }
            },
            line_items=[{"amount": "8812000", "note": "Energy charges", "itemKind": "1"}],
        )
    )
    session.add(
        um.ElectricPowerQualitySummary(
            usage_point_id=ups[0].id,
            summary_interval_start=TODAY - 86400,
            summary_interval_duration=86400,
            mains_voltage=240,
        )
    )
    session.flush()
    add_customer_records(session, ups[0].retail_customer_id, ups[0].id)
    return [up.id for up in ups]


def add_customer_records(session: Session, owner_id: int, up_id: int) -> None:
    """customer.xsd records for one usage point: customer, account, agreement,
    service location (with an address stored the way the generator stores it), meter."""
    from gbconnect.customer import models as cm

    customer = cm.Customer(
        retail_customer_id=owner_id,
        kind="residential",
        name="Alice Doe",
        details={"customerName": "Alice Doe", "kind": "residential"},
    )
    session.add(customer)
    session.flush()
    account = cm.CustomerAccount(
        retail_customer_id=owner_id,
        customer_id=customer.id,
        account_id="4455",
        title="Account 4455",
        details={"accountId": "4455", "billingCycle": "7"},
    )
    session.add(account)
    session.flush()
    agreement = cm.CustomerAgreement(
        retail_customer_id=owner_id,
        customer_account_id=account.id,
        agreement_id="SA-1",
        name="Electric service SA-1",
        sign_date=1600000000,
    )
    session.add(agreement)
    session.flush()
    session.execute(
        cm.agreement_usage_point.insert(),
        [{"customer_agreement_id": agreement.id, "usage_point_id": up_id}],
    )
    location = cm.ServiceLocation(
        retail_customer_id=owner_id,
        customer_agreement_id=agreement.id,
        address="1 Main St",
        details={
            "mainAddress": {
                "streetDetail": {"addressGeneral": "1 Main St"},
                "townDetail": {"name": "Oakland", "stateOrProvince": "CA", "code": "94612"},
            }
        },
    )
    session.add(location)
    session.flush()
    session.add(
        cm.Meter(
            retail_customer_id=owner_id,
            service_location_id=location.id,
            usage_point_id=up_id,
            serial_number="M-001",
            form_number="2S",
        )
    )
    session.flush()


@pytest.fixture
def world(db_url: str, engine: Engine, factory: sessionmaker[Session]) -> Iterator[World]:
    settings = load_settings(database_url=db_url, secret_key="k" * 40)
    with factory() as session:
        alice = create_customer(session, "alice", PASSWORD, "Alice")
        bob = create_customer(session, "bob", PASSWORD, "Bob")
        points = {"alice": store_usage(session, alice), "bob": []}
        bob_up = UsagePoint(retail_customer_id=bob.id, service_kind=0, status=1, title="bob-0")
        session.add(bob_up)
        session.flush()
        points["bob"] = [bob_up.id]
        done = register(
            session,
            settings,
            name="Solar Helper",
            redirect_uris=[REDIRECT],
            notify_uri="https://thirdparty.example/notify",
            scopes=[SCOPE],
            approve=True,
        )
        admin, _ = services.issue_token(
            session,
            kind="access",
            token_class=om.ADMIN,
            application_id=None,
            authorization_id=None,
            scope="FB=33",
            lifetime=None,
        )
        upload, _ = services.issue_token(
            session,
            kind="access",
            token_class=om.UPLOAD,
            application_id=None,
            authorization_id=None,
            scope="FB=33",
            lifetime=None,
        )
        session.commit()
        assert done.client_secret is not None
        w = dict(
            settings=settings,
            factory=factory,
            client_id=done.application.client_id,
            client_secret=done.client_secret,
            registration_token=done.registration_access_token,
            app_id=done.application.id,
            admin_token=admin,
            upload_token=upload,
            alice_points=points["alice"],
            bob_points=points["bob"],
        )
    app = create_app(settings, engine)
    with TestClient(app) as client:
        yield World(client=client, **w)  # type: ignore[arg-type]
