"""ESPI XML import stores the same bytes, summaries and refusals as before the performance work.

Issue 14 (part 5) gave IntervalBlocks a fast path: a block whose readings all have the
plain shape (one ``timePeriod`` with one ``start`` and one ``duration``, one ``value``)
is read column by column, anything else element by element as before. These files
cover both paths and the edges between them (whitespace, prefixes, element order,
optional elements, floats, milliseconds, empty and malformed numbers, duplicates,
unsorted readings, merges with stored blocks). For each one the stored blocks (their
interval, count and packed bytes), the summary line or the refusal (message and
line), are digested; the expected digests were computed once with the code before
the fast path (commit 9c2d7ee), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer.models import RetailCustomer
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.services import ingest_file
from gbconnect.usage.models import IntervalBlock, MeterReading, UsagePoint

LA = ZoneInfo("America/Los_Angeles")
ESPI = "http://naesb.org/espi"
DAY = 1704096000  # 2024-01-01T08:00:00Z


def ir(
    start: int | str | None, value: int | str | None, duration: int | str = 900, **kw: str
) -> str:
    """One IntervalReading; ``kw``: ``first`` ("value" puts it before timePeriod),
    ``order`` ("sd": start before duration), ``extra`` (more children), ``tp_extra``."""
    tp = ""
    if start is not None:
        parts = [f"<duration>{duration}</duration>", f"<start>{start}</start>"]
        if kw.get("order") == "sd":
            parts.reverse()
        tp = f"<timePeriod>{''.join(parts)}{kw.get('tp_extra', '')}</timePeriod>"
    v = "" if value is None else f"<value>{value}</value>"
    body = v + tp if kw.get("first") == "value" else tp + v
    return f"<IntervalReading>{body}{kw.get('extra', '')}</IntervalReading>"


def day(d: int, n: int = 96, step: int = 900, **kw: str) -> str:
    """A day block body: its interval and ``n`` plain readings."""
    s0 = DAY + d * 86400
    interval = f"<interval><duration>{n * step}</duration><start>{s0}</start></interval>"
    return interval + "".join(ir(s0 + i * step, (i * 37 + d) % 900, step, **kw) for i in range(n))


def interval(d: int, duration: int = 86400) -> str:
    return f"<interval><duration>{duration}</duration><start>{DAY + d * 86400}</start></interval>"


def feed(*entries: str | list[str], pretty: bool = True) -> str:
    """A Batch feed: one UsagePoint, MeterReading and ReadingType, then one entry per
    item of ``entries`` (a block body, or a list of bodies packed into one entry);
    ``pretty``: one element a line, so that each reading has a line of its own."""
    nl = "\n  " if pretty else ""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        "<id>urn:uuid:0</id><title>t</title><updated>2024-01-01T00:00:00Z</updated>\n"
        '<entry><id>urn:uuid:u</id><link rel="self" href="RetailCustomer/1/UsagePoint/1"/>'
        '<link rel="up" href="RetailCustomer/1/UsagePoint"/><title>UP</title>'
        f'<content><UsagePoint xmlns="{ESPI}"><ServiceCategory><kind>0</kind>'
        "</ServiceCategory></UsagePoint></content></entry>\n"
        '<entry><id>urn:uuid:m</id><link rel="self" href="RetailCustomer/1/UsagePoint/1/'
        'MeterReading/1"/><link rel="up" href="RetailCustomer/1/UsagePoint/1/MeterReading"/>'
        '<link rel="related" href="ReadingType/1"/>'
        f'<content><MeterReading xmlns="{ESPI}"/></content></entry>\n'
        '<entry><id>urn:uuid:r</id><link rel="self" href="ReadingType/1"/>'
        f'<content><ReadingType xmlns="{ESPI}"><commodity>1</commodity>'
        "<intervalLength>900</intervalLength><uom>72</uom></ReadingType></content></entry>\n"
    ]
    for i, item in enumerate(entries):
        bodies = item if isinstance(item, list) else [item]
        blocks = "".join(
            f'<IntervalBlock xmlns="{ESPI}">{nl}{body.replace("><", ">" + nl + "<")}'
            f"{nl}</IntervalBlock>"
            for body in bodies
        )
        out.append(
            f'<entry><id>urn:uuid:b{i}</id><link rel="self" href="RetailCustomer/1/UsagePoint/'
            f'1/MeterReading/1/IntervalBlock/{i}"/><link rel="up" href="RetailCustomer/1/'
            f'UsagePoint/1/MeterReading/1/IntervalBlock"/><content>{blocks}</content></entry>\n'
        )
    out.append("</feed>\n")
    return "".join(out)


def prefixed(text: str) -> str:
    """The same feed with the ESPI elements under the prefix ``e:``."""
    out = text.replace(f'<IntervalBlock xmlns="{ESPI}">', f'<e:IntervalBlock xmlns:e="{ESPI}">')
    out = out.replace("</IntervalBlock>", "</e:IntervalBlock>")
    names = "interval|IntervalReading|timePeriod|start|duration|value|cost"
    return re.sub(rf"<(/?)({names})([ >/])", r"<\1e:\2\3", out)


def parent_last(text: str) -> str:
    """The same feed with the MeterReading entry last: its blocks wait for it."""
    lines = text.split("\n")
    (mr,) = (i for i, line in enumerate(lines) if "<MeterReading " in line)
    moved = lines.pop(mr)
    lines.insert(len(lines) - 2, moved)
    return "\n".join(lines)


def _rev(body: str) -> str:
    head, *rest = body.split("<IntervalReading>")
    return head + "".join("<IntervalReading>" + r for r in reversed(rest))


S = DAY + 86400 * 10  # a start for hand-written blocks

#: Each case: the files imported one after the other (one customer per case).
CASES: dict[str, list[str]] = {
    "plain": [feed(day(0), day(1), day(2), pretty=False)],
    "plain-reimport": [feed(day(0), day(1), pretty=False), feed(day(0), day(1), pretty=False)],
    "plain-pretty": [feed(day(0), day(1))],
    "plain-prefixed": [prefixed(feed(day(0), day(1)))],
    "start-before-duration": [feed(day(0, order="sd"))],
    "value-first": [feed(day(0, first="value"))],
    "hourly": [feed(day(0, n=24, step=3600))],
    "one-entry-two-blocks": [feed([day(0), day(1)])],
    "padded-numbers": [
        feed(interval(10) + ir(f" {S} ", " 5 ", " 900 ") + ir(f"\n{S + 900}\n", "\t6", "900 "))
    ],
    "signs": [feed(interval(10) + ir(S, "-5") + ir(S + 900, "+7") + ir(S + 1800, "0"))],
    "value-bounds": [feed(interval(10) + ir(S, str(-(2**63) + 1)) + ir(S + 900, str(2**63 - 1)))],
    "value-too-large": [feed(interval(10) + ir(S, str(2**63)))],
    "value-not-a-number": [feed(day(0), interval(10) + ir(S, "1") + ir(S + 900, "abc"))],
    "value-float": [feed(interval(10) + ir(S, "1.5"))],
    "value-empty": [feed(interval(10) + ir(S, "") + ir(S + 900, "3"))],
    "value-blank": [feed(interval(10) + ir(S, "   ") + ir(S + 900, "3"))],
    "value-missing": [feed(interval(10) + ir(S, None) + ir(S + 900, "3"))],
    "value-cdata": [feed(interval(10) + ir(S, "<![CDATA[12]]>"))],
    "value-charref": [feed(interval(10) + ir(S, "&#49;2"))],
    "value-arabic-digits": [feed(interval(10) + ir(S, "\u0661\u0662"))],
    "value-with-child": [feed(interval(10) + ir(S, "5<x>6</x>"))],
    "value-comment": [feed(interval(10) + ir(S, "5<!-- c -->6"))],
    "two-values": [feed(interval(10) + ir(S, "5", extra="<value>6</value>"))],
    "start-float": [feed(interval(10) + ir(f"{S}.0", 1) + ir(f"{S + 900}.5", 2))],
    "start-ms": [feed(interval(10) + ir(S * 1000, 1) + ir((S + 900) * 1000, 2))],
    "start-ms-bad": [feed(interval(10) + ir(S * 1000 + 1, 1))],
    "start-empty": [feed(interval(10) + ir("", 1))],
    "start-text": [feed(interval(10) + ir("soon", 1))],
    "duration-ms": [feed(interval(10) + ir(S, 1, 900 * 1000 * 10**7))],
    "duration-float": [feed(interval(10) + ir(S, 1, "900.0"))],
    "duration-negative": [feed(interval(10) + ir(S, 1, -900))],
    "duration-zero": [feed(interval(10) + ir(S, 1, 0) + ir(S + 900, 2))],
    "duration-empty": [feed(interval(10) + ir(S, 1, ""))],
    "duration-uint32-max": [feed(interval(10) + ir(S, 1, 2**32 - 1))],
    "no-time-period": [feed(interval(10, 2700) + ir(None, 1) + ir(None, 2) + ir(None, 3))],
    "no-time-period-no-interval": [feed(ir(None, 1))],
    "some-time-periods": [feed(interval(10) + ir(S, 1) + ir(None, 2) + ir(S + 3600, 3))],
    "unsorted": [feed(_rev(day(0)))],
    "duplicate-start": [feed(interval(10) + ir(S, 1) + ir(S + 900, 2) + ir(S, 3))],
    "irregular": [
        feed(interval(10) + ir(S, 1, 3600) + ir(S + 3600, 2, 7200) + ir(S + 10800, 3, 3600))
    ],
    "gap": [feed(interval(10) + ir(S, 1) + ir(S + 1800, 2))],
    "cost-quality-tou": [
        feed(
            interval(10)
            + ir(
                S,
                1,
                extra="<cost>120</cost><ReadingQuality><quality>8</quality>"
                "</ReadingQuality><ReadingQuality><quality>19</quality></ReadingQuality>",
            )
            + ir(S + 900, 2, extra="<tou>1</tou><cpp>0</cpp><consumptionTier>2</consumptionTier>")
            + ir(S + 1800, 3)
        )
    ],
    "quality-bad": [
        feed(
            interval(10)
            + ir(S, 1, extra="<ReadingQuality><quality>70000</quality></ReadingQuality>")
        )
    ],
    "unknown-child": [feed(interval(10) + ir(S, 1, extra="<note>x</note>") + ir(S + 900, 2))],
    "time-period-extra": [feed(interval(10) + ir(S, 1, tp_extra="<end>1</end>"))],
    "time-period-twice": [
        feed(
            interval(10)
            + ir(
                S,
                1,
                extra=f"<timePeriod><start>{S + 900}</start><duration>60</duration></timePeriod>",
            )
        )
    ],
    "start-twice": [feed(interval(10) + ir(S, 1, tp_extra=f"<start>{S + 60}</start>"))],
    "interval-last": [feed(day(0).split("</interval>", 1)[1] + interval(0))],
    "interval-twice": [feed(interval(3) + day(0))],
    "interval-missing": [feed(day(0).split("</interval>", 1)[1])],
    "interval-bad": [feed(f"<interval><duration>x</duration><start>{S}</start></interval>")],
    "interval-zero-with-readings": [feed(interval(10, 0) + ir(S, 1))],
    "empty-block": [feed(interval(10))],
    "nested-value-elsewhere": [feed(f"<other><value>9</value></other>{day(0)}")],
    "overlap-in-file": [feed(day(0), day(0).replace("<value>3</value>", "<value>4</value>"))],
    "overlap-stored": [feed(day(0), day(1)), feed(day(1).replace("<value>", "<value>1"))],
    "partial-update": [
        feed(day(0)),
        feed(interval(0, 3600) + "".join(ir(DAY + i * 900, 7) for i in range(4))),
    ],
    "blocks-before-their-parent": [
        parent_last(feed(day(0), _rev(day(1)), interval(10) + ir(S, 1, 0) + ir(S + 900, 2)))
    ],
    "repeated-start-before-parent": [
        parent_last(feed(day(0), interval(10) + ir(S, 1) + ir(S + 900, 2) + ir(S, 3)))
    ],
    "bad-entry-among-good": [feed(day(0), interval(10) + ir(S, "x"), day(1))],
}

#: sha256 (first 16 hex digits) of each case's outcome, from the code before the performance work.
EXPECTED: dict[str, str] = {
    "plain": "89427866a4078b70",
    "plain-reimport": "ddf4bf7d376e9400",
    "plain-pretty": "59a78272d1a5e83f",
    "plain-prefixed": "59a78272d1a5e83f",
    "start-before-duration": "5d94e40e19371d9d",
    "value-first": "5d94e40e19371d9d",
    "hourly": "c6de2034181dd4a3",
    "one-entry-two-blocks": "59a78272d1a5e83f",
    "padded-numbers": "7ef579e5688abf7e",
    "signs": "d1600ad07943e5a9",
    "value-bounds": "d38487593b2e481a",
    "value-too-large": "e0548be2ebc81ac0",
    "value-not-a-number": "4ed269b92421831a",
    "value-float": "e8ee8ca5514af1e3",
    "value-empty": "7be39a0aa43512ea",
    "value-blank": "7be39a0aa43512ea",
    "value-missing": "7be39a0aa43512ea",
    "value-cdata": "fc4762cae3426ae9",
    "value-charref": "fc4762cae3426ae9",
    "value-arabic-digits": "fc4762cae3426ae9",
    "value-with-child": "dcb83da830b2bcbd",
    "value-comment": "58835c0f0eee55ac",
    "two-values": "bd9df80807bc32e0",
    "start-float": "33314b4d4fe243a1",
    "start-ms": "33314b4d4fe243a1",
    "start-ms-bad": "52406ade36ca3b71",
    "start-empty": "447085d25b42eba2",
    "start-text": "650b928c953c0a62",
    "duration-ms": "1beb1a7056da46f3",
    "duration-float": "c52d8ffdd646fa45",
    "duration-negative": "ee9e0750921e054d",
    "duration-zero": "c1a5cf92ca1dee0d",
    "duration-empty": "d860fab40d17c02c",
    "duration-uint32-max": "a951a26dd7d4544b",
    "no-time-period": "8f2033702071fbc6",
    "no-time-period-no-interval": "c807ceeb453cd2c7",
    "some-time-periods": "c42c3c41e58e7b3a",
    "unsorted": "5d94e40e19371d9d",
    "duplicate-start": "a5605ac42d5c401b",
    "irregular": "12b7c138d849815f",
    "gap": "07937d9e4311310d",
    "cost-quality-tou": "cbe2d4343cab5596",
    "quality-bad": "cfc3e34890901243",
    "unknown-child": "33314b4d4fe243a1",
    "time-period-extra": "c52d8ffdd646fa45",
    "time-period-twice": "61e0b43b61665ef3",
    "start-twice": "8761c44e1a2052bd",
    "interval-last": "5d94e40e19371d9d",
    "interval-twice": "5d94e40e19371d9d",
    "interval-missing": "5d94e40e19371d9d",
    "interval-bad": "ea6be1e66366d0a4",
    "interval-zero-with-readings": "c7f40c2341c43cb9",
    "empty-block": "afc556144f7b704d",
    "nested-value-elsewhere": "5d94e40e19371d9d",
    "overlap-in-file": "36bd3e747f9b454a",
    "overlap-stored": "0e9900eaa470697c",
    "partial-update": "fafdf8aa8e301bd1",
    "blocks-before-their-parent": "4111e0b7a9753938",
    "repeated-start-before-parent": "a62d340b2f5d70e6",
    "bad-entry-among-good": "0deebf56ca6719af",
}


def outcome(factory: sessionmaker[Session], tmp: Path, case: str, files: list[str]) -> str:
    """What importing ``files`` for a customer of its own stores and says, as text."""
    lines: list[str] = []
    for i, text in enumerate(files):
        path = tmp / f"{case}-{i}.xml"
        path.write_text(text, encoding="utf-8")
        for skip in (False, True) if case == "bad-entry-among-good" else (False,):
            try:
                summary = ingest_file(factory, path, case, LA, skip_bad_entries=skip)
            except IngestError as exc:
                lines.append(f"refused line {exc.line}: {exc.message}")
            else:
                lines.append(summary.line().replace(str(path), "FILE"))
    with factory() as session:
        rows = session.execute(
            select(
                MeterReading.source_key,
                IntervalBlock.start,
                IntervalBlock.duration,
                IntervalBlock.reading_count,
                IntervalBlock.data,
            )
            .join(MeterReading, IntervalBlock.meter_reading_id == MeterReading.id)
            .join(UsagePoint)
            .join(RetailCustomer)
            .where(RetailCustomer.username == case)
            .order_by(MeterReading.source_key, IntervalBlock.start)
        ).all()
    lines.extend(f"{k} {s} {d} {n} {data.hex()}" for k, s, d, n, data in rows)
    return "\n".join(lines)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_stored_blocks_summaries_and_refusals_unchanged(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    got = {case: digest(outcome(factory, tmp_path, case, files)) for case, files in CASES.items()}
    assert got == EXPECTED


@pytest.mark.parametrize("case", ["plain", "value-not-a-number", "overlap-in-file"])
def test_outcomes_read_as_expected(
    factory: sessionmaker[Session], tmp_path: Path, case: str
) -> None:
    """A few outcomes spelled out, so that a digest mismatch has a readable neighbour."""
    text = outcome(factory, tmp_path, case, CASES[case])
    if case == "plain":
        assert text.startswith("FILE (ESPI XML): 1 usage point(s), 1 meter reading(s), 288 ")
        assert "blocks 3 new, 0 replaced, 0 unchanged" in text
    elif case == "value-not-a-number":
        assert text.startswith("refused line ")
        assert "value 'abc' is not an integer" in text
    else:
        assert "reading(s) of the file replaced by a later one with the same start" in text
