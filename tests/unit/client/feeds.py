"""Small handcrafted Green Button documents for the SDK parser tests."""

from __future__ import annotations

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"
BASE = "https://dc.example/espi/1_1/resource"
UP = f"{BASE}/Subscription/5/UsagePoint/7"
MR = f"{UP}/MeterReading/1"
RT = f"{BASE}/ReadingType/3"


def entry(
    self_href: str, up_href: str, content: str, related: tuple[str, ...] = (), title: str = "t"
) -> str:
    links = f'<link rel="self" href="{self_href}"/><link rel="up" href="{up_href}"/>'
    links += "".join(f'<link rel="related" href="{h}"/>' for h in related)
    return (
        f"<entry><id>urn:uuid:{abs(hash(self_href)):032x}</id>{links}<title>{title}</title>"
        f"<content>{content}</content><published>2024-01-01T00:00:00Z</published>"
        "<updated>2024-01-01T00:00:00Z</updated></entry>"
    )


def feed(*entries: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="{ATOM}"><id>urn:uuid:1</id>'
        f"<title>f</title><updated>2024-01-01T00:00:00Z</updated>"
        f'<link rel="self" href="{BASE}/Batch/Subscription/5"/>' + "".join(entries) + "</feed>"
    ).encode()


def usage_point(kind: int = 0, href: str = UP, ltp: str | None = None) -> str:
    related = (f"{href}/MeterReading",) + ((ltp,) if ltp else ())
    return entry(
        href,
        href.rsplit("/", 1)[0],
        f'<UsagePoint xmlns="{ESPI}"><ServiceCategory><kind>{kind}</kind></ServiceCategory>'
        "</UsagePoint>",
        related,
    )


def meter_reading(href: str = MR, rt: str | None = RT, inner: str = "") -> str:
    related = (f"{href}/IntervalBlock",) + ((rt,) if rt else ())
    return entry(
        href,
        href.rsplit("/", 1)[0],
        f'<MeterReading xmlns="{ESPI}">{inner}</MeterReading>',
        related,
    )


def reading_type_body(uom: int = 72, power: int = 0, flow: int = 1, extra: str = "") -> str:
    return (
        f"<accumulationBehaviour>4</accumulationBehaviour><commodity>1</commodity>"
        f"<flowDirection>{flow}</flowDirection><intervalLength>900</intervalLength>"
        f"<kind>12</kind><powerOfTenMultiplier>{power}</powerOfTenMultiplier>"
        f"<uom>{uom}</uom>{extra}"
    )


def reading_type(
    href: str = RT, uom: int = 72, power: int = 0, flow: int = 1, extra: str = ""
) -> str:
    return entry(
        href,
        href.rsplit("/", 1)[0],
        f'<ReadingType xmlns="{ESPI}">{reading_type_body(uom, power, flow, extra)}</ReadingType>',
    )


def reading(start: object, duration: object = 900, value: object = 100, extra: str = "") -> str:
    return (
        f"<IntervalReading>{extra}<timePeriod><duration>{duration}</duration>"
        f"<start>{start}</start></timePeriod><value>{value}</value></IntervalReading>"
    )


def block(readings: str, mr: str = MR, n: int = 1, start: int = 1704067200) -> str:
    return entry(
        f"{mr}/IntervalBlock/{n}",
        f"{mr}/IntervalBlock",
        f'<IntervalBlock xmlns="{ESPI}"><interval><duration>86400</duration>'
        f"<start>{start}</start></interval>{readings}</IntervalBlock>",
    )


def local_time(
    href: str = f"{BASE}/LocalTimeParameters/1",
    body: str = "<dstEndRule>B40E2000</dstEndRule><dstOffset>3600</dstOffset>"
    "<dstStartRule>360E2000</dstStartRule><tzOffset>-28800</tzOffset>",
) -> str:
    return entry(
        href,
        href.rsplit("/", 1)[0],
        f'<LocalTimeParameters xmlns="{ESPI}">{body}</LocalTimeParameters>',
    )
