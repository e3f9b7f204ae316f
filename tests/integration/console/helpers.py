"""What the console tests share: staff accounts made in the database, a browser
(test client) signed in as one of them, and the CSRF token of a page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.audit.models import AuditEvent
from gbconnect.console.staff import create_staff
from tests.factories.parties import make_third_party
from tests.factories.world import World

PASSWORD = "staff password 1"


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def make_staff(factory: sessionmaker[Session], role: str, email: str | None = None) -> int:
    with factory() as session:
        staff = create_staff(
            session, email or f"{role}@utility.example", role.title(), role, PASSWORD
        )
        session.commit()
        return staff.id


def browser(world: World) -> TestClient:
    """A second browser on the same application (its own cookies)."""
    return TestClient(world.client.app)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> tuple[int, str]:
    page = client.get("/console/login")
    r = client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf": csrf_of(page.text), "next": "/console"},
        follow_redirects=False,
    )
    return r.status_code, r.headers.get("location", r.text)


def staff_browser(world: World, role: str) -> TestClient:
    """A browser signed in as a new staff member with ``role``."""
    make_staff(world.factory, role)
    client = browser(world)
    assert sign_in(client, f"{role}@utility.example") == (303, "/console")
    return client


def csrf(client: TestClient, path: str = "/console") -> str:
    return csrf_of(client.get(path).text)


def audit_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def last_events(factory: sessionmaker[Session], n: int = 1) -> list[AuditEvent]:
    with factory() as session:
        rows = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(n)))
        session.expunge_all()
        return rows


def review_app(world: World, name: str = "Watt Watchers") -> int:
    """A third party awaiting the utility's approval."""
    with world.factory() as session:
        party = make_third_party(session, world.settings, name=name, approve=False)
        session.commit()
        return party.application.id
