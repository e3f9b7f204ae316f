"""Every quirk of REAL-WORLD-QUIRKS.md, each in a small handcrafted document: the SDK
parser reads it correctly (REQ.21 espi.xsd; issue 13, parser test c)."""

from __future__ import annotations

from gbconnect.client import (
    FeedStats,
    LocalTime,
    MeterReading,
    Reading,
    ReadingType,
    UsagePoint,
    parse,
    readings,
)
from tests.unit.client.feeds import (
    BASE,
    ESPI,
    MR,
    RT,
    UP,
    block,
    entry,
    feed,
    local_time,
    meter_reading,
    reading,
    reading_type,
    usage_point,
)

T = 1704067200  # 2024-01-01T00:00:00Z


def one_channel(*readings_xml: str, uom: int = 72, power: int = 0, kind: int = 0) -> bytes:
    return feed(
        usage_point(kind),
        meter_reading(),
        reading_type(uom=uom, power=power),
        block("".join(readings_xml)),
    )


def test_the_plain_case_resolves_usage_point_meter_reading_and_unit() -> None:
    (r,) = readings(one_channel(reading(T, 900, 1234, extra="<cost>250000</cost>")))
    assert r == Reading(UP, MR, T, 900, 1234.0, "Wh", 1234, 2.5, None, 1)
    assert r.start_datetime().isoformat() == "2024-01-01T00:00:00+00:00"


def test_capital_service_delivery_point_is_read() -> None:
    up = entry(
        UP,
        UP.rsplit("/", 1)[0],
        f'<UsagePoint xmlns="{ESPI}"><ServiceCategory><kind>1</kind></ServiceCategory>'
        "<ServiceDeliveryPoint><name>Main St</name></ServiceDeliveryPoint></UsagePoint>",
        (f"{UP}/MeterReading",),
    )
    items = list(parse(feed(up, meter_reading(), reading_type(), block(reading(T)))))
    (point,) = [i for i in items if isinstance(i, UsagePoint)]
    assert point.service_kind == 1 and point.meter_readings == [MR]
    assert len([i for i in items if isinstance(i, Reading)]) == 1


def test_millisecond_durations_that_overflow_uint32_become_seconds() -> None:
    (r,) = readings(one_channel(reading(T, 5_184_000_000)))
    assert r.duration == 5_184_000


def test_float_timestamps_and_millisecond_starts() -> None:
    got = list(
        readings(one_channel(reading(f"{T}.0"), reading(f"{T + 900}.75"), reading(T * 1000)))
    )
    assert [r.start for r in got] == [T, T + 900, T]


def test_bare_date_updated_is_no_problem() -> None:
    doc = one_channel(reading(T)).replace(
        b"<updated>2024-01-01T00:00:00Z</updated>", b"<updated>2024-01-01</updated>"
    )
    assert len(list(readings(doc))) == 1


def test_empty_local_time_parameters_children() -> None:
    ltp = local_time(body="<dstEndRule/><dstOffset/><dstStartRule></dstStartRule><tzOffset/>")
    (lt,) = [i for i in parse(feed(ltp)) if isinstance(i, LocalTime)]
    assert (lt.tz_offset, lt.dst_offset, lt.dst_start_rule, lt.dst_end_rule) == (None,) * 4
    assert lt.utcoffset(T) == 0


def test_out_of_order_elements_and_links_after_content() -> None:
    shuffled = (
        "<IntervalReading><value>42</value><timePeriod><start>"
        f"{T}</start><duration>900</duration></timePeriod><cost>100000</cost></IntervalReading>"
    )
    rt = entry(
        RT,
        f"{BASE}/ReadingType",
        f'<ReadingType xmlns="{ESPI}"><uom>72</uom><powerOfTenMultiplier>3</powerOfTenMultiplier>'
        "<flowDirection>19</flowDirection><kind>12</kind></ReadingType>",
    )
    late_links = (
        f'<entry><id>urn:uuid:9</id><content><IntervalBlock xmlns="{ESPI}">{shuffled}'
        f'</IntervalBlock></content><link rel="self" href="{MR}/IntervalBlock/1"/>'
        f'<link rel="up" href="{MR}/IntervalBlock"/></entry>'
    )
    (r,) = readings(feed(usage_point(), late_links, meter_reading(), rt))
    assert (r.meter_reading, r.usage_point, r.start, r.duration) == (MR, UP, T, 900)
    assert (r.value, r.unit, r.cost, r.flow_direction) == (42000.0, "Wh", 1.0, 19)


def test_block_before_its_reading_type_waits_for_it() -> None:
    doc = feed(block(reading(T, value=5)), meter_reading(), usage_point(), reading_type(power=-3))
    (r,) = readings(doc)
    assert (r.value, r.unit, r.usage_point) == (0.005, "Wh", UP)


def test_a_reading_type_that_never_comes_gives_the_raw_value_without_unit() -> None:
    (r,) = readings(feed(usage_point(), meter_reading(), block(reading(T, value=7))))
    assert (r.value, r.unit, r.raw_value, r.flow_direction) == (7.0, "", 7, None)
    (r,) = readings(feed(block(reading(T, value=7))))  # not even a MeterReading
    assert (r.meter_reading, r.usage_point, r.unit) == (MR, UP, "")


def test_reading_type_nested_in_the_meter_reading() -> None:
    inner = (
        "<ReadingType><uom>169</uom><powerOfTenMultiplier>-3</powerOfTenMultiplier></ReadingType>"
    )
    mr = meter_reading(rt=None, inner=inner)
    items = list(parse(feed(usage_point(1), mr, block(reading(T, 86400, 2500)))))
    (rt,) = [i for i in items if isinstance(i, ReadingType)]
    (m,) = [i for i in items if isinstance(i, MeterReading)]
    assert rt.unit == "therm" and m.reading_type == rt.href
    (r,) = [i for i in items if isinstance(i, Reading)]
    assert (r.value, r.unit) == (2.5, "therm")


def test_uint32_overflow_in_values() -> None:
    (r,) = readings(one_channel(reading(T, value=5_000_000_000)))
    assert r.raw_value == 5_000_000_000 and r.value == 5e9


def test_any_namespace_prefix_is_read_by_namespace() -> None:
    for prefix in ("espi:", "ns0:", "ns2:"):
        p = prefix
        decl = f'xmlns:{prefix[:-1]}="{ESPI}"'
        doc = (
            f'<a:feed xmlns:a="http://www.w3.org/2005/Atom" {decl}>'
            f'<a:entry><a:link rel="self" href="{MR}"/><a:link rel="up" href="{UP}/MeterReading"/>'
            f'<a:link rel="related" href="{RT}"/>'
            f"<a:content><{p}MeterReading/></a:content></a:entry>"
            f'<a:entry><a:link rel="self" href="{RT}"/><a:content><{p}ReadingType><{p}uom>72'
            f"</{p}uom><{p}powerOfTenMultiplier>0</{p}powerOfTenMultiplier></{p}ReadingType>"
            f'</a:content></a:entry><a:entry><a:link rel="self" href="{MR}/IntervalBlock/1"/>'
            f'<a:link rel="up" href="{MR}/IntervalBlock"/><a:content><{p}IntervalBlock>'
            f"<{p}IntervalReading><{p}timePeriod><{p}duration>900</{p}duration><{p}start>{T}"
            f"</{p}start></{p}timePeriod><{p}value>9</{p}value></{p}IntervalReading>"
            f"</{p}IntervalBlock></a:content></a:entry></a:feed>"
        ).encode()
        (r,) = readings(doc)
        assert (r.value, r.unit, r.meter_reading) == (9.0, "Wh", MR), prefix


def test_old_time_attribute_codes_are_kept() -> None:
    for code in (2, 7, 53):
        extra = f"<timeAttribute>{code}</timeAttribute>"
        (rt,) = [i for i in parse(feed(reading_type(extra=extra))) if isinstance(i, ReadingType)]
        assert rt.time_attribute == code


def test_dst_days_of_23_and_25_hours_and_0_and_7200_second_readings() -> None:
    got = list(
        readings(
            one_channel(
                reading(T, 82800),
                reading(T + 82800, 90000),
                reading(T + 200000, 0),
                reading(T + 200000, 7200),
                reading(T + 2678400, 2678400),
            )
        )
    )
    assert [r.duration for r in got] == [82800, 90000, 0, 7200, 2678400]


def test_duplicate_intervals_are_both_given() -> None:
    got = list(readings(one_channel(reading(T, value=1), reading(T, value=2))))
    assert [(r.start, r.raw_value) for r in got] == [(T, 1), (T, 2)]


def test_scaled_watt_hours_therms_cubic_metres_and_money() -> None:
    cases = [(72, 3, 12, 12000.0, "Wh"), (169, -3, 2500, 2.5, "therm"), (42, 0, 3, 3.0, "m3")]
    cases += [(80, -2, 1999, 19.99, "$"), (119, 2, 5, 500.0, "ft3")]
    for uom, power, raw, value, unit in cases:
        (r,) = readings(one_channel(reading(T, value=raw), uom=uom, power=power))
        assert (r.value, r.unit, r.raw_value) == (value, unit, raw), uom


def test_a_single_entry_file() -> None:
    doc = block(reading(T, value=3)).replace(
        "<entry>", '<entry xmlns="http://www.w3.org/2005/Atom">'
    )
    (r,) = readings(doc.encode())
    assert (r.meter_reading, r.raw_value) == (MR, 3)
    up_only = usage_point(1).replace("<entry>", '<entry xmlns="http://www.w3.org/2005/Atom">')
    (point,) = list(parse(up_only.encode()))
    assert isinstance(point, UsagePoint) and point.id == "7"


def test_gas_only_file() -> None:
    doc = feed(
        usage_point(1),
        meter_reading(),
        reading_type(uom=169, power=-3),
        block(reading(T, 86400, 1000) + reading(T + 86400, 86400, 1500)),
    )
    assert [r.value for r in readings(doc)] == [1.0, 1.5]


def test_interval_reading_without_time_period_is_skipped_and_counted() -> None:
    stats = FeedStats()
    bare = "<IntervalReading><value>5</value></IntervalReading>"
    no_value = (
        f"<IntervalReading><timePeriod><duration>900</duration><start>{T}</start>"
        "</timePeriod></IntervalReading>"
    )
    got = list(readings(one_channel(reading(T), bare, no_value, reading(T + 900)), stats))
    assert [r.start for r in got] == [T, T + 900]
    assert (stats.readings, stats.skipped) == (2, 2)


def test_non_integer_ids_stay_strings() -> None:
    up = f"{BASE}/Subscription/abc/UsagePoint/0042-x"
    mr = f"{up}/MeterReading/MR.1"
    items = list(
        parse(feed(usage_point(href=up), meter_reading(mr), reading_type(), block(reading(T), mr)))
    )
    (point,) = [i for i in items if isinstance(i, UsagePoint)]
    (r,) = [i for i in items if isinstance(i, Reading)]
    assert point.id == "0042-x" and r.usage_point == up and r.meter_reading == mr


def test_relative_and_absolute_links_meet() -> None:
    rel_rt = "ReadingType/3"
    doc = feed(
        usage_point(),
        meter_reading(rt=rel_rt),
        reading_type(href=RT, power=1),
        block(reading(T, value=2)),
    )
    (r,) = readings(doc)
    assert (r.value, r.unit) == (20.0, "Wh")


def test_local_time_reaches_its_usage_point_in_any_order() -> None:
    ltp_href = f"{BASE}/LocalTimeParameters/1"
    for order in ((0, 1), (1, 0)):
        parts = [usage_point(ltp=ltp_href), local_time(ltp_href)]
        items = list(parse(feed(*(parts[i] for i in order))))
        (point,) = [i for i in items if isinstance(i, UsagePoint)]
        assert point.local_time is not None and point.local_time.tz_offset == -28800


def test_reading_quality_and_local_start() -> None:
    q = "<ReadingQuality><quality>8</quality></ReadingQuality>"
    ltp_href = f"{BASE}/LocalTimeParameters/1"
    doc = feed(
        usage_point(ltp=ltp_href),
        local_time(ltp_href),
        meter_reading(),
        reading_type(),
        block(reading(T, extra=q)),
    )
    items = list(parse(doc))
    (r,) = [i for i in items if isinstance(i, Reading)]
    (point,) = [i for i in items if isinstance(i, UsagePoint)]
    assert r.quality == 8 and point.local_time is not None
    assert r.local_start(point.local_time).isoformat() == "2023-12-31T16:00:00-08:00"


def test_many_usage_points_in_one_feed() -> None:
    parts = []
    for i in range(50):
        up = f"{BASE}/Subscription/5/UsagePoint/{i}"
        mr = f"{up}/MeterReading/1"
        parts += [usage_point(href=up), meter_reading(mr), block(reading(T, value=i), mr)]
    parts.append(reading_type())
    got = list(readings(feed(*parts)))
    assert sorted(r.raw_value for r in got) == list(range(50))
    assert {r.unit for r in got} == {"Wh"}
