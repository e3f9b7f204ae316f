"""One customer polled by one third party: data, grant and token for load tests and
for ``benchmarks/api_load.py``."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gbconnect.config import load_settings
from gbconnect.customer.models import CustomerAccount
from gbconnect.db import make_engine, make_sessionmaker, upgrade
from gbconnect.espi import scope as espi_scope
from gbconnect.ingest.owners import retail_customer
from gbconnect.ingest.series import Channel, store_channel
from gbconnect.ingest.summary import FileSummary
from gbconnect.oauth import services
from gbconnect.oauth.clients import register
from gbconnect.usage import models as um
from tests.factories.records import add_customer_records
from tests.factories.tokens import client_token, customer_token
from tests.factories.usage import add_bill

START = 1704096000  # 2024-01-01T08:00:00Z


#: The scope of the polling grant: usage data with its bill (FB_15/FB_16) and the
#: customer records (FB_51 and the blocks it needs).
SCOPE = "FB=1_3_4_5_13_14_15_16_51"


@dataclass(frozen=True)
class Polled:
    """What :func:`polled_customer` stored: a customer token, a client token of the
    same third party, and the paths of one of each resource a third party reads."""

    token: str
    client_token: str
    block: str  # one day's IntervalBlock entry
    paths: dict[str, str]  # route name -> path (read with ``token`` unless a client route)
    client_paths: dict[str, str]  # route name -> path read with ``client_token``


def polling_customer(url: str, days: int) -> tuple[str, str]:
    """One customer, one usage point with ``days`` of 15-minute data, a grant and a
    customer token. Returns (token, path of one day's IntervalBlock)."""
    polled = polled_customer(url, days)
    return polled.token, polled.block


def polled_customer(url: str, days: int) -> Polled:
    """One customer, one usage point with ``days`` of 15-minute data, a bill and
    customer records, a grant, a customer token and a client token."""
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
            scopes=[f"{SCOPE};HistoryLength=1000"],
            approve=True,
        )
        auth = services.grant_customer_authorization(
            session,
            settings,
            done.application,
            owner,
            services.GrantRequest(
                scope=espi_scope.parse(SCOPE),
                usage_point_ids=[up.id],
                end=None,
                start=0,
            ),
        )
        auth.published_start = 0
        token = customer_token(session, auth)
        client = client_token(session, done.application)
        bill = add_bill(session, up.id, START + days * 86400)
        add_customer_records(session, owner.id, up.id)
        session.flush()
        account = session.query(CustomerAccount).one()
        assert auth.subscription is not None
        base = settings.resource_base
        sid = auth.subscription.id
        point = f"{base}/Subscription/{sid}/UsagePoint/{up.id}"
        reading = f"{point}/MeterReading/{mr.id}"
        day = START + (days // 2) * 86400
        polled = Polled(
            token=token,
            client_token=client,
            block=f"{reading}/IntervalBlock/{block.id}",
            paths={
                "UsagePoint": point,
                "MeterReading": reading,
                "ReadingType": f"{base}/ReadingType/{mr.reading_type_id}",
                "UsageSummary": f"{point}/UsageSummary/{bill.id}",
                "CustomerAccount": f"{base}/Customer/{sid}/CustomerAccount/{account.id}",
                "IB feed, 1 day": f"{reading}/IntervalBlock?published-min={_iso(day)}"
                f"&published-max={_iso(day + 86400)}",
            },
            client_paths={"Authorization": f"{base}/Authorization/{auth.id}"},
        )
    engine.dispose()
    return polled


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
