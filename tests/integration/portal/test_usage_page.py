"""The customer's "My usage" page (``GET /account/usage``) on SQLite and PostgreSQL:
the numbers it shows are the stored readings summed per local day, hour or month
(computed here independently, reading by reading, with ``blocks.decode``); another
customer's service is 404; a bad query is 400 with a sentence; the charts are
self-contained SVG."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from html import unescape

import numpy as np
import pytest
from sqlalchemy import select

from gbconnect.ingest.series import Channel, store_channel
from gbconnect.ingest.summary import FileSummary
from gbconnect.portal.usage_charts import period_text
from gbconnect.usage import blocks
from gbconnect.usage.aggregate import year_before
from gbconnect.usage.models import IntervalBlock, MeterReading, ReadingType
from gbconnect.usage.points import customer_usage_point_ids
from tests.factories.customers import make_customer
from tests.factories.usage import ELECTRIC, TODAY, ZONE, electric_channel
from tests.factories.world import World

PAGE = "/account/usage"


@pytest.fixture
def site(world: World) -> World:
    """The world (its application serves the usage page)."""
    return world


def _readings(world: World, up_id: int, flow: int = 1, uom: int = 72) -> list[tuple[int, int]]:
    """(start, value) of every stored reading of the usage point's channel."""
    with world.factory() as session:
        mr_id = session.scalars(
            select(MeterReading.id)
            .join(ReadingType, ReadingType.id == MeterReading.reading_type_id)
            .where(MeterReading.usage_point_id == up_id)
            .where(ReadingType.flow_direction == flow, ReadingType.uom == uom)
        ).one()
        out = []
        for data in session.scalars(
            select(IntervalBlock.data).where(IntervalBlock.meter_reading_id == mr_id)
        ):
            r = blocks.decode(data)
            out.extend((s, v) for s, v in zip(r.starts, r.values, strict=True) if v is not None)
        return out


def _local_sums(world: World, readings: list[tuple[int, int]], fmt: str) -> dict[str, int]:
    sums: dict[str, int] = defaultdict(int)
    for start, value in readings:
        sums[datetime.fromtimestamp(start, world.settings.zone).strftime(fmt)] += value
    return sums


def _rows(html: str, table_id: str) -> dict[str, list[str]]:
    """The body rows of a table: row header -> cell texts."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table, html
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(0), re.S)
    assert body
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S):
        # A bucket's row is headed by its <time datetime>; a bill's by its period.
        head = re.search(r'<th scope="row"><time datetime="([^"]+)">.*?</th>', row, re.S)
        head = head or re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        assert head
        rows[unescape(head.group(1).strip())] = [
            unescape(c.strip()) for c in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
    return rows


def _shown(value: int, scale: float) -> str:
    return f"{value * scale:,.2f}"


def _electric(world: World) -> str:
    """alice's electricity (the page's default is her first service by id)."""
    return str(world.alice_points[0])


def _days(world: World) -> tuple[date, date]:
    """The last 30 local days of alice's electricity: what the page shows by default."""
    last_start = max(s for s, _v in _readings(world, world.alice_points[0]))
    last = datetime.fromtimestamp(last_start, world.settings.zone).date()
    return last - timedelta(days=29), last


def test_daily_table_is_the_sum_of_the_stored_readings(site: World) -> None:
    site.login()
    r = site.client.get(PAGE, params={"view": "table", "service": _electric(site)})
    assert r.status_code == 200, r.text
    first, last = _days(site)
    assert period_text(first, last) in r.text  # "Oct 31, 2026 to Nov 29, 2026"
    rows = _rows(r.text, "usage-table")
    sums = _local_sums(site, _readings(site, site.alice_points[0]), "%Y-%m-%d")
    assert list(rows) == [str(first + timedelta(days=i)) for i in range(30)]
    assert set(rows) <= set(sums)
    for day, cells in rows.items():
        # From the grid (kWh), then the same day a year before (no data then).
        assert cells[0] == _shown(sums[day], 1e-3), day
        assert cells[1] == "–"
    total = sum(sums[d] for d in rows)
    assert f"<strong>{_shown(total, 1e-3)} kWh</strong>" in r.text
    assert '<th scope="col">Day</th>' in r.text
    assert "<caption>" in r.text


def test_hourly_and_monthly_steps_sum_by_local_hour_and_month(site: World) -> None:
    site.login()
    first, last = _days(site)
    readings = _readings(site, site.alice_points[0])
    hourly = site.client.get(
        PAGE,
        params={
            "view": "table",
            "step": "hour",
            "from": str(last),
            "to": str(last),
            "service": _electric(site),
        },
    )
    assert hourly.status_code == 200, hourly.text
    rows = _rows(hourly.text, "usage-table")
    sums = _local_sums(site, readings, "%Y-%m-%d %H:00")
    assert len(rows) in (23, 24, 25)
    for hour, cells in rows.items():
        assert cells[0] == (_shown(sums[hour], 1e-3) if hour in sums else "–"), hour
    monthly = site.client.get(
        PAGE,
        params={
            "view": "table",
            "step": "month",
            "from": str(first - timedelta(days=60)),
            "to": str(last),
            "service": _electric(site),
        },
    )
    assert monthly.status_code == 200, monthly.text
    months = _local_sums(site, readings, "%Y-%m")
    rows = _rows(monthly.text, "usage-table")
    for month, total in months.items():
        assert rows[month][0] == _shown(total, 1e-3), month
    assert sum(1 for cells in rows.values() if cells[0] != "–") == len(months)


def test_gas_in_therms_and_the_bill(site: World) -> None:
    site.login()
    gas = site.alice_points[1]
    readings = _readings(site, gas, uom=169)
    r = site.client.get(PAGE, params={"service": str(gas), "view": "table", "step": "day"})
    assert r.status_code == 200, r.text
    sums = _local_sums(site, readings, "%Y-%m-%d")
    rows = _rows(r.text, "usage-table")
    assert "Gas used (therms)" in r.text
    for day, cells in rows.items():
        # therm x 10^-3 (powerOfTenMultiplier -3).
        assert cells[0] == (_shown(sums[day], 1e-3) if day in sums else "–"), day
    electric = site.client.get(PAGE, params={"view": "table", "service": _electric(site)})
    bills = _rows(electric.text, "bills-table")
    assert [cells for cells in bills.values()] == [["612.00 kWh", "$88.12"]]


def test_the_chart_is_inline_self_contained_svg(site: World) -> None:
    site.login()
    r = site.client.get(PAGE, params={"service": _electric(site)})
    assert r.status_code == 200, r.text
    html = r.text
    assert html.count("<svg") >= 2  # electricity and the bills
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg
    assert 'role="img"' in svg.group(0)
    assert re.search(r'<title id="chart-[0-9a-f]+-title">Electricity per day \(kWh\)</title>', html)
    assert re.search(
        r'<desc id="chart-[0-9a-f]+-desc">Bar chart: Electricity per day \(kWh\)', html
    )
    assert "viewBox" in svg.group(0) and 'width="' not in svg.group(0)[:300]
    assert "<script" not in html
    # Nothing loaded from another host: no external script, stylesheet, image or use.
    for ref in re.findall(r'(?:src|href|xlink:href)="([^"]*)"', html):
        assert not re.match(r"(https?:)?//", ref), ref
    assert not re.search(r"<link[^>]+https?://", html)
    assert '<label for="service">' in html and '<label for="from">' in html


def test_not_signed_in_goes_to_the_sign_in_page(site: World) -> None:
    r = site.client.get(PAGE, params={"step": "day"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Faccount%2Fusage%3Fstep%3Dday"


def test_another_customers_service_or_an_unknown_one_is_404(site: World) -> None:
    site.login()
    for service in (site.bob_points[0], 1234567890123, 2**63 - 1):
        r = site.client.get(PAGE, params={"service": str(service)})
        assert r.status_code == 404, service
        assert "There is no such service." in r.text
        assert str(service) not in r.text
    # bob sees his own (empty) service, and not alice's.
    site.client.post("/logout", data={"csrf": "x"})
    site.client.cookies.clear()
    site.login("bob")
    mine = site.client.get(PAGE)
    assert mine.status_code == 200
    assert "There are no readings yet" in mine.text
    theirs = site.client.get(PAGE, params={"service": str(site.alice_points[0])})
    assert theirs.status_code == 404


@pytest.mark.parametrize(
    ("params", "sentence"),
    [
        ({"from": "2024-13-01"}, "is not a date: write it as YYYY-MM-DD"),
        ({"to": "yesterday"}, "is not a date"),
        ({"from": "2024-03-10", "to": "2024-03-01"}, "The end date is before the start date"),
        ({"step": "week"}, "Choose a step of hour, day or month."),
        ({"view": "pie"}, "Choose the chart view or the table view."),
        ({"service": "abc"}, "The service is not one of yours"),
        ({"service": "²"}, "The service is not one of yours"),
        ({"service": "１２"}, "The service is not one of yours"),
        ({"from": "２０２４-01-01"}, "is not a date"),
        ({"from": "2024-01-01T00:00:00+99:00"}, "is not a date"),
        ({"to": "x" * 5000}, "is not a date"),
        ({"from": '"><script>alert(1)</script>'}, "is not a date"),
        ({"service": "99999999999999999999999"}, "The service is not one of yours"),
        ({"from": "0001-01-01"}, "between 1971 and 2999"),
        ({"from": "2020-01-01", "to": "2024-01-01", "step": "hour"}, "An hourly view covers"),
    ],
)
def test_bad_parameters_are_400_with_a_sentence(
    site: World, params: dict[str, str], sentence: str
) -> None:
    site.login()
    r = site.client.get(PAGE, params=params)
    assert r.status_code == 400, r.text
    assert 'role="alert"' in r.text
    assert sentence in unescape(r.text)
    assert "<form" in r.text  # the page, to try again
    assert "<script" not in r.text  # what was sent is escaped


@dataclass
class _Tagged(Channel):
    """A channel whose MeterReading key says what it is (demand shares the energy
    channel's commodity, flow and interval)."""

    tag: str = ""

    @property
    def key_suffix(self) -> str:
        return f"{super().key_suffix}-{self.tag}"


def _carol(world: World) -> int:
    """carol: 400 days of 15-minute energy from and to the grid (solar) and demand in W,
    on one usage point; its id."""
    with world.factory() as session:
        owner = make_customer(session, "carol").row
        forward = electric_channel("carol-electric", days=400)
        n = forward.starts.size
        channels = [
            forward,
            replace(
                forward,
                reading_type={**ELECTRIC, "flow_direction": 19},
                values=(np.arange(n, dtype=np.int64) * 7) % 300,
                costs=None,
            ),
            _Tagged(
                **{
                    **forward.__dict__,
                    "reading_type": {
                        **ELECTRIC,
                        "kind": 37,
                        "uom": 38,
                        "accumulation_behaviour": 6,
                        "power_of_ten_multiplier": 1,
                    },
                    "values": (np.arange(n, dtype=np.int64) * 13) % 997,
                    "costs": None,
                },
                tag="demand",
            ),
        ]
        summary = FileSummary("carol", "test")
        for ch in channels:
            store_channel(session, owner, ch, ZONE, summary, TODAY)
        session.commit()
        return int(customer_usage_point_ids(session, owner.id)[0])


def test_export_demand_and_the_same_days_a_year_before(site: World) -> None:
    up_id = _carol(site)
    site.login("carol")
    last = datetime.fromtimestamp(TODAY - 86400, ZONE).date() - timedelta(days=3)
    first = last - timedelta(days=9)
    r = site.client.get(
        PAGE, params={"view": "table", "step": "day", "from": str(first), "to": str(last)}
    )
    assert r.status_code == 200, r.text
    assert "Sent to the grid (kWh)" in r.text and "Peak demand (highest) (kW)" in r.text
    imports = _local_sums(site, _readings(site, up_id, flow=1), "%Y-%m-%d")
    exports = _local_sums(site, _readings(site, up_id, flow=19), "%Y-%m-%d")
    peaks: dict[str, int] = {}
    for start, value in _readings(site, up_id, uom=38):
        day = datetime.fromtimestamp(start, ZONE).strftime("%Y-%m-%d")
        peaks[day] = max(peaks.get(day, value), value)
    rows = _rows(r.text, "usage-table")
    assert len(rows) == 10
    for day, cells in rows.items():
        before = str(year_before(date.fromisoformat(day)))
        assert cells == [
            _shown(imports[day], 1e-3),
            _shown(imports[before], 1e-3),
            _shown(exports[day], 1e-3),
            _shown(exports[before], 1e-3),
            # W x 10^1, shown in kW: the highest reading of the day.
            _shown(peaks[day], 1e-2),
            _shown(peaks[before], 1e-2),
        ], day
    chart = site.client.get(PAGE, params={"step": "day", "from": str(first), "to": str(last)})
    assert chart.status_code == 200
    assert "Sent to the grid, a year before" in chart.text
    assert chart.text.count("<svg") == 2  # energy (kWh) and demand (kW)


def test_a_period_without_readings_is_a_page_not_an_error(site: World) -> None:
    site.login()
    for view in ("chart", "table"):
        r = site.client.get(
            PAGE,
            params={
                "service": _electric(site),
                "from": "2001-01-01",
                "to": "2001-01-31",
                "view": view,
            },
        )
        assert r.status_code == 200, view
        assert "Jan 1, 2001 to Jan 31, 2001" in r.text
    gas_hourly = site.client.get(
        PAGE, params={"service": str(site.alice_points[1]), "step": "hour"}
    )
    assert gas_hourly.status_code == 200
    assert "Gas used is read every day: choose a longer step to see it." in gas_hourly.text
