"""One customer polled by one third party: data, grant and token for load tests and
for ``benchmarks/api_load.py``."""

from __future__ import annotations

import numpy as np

from gbconnect.config import load_settings
from gbconnect.db import make_engine, make_sessionmaker, upgrade
from gbconnect.espi import scope as espi_scope
from gbconnect.ingest.owners import retail_customer
from gbconnect.ingest.series import Channel, store_channel
from gbconnect.ingest.summary import FileSummary
from gbconnect.oauth import models as om
from gbconnect.oauth import services
from gbconnect.oauth.clients import register
from gbconnect.usage import models as um

START = 1704096000  # 2024-01-01T08:00:00Z


def polling_customer(url: str, days: int) -> tuple[str, str]:
    """One customer, one usage point with ``days`` of 15-minute data, a grant and a
    customer token. Returns (token, path of one day's IntervalBlock)."""
    engine = make_engine(url)
    upgrade(engine)
    settings = load_settings(database_url=url, secret_key="l" * 40)
    with make_sessionmaker(engine)() as session, session.begin():
        owner = retail_customer(session, "load")
        n = days * 96
        ch = Channel(
            usage_point_key="load",
            usage_point_title="Load",
            service_kind=0,
            reading_type={
                "accumulation_behaviour": 4,
                "commodity": 1,
                "flow_direction": 1,
                "interval_length": 900,
                "kind": 12,
                "uom": 72,
                "power_of_ten_multiplier": 0,
            },
            starts=START + 900 * np.arange(n, dtype=np.int64),
            durations=np.full(n, 900, dtype=np.int64),
            values=np.arange(n, dtype=np.int64) % 700,
        )
        store_channel(session, owner, ch, settings.zone, FileSummary("load", "bench"), 1)
        up = session.query(um.UsagePoint).one()
        mr = session.query(um.MeterReading).one()
        block = session.query(um.IntervalBlock).order_by(um.IntervalBlock.start).all()[days // 2]
        done = register(
            session,
            settings,
            name="Load",
            redirect_uris=["https://l.example/cb"],
            scopes=["FB=1_3_4_5_13_14;HistoryLength=1000"],
            approve=True,
        )
        auth = services.grant_customer_authorization(
            session,
            settings,
            done.application,
            owner,
            services.GrantRequest(
                scope=espi_scope.parse("FB=1_3_4_5_13_14"),
                usage_point_ids=[up.id],
                end=None,
                start=0,
            ),
        )
        auth.published_start = 0
        token, _ = services.issue_token(
            session,
            kind="access",
            token_class=om.CUSTOMER,
            application_id=done.application.id,
            authorization_id=auth.id,
            scope=auth.scope,
            lifetime=86400,
        )
        assert auth.subscription is not None
        path = (
            f"{settings.resource_base}/Subscription/{auth.subscription.id}/UsagePoint/{up.id}"
            f"/MeterReading/{mr.id}/IntervalBlock/{block.id}"
        )
    engine.dispose()
    return token, path
