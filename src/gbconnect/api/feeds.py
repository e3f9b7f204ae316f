"""Atom entries and streamed feeds of the usage tree (REQ.21 FB_1, FB_4; Batch, FB_35).

Every entry has self and up links and the related links a client follows:
UsagePoint -> MeterReading, UsageSummary, ElectricPowerQualitySummary,
LocalTimeParameters; MeterReading -> IntervalBlock and ReadingType (the IntervalBlock
link the Java reference forgets, OpenESPI-Common-java #325). Feeds are generators of
text pieces read block by block from the store: memory stays bounded for any size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from gbconnect.config import Settings
from gbconnect.espi.atom import entry
from gbconnect.oauth.scoping import Grant
from gbconnect.usage import models as um
from gbconnect.usage import xml as usage_xml
from gbconnect.web.query import FeedQuery

BLOCKS_PER_FETCH = 2000


@dataclass(frozen=True)
class Paths:
    """Hrefs of one usage point's tree under ``prefix`` (``.../Subscription/{id}`` or
    ``.../RetailCustomer/{id}``); ReadingType and LocalTimeParameters live at ``root``."""

    root: str
    prefix: str

    def usage_points(self) -> str:
        return f"{self.prefix}/UsagePoint"

    def usage_point(self, up: int) -> str:
        return f"{self.prefix}/UsagePoint/{up}"

    def meter_readings(self, up: int) -> str:
        return f"{self.usage_point(up)}/MeterReading"

    def meter_reading(self, up: int, mr: int) -> str:
        return f"{self.meter_readings(up)}/{mr}"

    def blocks(self, up: int, mr: int) -> str:
        return f"{self.meter_reading(up, mr)}/IntervalBlock"

    def summaries(self, up: int) -> str:
        return f"{self.usage_point(up)}/UsageSummary"

    def qualities(self, up: int) -> str:
        return f"{self.usage_point(up)}/ElectricPowerQualitySummary"

    def reading_type(self, rt: int) -> str:
        return f"{self.root}/ReadingType/{rt}"

    def local_time(self, ltp: int) -> str:
        return f"{self.root}/LocalTimeParameters/{ltp}"


def window(grant: Grant, query: FeedQuery) -> tuple[int | None, int | None]:
    """Reading starts allowed: the grant's period narrowed by published-min/max."""
    lo, hi = grant.lo, grant.hi
    qlo, qhi = query.window
    if qlo is not None:
        lo = qlo if lo is None else max(lo, qlo)
    if qhi is not None:
        hi = qhi if hi is None else min(hi, qhi)
    return lo, hi


def subscription_paths(settings: Settings, sid: int | None) -> Paths:
    """Hrefs of the usage tree of Subscription ``sid``."""
    return Paths(settings.public_resource_base, settings.resource_url(f"Subscription/{sid}"))


def root_paths(settings: Settings) -> Paths:
    """Hrefs of ReadingType and LocalTimeParameters (at the resource base)."""
    base = settings.public_resource_base
    return Paths(base, base)


# -- entries ----------------------------------------------------------------------------


class Resource(Protocol):
    """What every entry takes from its resource."""

    @property
    def title(self) -> str | None: ...

    @property
    def published(self) -> int: ...

    @property
    def updated(self) -> int: ...


def resource_entry(
    row: Resource, self_href: str, up_href: str, content: str, related: Iterable[str] = ()
) -> str:
    """The Atom entry of a stored resource: its title and times, its links, its content."""
    return entry(
        self_href=self_href,
        up_href=up_href,
        related=related,
        title=row.title,
        published=row.published,
        updated=row.updated,
        content=content,
    )


def known_zone(up: um.UsagePoint) -> bool:
    """The usage point links LocalTimeParameters that name a zone (FB_1). One stored
    without ``tzOffset`` (before such entries were left out at import) is unknown, and
    unknown is not UTC: neither it nor the link to it is written."""
    if up.local_time_parameters_id is None:
        return False
    ltp = up.local_time_parameters
    return ltp is not None and ltp.tz_offset is not None


def usage_point_entry(
    up: um.UsagePoint, grant: Grant, paths: Paths, zone_known: bool | None = None
) -> str:
    """The UsagePoint entry; ``zone_known``: :func:`known_zone`, when it was read with
    the row (the row path reads no relationship)."""
    related = []
    if grant.intervals:
        related.append(paths.meter_readings(up.id))
    if grant.summaries:
        related.append(paths.summaries(up.id))
    if grant.quality:
        related.append(paths.qualities(up.id))
    if known_zone(up) if zone_known is None else zone_known:
        related.append(paths.local_time(up.local_time_parameters_id))  # type: ignore[arg-type]
    return resource_entry(
        up, paths.usage_point(up.id), paths.usage_points(), usage_xml.usage_point(up), related
    )


def meter_reading_entry(mr: um.MeterReading, up_id: int, paths: Paths) -> str:
    related = [paths.blocks(up_id, mr.id)]
    if mr.reading_type_id is not None:
        related.append(paths.reading_type(mr.reading_type_id))
    self_href, up_href = paths.meter_reading(up_id, mr.id), paths.meter_readings(up_id)
    return resource_entry(mr, self_href, up_href, usage_xml.meter_reading(), related)


def reading_type_entry(rt: um.ReadingType, grant: Grant, paths: Paths) -> str:
    content = usage_xml.reading_type(rt, with_cost=grant.interval_cost)
    return resource_entry(rt, paths.reading_type(rt.id), f"{paths.root}/ReadingType", content)


def local_time_entry(ltp: um.LocalTimeParameters, paths: Paths) -> str:
    content = usage_xml.local_time_parameters(ltp)
    return resource_entry(
        ltp, paths.local_time(ltp.id), f"{paths.root}/LocalTimeParameters", content
    )


class BlockRow(Protocol):
    """What a block entry needs: an IntervalBlock, or a row of its table."""

    id: int
    start: int
    duration: int
    data: bytes
    published: int
    updated: int


def block_entry(
    row: BlockRow,
    up_id: int,
    mr_id: int,
    grant: Grant,
    paths: Paths,
    lo: int | None,
    hi: int | None,
) -> str | None:
    xml, count, _, last_end = usage_xml.interval_readings(row.data, grant.interval_cost, lo, hi)
    if not count:
        return None
    # A block stored with duration 0 (before such blocks were refused at import) is
    # written with the span of its readings: a block of duration 0 holds nothing.
    duration = row.duration or max(last_end - row.start, 0)
    return entry(
        self_href=f"{paths.blocks(up_id, mr_id)}/{row.id}",
        up_href=paths.blocks(up_id, mr_id),
        title=None,
        published=row.published,
        updated=row.updated,
        content=usage_xml.interval_block(xml, row.start, duration),
    )


def summary_entry(us: um.UsageSummary, up_id: int, grant: Grant, paths: Paths) -> str:
    content = usage_xml.usage_summary(us, with_cost=grant.summary_cost)
    return resource_entry(us, f"{paths.summaries(up_id)}/{us.id}", paths.summaries(up_id), content)


def quality_entry(q: um.ElectricPowerQualitySummary, up_id: int, paths: Paths) -> str:
    content = usage_xml.quality_summary(q)
    return resource_entry(q, f"{paths.qualities(up_id)}/{q.id}", paths.qualities(up_id), content)


# -- selections -------------------------------------------------------------------------


def block_rows(
    session: Session, mr_id: int, lo: int | None, hi: int | None, query: FeedQuery
) -> Iterator[BlockRow]:
    """Blocks of a MeterReading overlapping [lo, hi), by start, as plain rows (no ORM
    identity map), read in pages of BLOCKS_PER_FETCH by start (keyset pagination on
    the unique (meter reading, start)): memory stays flat for any number of blocks,
    and no server-side cursor needs a transaction to live in."""
    ib = um.IntervalBlock.__table__.c
    stmt = select(um.IntervalBlock.__table__).where(ib.meter_reading_id == mr_id)
    if lo is not None:
        stmt = stmt.where(ib.start + ib.duration > lo)
    if hi is not None:
        stmt = stmt.where(ib.start < hi)
    if query.updated_min is not None:
        stmt = stmt.where(ib.updated >= query.updated_min)
    if query.updated_max is not None:
        stmt = stmt.where(ib.updated <= query.updated_max)
    stmt = stmt.order_by(ib.start).limit(BLOCKS_PER_FETCH)
    after: int | None = None
    while True:
        paged = stmt if after is None else stmt.where(ib.start > after)
        rows = session.connection().execute(paged).all()
        yield from rows
        if len(rows) < BLOCKS_PER_FETCH:
            return
        after = rows[-1].start


def meter_readings(session: Session, up_id: int) -> list[um.MeterReading]:
    return list(
        session.scalars(
            select(um.MeterReading)
            .where(um.MeterReading.usage_point_id == up_id)
            .order_by(um.MeterReading.id)
        )
    )


def summaries(
    session: Session, up_id: int, lo: int | None, hi: int | None
) -> list[um.UsageSummary]:
    stmt = select(um.UsageSummary).where(um.UsageSummary.usage_point_id == up_id)
    rows = list(
        session.scalars(stmt.order_by(um.UsageSummary.billing_period_start, um.UsageSummary.id))
    )
    return [r for r in rows if in_window(r.billing_period_start, lo, hi)]


def qualities(session: Session, up_id: int) -> list[um.ElectricPowerQualitySummary]:
    return list(
        session.scalars(
            select(um.ElectricPowerQualitySummary)
            .where(um.ElectricPowerQualitySummary.usage_point_id == up_id)
            .order_by(um.ElectricPowerQualitySummary.id)
        )
    )


def in_window(start: int | None, lo: int | None, hi: int | None) -> bool:
    if start is None:
        return True
    return (lo is None or start >= lo) and (hi is None or start < hi)


# -- the whole tree ---------------------------------------------------------------------


@dataclass
class Tree:
    """What of a usage point's tree is read once for many points (:func:`trees`):
    its MeterReadings (with their ReadingTypes), UsageSummaries and power-quality
    summaries, each in the order its feed writes them."""

    meter_readings: list[um.MeterReading] = field(default_factory=list)
    summaries: list[um.UsageSummary] = field(default_factory=list)
    qualities: list[um.ElectricPowerQualitySummary] = field(default_factory=list)


def trees(session: Session, up_ids: Sequence[int]) -> tuple[list[um.UsagePoint], dict[int, Tree]]:
    """The usage points among ``up_ids`` (with their LocalTimeParameters) and their
    trees but the blocks, in five statements whatever their number: a Batch feed of
    thousands of usage points reads its records a page of points at a time
    (:data:`POINTS_PER_FETCH`) instead of some seven round trips per point."""
    points = list(
        session.scalars(
            select(um.UsagePoint)
            .where(um.UsagePoint.id.in_(up_ids))
            .options(selectinload(um.UsagePoint.local_time_parameters))
        )
    )
    found: dict[int, Tree] = {up.id: Tree() for up in points}
    readings = session.scalars(
        select(um.MeterReading)
        .where(um.MeterReading.usage_point_id.in_(up_ids))
        .options(selectinload(um.MeterReading.reading_type))
        .order_by(um.MeterReading.id)
    )
    for mr in readings:
        found[mr.usage_point_id].meter_readings.append(mr)
    bills = session.scalars(
        select(um.UsageSummary)
        .where(um.UsageSummary.usage_point_id.in_(up_ids))
        .order_by(um.UsageSummary.billing_period_start, um.UsageSummary.id)
    )
    for us in bills:
        found[us.usage_point_id].summaries.append(us)
    quality = um.ElectricPowerQualitySummary
    for q in session.scalars(
        select(quality).where(quality.usage_point_id.in_(up_ids)).order_by(quality.id)
    ):
        found[q.usage_point_id].qualities.append(q)
    return points, found


#: Usage points whose records :func:`trees` reads together (a Batch feed's page).
POINTS_PER_FETCH = 500


def usage_point_tree(
    session: Session,
    up: um.UsagePoint,
    grant: Grant,
    paths: Paths,
    query: FeedQuery,
    tree: Tree | None = None,
) -> Iterator[str]:
    """Every entry of one usage point's tree that the grant shows (Batch feeds); its
    records from ``tree`` when they were read already (:func:`trees`)."""
    lo, hi = window(grant, query)
    yield usage_point_entry(up, grant, paths)
    if known_zone(up):
        yield local_time_entry(up.local_time_parameters, paths)  # type: ignore[arg-type]
    if grant.intervals:
        for mr in meter_readings(session, up.id) if tree is None else tree.meter_readings:
            yield meter_reading_entry(mr, up.id, paths)
            if mr.reading_type is not None:
                yield reading_type_entry(mr.reading_type, grant, paths)
            for row in block_rows(session, mr.id, lo, hi, query):
                text = block_entry(row, up.id, mr.id, grant, paths, lo, hi)
                if text is not None:
                    yield text
    if grant.summaries:
        bills = (
            summaries(session, up.id, lo, hi)
            if tree is None
            else [r for r in tree.summaries if in_window(r.billing_period_start, lo, hi)]
        )
        for us in bills:
            yield summary_entry(us, up.id, grant, paths)
    if grant.quality:
        for q in qualities(session, up.id) if tree is None else tree.qualities:
            yield quality_entry(q, up.id, paths)


def last_modified(session: Session, up_ids: list[int]) -> int | None:
    """The newest ``updated`` in these usage points' trees. A MeterReading's ``updated``
    moves whenever one of its blocks changes (usage.services.store_blocks), so blocks
    need no scan of their own."""
    if not up_ids:
        return None
    newest = [
        session.scalar(select(func.max(um.UsagePoint.updated)).where(um.UsagePoint.id.in_(up_ids))),
        session.scalar(
            select(func.max(um.MeterReading.updated)).where(
                um.MeterReading.usage_point_id.in_(up_ids)
            )
        ),
        session.scalar(
            select(func.max(um.UsageSummary.updated)).where(
                um.UsageSummary.usage_point_id.in_(up_ids)
            )
        ),
        session.scalar(
            select(func.max(um.ElectricPowerQualitySummary.updated)).where(
                um.ElectricPowerQualitySummary.usage_point_id.in_(up_ids)
            )
        ),
    ]
    values = [int(v) for v in newest if v is not None]
    return max(values) if values else None
