"""Migration 0003: the test-customer flag, and stored Authorization titles rewritten
without the customer's login (REQ.21 FB_13), on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, select, update

from gbconnect.customer.models import RetailCustomer
from gbconnect.db import _alembic_config, current_revision, upgrade
from gbconnect.oauth import models as om
from tests.factories.world import World


def test_migration_0003_removes_the_login_from_stored_titles(world: World, engine: Engine) -> None:
    world.code_tokens()
    with world.factory() as s:
        s.execute(update(om.Authorization).values(title="Solar Helper for alice"))
        s.commit()
    command.downgrade(_alembic_config(engine), "0002")
    assert current_revision(engine) == "0002"
    upgrade(engine)
    with world.factory() as s:
        auths = s.scalars(select(om.Authorization)).all()
        customer_auth = next(a for a in auths if a.token_class == om.CUSTOMER)
        assert customer_auth.title == f"Solar Helper authorization {customer_auth.id}"
        assert all("alice" not in a.title for a in auths)
        assert not any(c.is_test for c in s.scalars(select(RetailCustomer)))
