"""The world of the OAuth and API tests: an application on a real database with two
customers (alice with 45 days of data and customer records, bob with one empty usage
point), an approved third party and operator tokens, and the steps of REQ.21's
authorization flow a test drives through the in-process client (login, consent, token
endpoint; RFC 6749 section 4.1 and 4.4)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import asdict, dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.config import Settings
from gbconnect.db import make_engine, make_sessionmaker
from gbconnect.oauth import models as om
from tests.factories.app import make_settings
from tests.factories.customers import PASSWORD, make_customer
from tests.factories.parties import REDIRECT, SCOPE, make_third_party
from tests.factories.tokens import operator_token
from tests.factories.usage import DAYS, TODAY, ZONE, store_usage

__all__ = [
    "DAYS",
    "PASSWORD",
    "REDIRECT",
    "SCOPE",
    "TODAY",
    "ZONE",
    "Seed",
    "World",
    "build_world",
    "pkce",
    "store_usage",
    "store_world",
]


@dataclass(frozen=True)
class Seed:
    """What the world stores, as the tests see it: ids and the secrets readable only
    when they were issued."""

    client_id: str
    client_secret: str
    registration_token: str
    app_id: int
    admin_token: str
    upload_token: str
    alice_points: list[int]
    bob_points: list[int]


def build_world(factory: sessionmaker[Session], settings: Settings) -> Seed:
    """Store the world in ``factory``'s database (migrated and empty)."""
    with factory() as session:
        alice = make_customer(session, "alice", name="Alice", days=DAYS)
        bob = make_customer(session, "bob", name="Bob", empty_points=1)
        party = make_third_party(session, settings)
        admin = operator_token(session, om.ADMIN)
        upload = operator_token(session, om.UPLOAD)
        session.commit()
        assert party.client_secret is not None
        return Seed(
            client_id=party.application.client_id,
            client_secret=party.client_secret,
            registration_token=party.registration_access_token,
            app_id=party.application.id,
            admin_token=admin,
            upload_token=upload,
            alice_points=alice.points,
            bob_points=bob.points,
        )


def store_world(url: str) -> Seed:
    """The world stored in the (migrated, empty) database at ``url``."""
    engine = make_engine(url)
    try:
        return build_world(make_sessionmaker(engine), make_settings(url))
    finally:
        engine.dispose()


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

    @classmethod
    def of(
        cls,
        seed: Seed,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
    ) -> World:
        """The world stored as ``seed`` says, served by ``client``."""
        return cls(client=client, settings=settings, factory=factory, **asdict(seed))

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
        r = self.client.post(url, data=data, follow_redirects=False)
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
