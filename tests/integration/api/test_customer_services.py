"""Customer records follow the services of the usage data (issue 15 item 8): with a
scope that does not carry gas (no FB_10), the gas agreement, its service location and
the gas meter are not shown by ``Customer/{id}/...``, ``Batch/RetailCustomer/{id}`` or
``Batch/BulkRetailCustomerInfo/{bulkId}``."""

from __future__ import annotations

from sqlalchemy import select

from gbconnect.customer import models as cm
from gbconnect.registration.models import ApplicationInformation
from tests.factories.world import SCOPE, World
from tests.integration.oauth.test_espi_access import (
    _offline_authorization,
    bearer,
    valid,
)

C = {"c": "http://naesb.org/espi/customer"}
NO_GAS = "FB=1_3_4_5_13_14_39_51_57;IntervalDuration=900_3600"


def _add_gas_records(world: World) -> None:
    """A gas agreement, service location and meter for alice's gas usage point."""
    gas = world.alice_points[1]
    with world.factory() as s:
        owner = s.scalars(
            select(cm.RetailCustomer).where(cm.RetailCustomer.username == "alice")
        ).one()
        agreement = cm.CustomerAgreement(
            retail_customer_id=owner.id, agreement_id="SA-GAS", name="Gas service"
        )
        s.add(agreement)
        s.flush()
        s.execute(
            cm.agreement_usage_point.insert(),
            [{"customer_agreement_id": agreement.id, "usage_point_id": gas}],
        )
        location = cm.ServiceLocation(
            retail_customer_id=owner.id, customer_agreement_id=agreement.id, address="2 Gas St"
        )
        s.add(location)
        s.flush()
        s.add(
            cm.Meter(
                retail_customer_id=owner.id,
                service_location_id=location.id,
                usage_point_id=gas,
                serial_number="GAS-7",
            )
        )
        s.commit()


def _texts(world: World, path: str, token: str) -> bytes:
    r = world.client.get(world.url(path), headers=bearer(token))
    assert r.status_code == 200, (path, r.text)
    valid(r.content)
    return r.content


def _sid(world: World, auth_id: int) -> int:
    from gbconnect.oauth import models as om

    with world.factory() as s:
        auth = s.get(om.Authorization, auth_id)
        assert auth is not None and auth.subscription is not None
        return auth.subscription.id


def _bulk(world: World) -> int:
    with world.factory() as s:
        app = s.get(ApplicationInformation, world.app_id)
        assert app is not None
        return app.bulk_id


def test_gas_records_are_hidden_without_fb10(world: World) -> None:
    _add_gas_records(world)
    sid = _sid(world, _offline_authorization(world, NO_GAS))
    admin = world.admin_token
    for path in (
        f"/Customer/{sid}/CustomerAgreement",
        f"/Customer/{sid}/Meter",
        f"/Customer/{sid}/ServiceLocation",
        f"/Batch/RetailCustomer/{sid}",
    ):
        body = _texts(world, path, admin)
        assert b"SA-GAS" not in body and b"GAS-7" not in body and b"2 Gas St" not in body, path
    assert b"SA-1" in _texts(world, f"/Customer/{sid}/CustomerAgreement", admin)
    bulk = _texts(world, f"/Batch/BulkRetailCustomerInfo/{_bulk(world)}", world.client_token())
    assert b"SA-1" in bulk and b"SA-GAS" not in bulk and b"GAS-7" not in bulk


def test_gas_records_are_shown_with_fb10(world: World) -> None:
    _add_gas_records(world)
    sid = _sid(world, _offline_authorization(world, SCOPE))
    body = _texts(world, f"/Batch/RetailCustomer/{sid}", world.admin_token)
    assert b"SA-GAS" in body and b"GAS-7" in body and b"SA-1" in body
