"""PG&E's ``DownloadSampleData`` (STANDARD.md section 7: the last step of a third
party's connectivity test, after a client token and ReadServiceStatus).

The sample is a Green Button feed of synthetic data, the same for every caller: one
generated customer's usage points (15-minute electricity with cost, daily gas, billing
summaries, power quality, local time parameters), made once per process by the
generator in an in-memory database and written by the same code as every other feed.
No customer's data is in it; its links sit under ``/DownloadSampleData``.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import select

from gbconnect.api import feeds
from gbconnect.db import make_engine, make_sessionmaker, upgrade
from gbconnect.espi.atom import feed
from gbconnect.ingest.generator import GeneratorOptions, generate_customers
from gbconnect.oauth.scoping import FULL
from gbconnect.usage import models as um
from gbconnect.web.query import FeedQuery

#: The sample's last day: fixed, so that the sample is the same from day to day.
SAMPLE_END = date(2024, 6, 30)
SAMPLE_DAYS = 2


@lru_cache(maxsize=4)
def sample_feed(public: str, zone: str) -> bytes:
    """The sample document for the resource base URL ``public`` (built on first use,
    in well under a second)."""
    engine = make_engine("sqlite:///:memory:")
    try:
        upgrade(engine)
        factory = make_sessionmaker(engine)
        options = GeneratorOptions(
            customers=1, days=SAMPLE_DAYS, end=SAMPLE_END, zone=ZoneInfo(zone)
        )
        generate_customers(factory, options)
        root = f"{public}/DownloadSampleData"
        paths = feeds.Paths(root, f"{root}/Subscription/1")
        with factory() as session:
            points = session.scalars(select(um.UsagePoint).order_by(um.UsagePoint.id)).all()
            updated = max(up.updated for up in points)
            entries = (
                text
                for up in points
                for text in feeds.usage_point_tree(session, up, FULL, paths, FeedQuery())
            )
            parts = feed(
                self_href=root, title="Green Button sample data", updated=updated, entries=entries
            )
            return "".join(parts).encode()
    finally:
        engine.dispose()
