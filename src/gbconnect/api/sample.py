"""PG&E's ``DownloadSampleData`` (STANDARD.md section 7: the last step of a third
party's connectivity test, after a client token and ReadServiceStatus).

The sample is a Green Button feed of synthetic data, the same for every caller, that
shows every block the server offers by default (REQ.21 section 5): two generated
customers, a small business and a household with rooftop solar and gas, made once per
process by the generator in an in-memory database and written by the same code as
every other feed. Their usage points carry LocalTimeParameters (FB_1), 15-minute
electricity (FB_4/5) with interval cost (FB_12), demand (FB_6), net (FB_7), forward
and reverse (FB_8) channels, register reads (FB_9), daily gas (FB_10), usage
summaries with cost, line items, demands, previous-day values and the bill to date
(FB_15/16/26/27/28) and power quality summaries (FB_17); their retail customer
records (FB_51-60: Customer, CustomerAccount, CustomerAgreement with a demand
response enrolment, ServiceLocation, Meter) follow. No customer's data is in it; its
links sit under ``/DownloadSampleData``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.api import feeds
from gbconnect.customer import models as cm
from gbconnect.customer import xml as customer_xml
from gbconnect.db import make_engine, make_sessionmaker, upgrade
from gbconnect.espi.atom import entry, feed
from gbconnect.ingest.generator import GeneratorOptions, customer_profile, generate_customers
from gbconnect.oauth.scoping import FULL
from gbconnect.usage import models as um
from gbconnect.web.query import FeedQuery

#: The sample's last day: fixed, so that the sample is the same from day to day.
SAMPLE_END = date(2024, 6, 30)
SAMPLE_DAYS = 2

#: The customer records of a retail customer, in feed order, with their writers.
RECORDS: tuple[tuple[str, Any, Callable[[Any], str]], ...] = (
    ("Customer", cm.Customer, customer_xml.customer),
    ("CustomerAccount", cm.CustomerAccount, customer_xml.customer_account),
    ("CustomerAgreement", cm.CustomerAgreement, customer_xml.customer_agreement),
    ("ServiceLocation", cm.ServiceLocation, customer_xml.service_location),
    ("Meter", cm.Meter, customer_xml.meter),
)


def sample_customers(options: GeneratorOptions, limit: int = 1000) -> list[int]:
    """The first small business and the first solar household with gas among the
    generator's customers: between them, every block the generator makes."""
    wanted: dict[str, int] = {}
    for index in range(limit):
        profile, gas = customer_profile(options, index)
        if profile == "commercial":
            wanted.setdefault("commercial", index)
        elif profile == "solar" and gas:
            wanted.setdefault("solar", index)
        if len(wanted) == 2:
            break
    return sorted(wanted.values())


def _records(session: Session, root: str) -> Iterator[str]:
    """The customer.xsd records of every retail customer, one ``Customer/{n}`` each."""
    owners = session.scalars(select(cm.RetailCustomer).order_by(cm.RetailCustomer.id)).all()
    for n, owner in enumerate(owners, start=1):
        base = f"{root}/Customer/{n}"
        for kind, model, write in RECORDS:
            rows = session.scalars(
                select(model).where(model.retail_customer_id == owner.id).order_by(model.id)
            ).all()
            for row in rows:
                top = kind == "Customer"
                yield entry(
                    self_href=base if top else f"{base}/{kind}/{row.id}",
                    up_href=f"{root}/Customer" if top else f"{base}/{kind}",
                    related=[f"{base}/{k}" for k, _m, _w in RECORDS[1:]] if top else (),
                    title=row.title,
                    published=row.published,
                    updated=row.updated,
                    content=write(row),
                )


@lru_cache(maxsize=4)
def sample_feed(public: str, zone: str) -> bytes:
    """The sample document for the resource base URL ``public`` (built on first use,
    in about a second)."""
    engine = make_engine("sqlite:///:memory:")
    try:
        upgrade(engine)
        factory = make_sessionmaker(engine)
        options = GeneratorOptions(
            customers=1, days=SAMPLE_DAYS, end=SAMPLE_END, zone=ZoneInfo(zone)
        )
        for index in sample_customers(options):
            generate_customers(
                factory,
                GeneratorOptions(
                    customers=1,
                    days=SAMPLE_DAYS,
                    end=SAMPLE_END,
                    zone=ZoneInfo(zone),
                    first_index=index,
                ),
            )
        root = f"{public}/DownloadSampleData"
        paths = feeds.Paths(root, f"{root}/Subscription/1")
        with factory() as session:
            points = session.scalars(select(um.UsagePoint).order_by(um.UsagePoint.id)).all()
            updated = max(up.updated for up in points)
            usage = [
                text
                for up in points
                for text in feeds.usage_point_tree(session, up, FULL, paths, FeedQuery())
            ]
            parts = feed(
                self_href=root,
                title="Green Button sample data",
                updated=updated,
                entries=[*usage, *_records(session, root)],
            )
            return "".join(parts).encode()
    finally:
        engine.dispose()
