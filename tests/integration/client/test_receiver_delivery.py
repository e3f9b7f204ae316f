"""A real gbconnect notification (the worker's signed BatchList POST, REQ.21 FB_39,
GBA PSH002/PSH003) delivered to the SDK's NotificationReceiver served by a real
uvicorn, verified, then every URI fetched with the SDK; SQLite and PostgreSQL."""

from __future__ import annotations

from gbconnect.client import (
    DataCustodianClient,
    Notification,
    NotificationReceiver,
    Pending,
    TokenSet,
    verify_signature,
)
from gbconnect.jobs.worker import Worker
from gbconnect.registration import models as rm
from gbconnect.registration.signing_keys import ensure_key
from tests.asgiserver import served
from tests.factories.world import World
from tests.integration.client.conftest import endpoints_of, oauth_of
from tests.integration.jobs.test_notifications import drain, listen_at


def test_a_real_gbconnect_notification_is_received_verified_and_fetched(world: World) -> None:
    got: list[Notification] = []
    receiver = NotificationReceiver(got.append, secret=b"not yet")
    with served(receiver) as url:
        listen_at(world, url)
        with world.factory() as s:
            app = s.get(rm.ApplicationInformation, world.app_id)
            assert app is not None
            secret = ensure_key(app)  # the third-party portal shows it
            s.commit()
        receiver.secret = secret
        customer = world.code_tokens()
        assert drain(Worker(world.settings, world.factory)) > 0
    assert got, "no notification arrived"
    n = got[0]
    assert n.idempotency_key and verify_signature(secret, n.headers, n.body)
    assert any("/Authorization/" in uri for uri in n.resources)
    oauth = oauth_of(world)
    client_api = DataCustodianClient(
        endpoints_of(world), oauth.client_credentials(), http=world.client, oauth=oauth
    )
    customer_api = DataCustodianClient(
        endpoints_of(world), TokenSet.from_response(customer), http=world.client
    )
    fetched = 0
    for note in got:
        for uri in note.resources:
            api = customer_api if "/Subscription/" in uri else client_api
            ((where, body),) = list(api.fetch_notified(Notification([uri], None, b"", {})))
            assert where == uri and not isinstance(body, Pending) and body.startswith(b"<?xml")
            fetched += 1
    assert fetched >= 2
