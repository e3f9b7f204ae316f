"""The SDK reads back exactly what the server wrote (issue 13, parser test b):
hypothesis builds readings, they are stored through the server's own ingest path
(``gbconnect.ingest.series.store_channel``), served as ``Batch/Subscription`` by the
real app, and the SDK's readings must equal them, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gbconnect.client import DataCustodianClient, FeedStats, TokenSet, parse, readings
from gbconnect.client import LocalTime as SdkLocalTime
from gbconnect.client import UsagePoint as SdkUsagePoint
from gbconnect.customer.services import create_customer
from gbconnect.ingest.series import Channel, store_channel
from gbconnect.ingest.summary import FileSummary
from gbconnect.registration.models import ApplicationInformation
from tests.factories.parties import SCOPE
from tests.factories.tokens import grant
from tests.factories.usage import TODAY, ZONE
from tests.factories.world import World
from tests.integration.client.conftest import endpoints_of

_names = itertools.count()

#: (uom, powerOfTenMultiplier, commodity, flow direction, SDK unit)
TYPES = [
    (72, 0, 1, 1, "Wh"),
    (72, 3, 1, 19, "Wh"),
    (169, -3, 7, 1, "therm"),
    (42, -2, 7, 1, "m3"),
    (38, 0, 1, 4, "W"),
]


@st.composite
def channels(draw: st.DrawFn) -> tuple[Channel, str, int]:
    n = draw(st.integers(1, 300))
    step = draw(st.sampled_from([900, 3600]))
    gaps = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    first = TODAY - 20 * 86400 + draw(st.integers(0, 95)) * 900
    starts = first + step * np.cumsum(np.array(gaps, dtype=np.int64) + 1) - step
    values = draw(st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n))
    with_quality = draw(st.booleans())
    qualities = (
        [(q,) for q in draw(st.lists(st.sampled_from([0, 7, 8]), min_size=n, max_size=n))]
        if with_quality
        else None
    )
    uom, power, commodity, flow, unit = draw(st.sampled_from(TYPES))
    channel = Channel(
        usage_point_key=f"rt-{next(_names)}",
        usage_point_title="generated",
        service_kind=0 if commodity == 1 else 1,
        reading_type={
            "accumulation_behaviour": 4,
            "commodity": commodity,
            "flow_direction": flow,
            "interval_length": step,
            "kind": 12,
            "uom": uom,
            "power_of_ten_multiplier": power,
        },
        starts=np.asarray(starts, dtype=np.int64),
        durations=np.full(n, step, dtype=np.int64),
        values=np.array(values, dtype=np.int64),
        qualities=qualities,
    )
    return channel, unit, power


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=channels())
def test_sdk_reads_back_what_the_server_wrote(world: World, data: tuple[Channel, str, int]) -> None:
    channel, unit, power = data
    with world.factory() as s:
        owner = create_customer(s, f"gen{next(_names)}", None, None)
        store_channel(s, owner, channel, ZONE, FileSummary("gen", "test"), TODAY)
        s.flush()
        from gbconnect.usage.models import UsagePoint

        (up,) = s.query(UsagePoint).filter(UsagePoint.retail_customer_id == owner.id).all()
        app = s.get(ApplicationInformation, world.app_id)
        assert app is not None
        auth, token = grant(s, world.settings, app, owner, [up.id], scope=SCOPE)
        assert auth.subscription is not None
        sid = auth.subscription.id
        s.commit()
    tokens = TokenSet(token, "Bearer", None, None, None, None, None, None)
    api = DataCustodianClient(endpoints_of(world), tokens, http=world.client)
    body = api.get(f"Batch/Subscription/{sid}")
    assert isinstance(body, bytes)
    stats = FeedStats()
    got = sorted(
        (r.start, r.duration, r.raw_value, r.value, r.unit, r.quality, r.cost, r.flow_direction)
        for r in readings(body, stats)
    )
    scale = 10.0**power
    want = sorted(
        (
            int(s_),
            int(d),
            int(v),
            int(v) / 10**-power if power < 0 else float(int(v) * 10**power),
            unit,
            channel.qualities[i][0] if channel.qualities else None,
            None,  # the scope has no FB_12: the server withholds cost
            channel.reading_type["flow_direction"],
        )
        for i, (s_, d, v) in enumerate(
            zip(channel.starts, channel.durations, channel.values, strict=True)
        )
    )
    assert scale and got == want
    assert stats.skipped == 0 and stats.readings == len(want)
    items = list(parse(body))
    (point,) = [i for i in items if isinstance(i, SdkUsagePoint)]
    assert point.href.endswith(f"/UsagePoint/{up.id}") and len(point.meter_readings) == 1
    assert isinstance(point.local_time, SdkLocalTime) or point.local_time is None
