"""Storing a channel of readings (from CSV or the generator) as daily IntervalBlocks.

A channel is one MeterReading: a UsagePoint, a ReadingType and a time series. Its
readings are cut into blocks at the utility's local midnight (REQ.21 FB_4, PG&E's
daily blocks), so a DST day holds 23 or 25 hours.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.customer.models import RetailCustomer
from gbconnect.ingest.localtime import local_day_starts
from gbconnect.ingest.summary import FileSummary
from gbconnect.usage import blocks as codec
from gbconnect.usage import models as um
from gbconnect.usage.services import PackedBlock, store_blocks

I64 = NDArray[np.int64]


@dataclass
class Channel:
    """One MeterReading's worth of readings, with what types it."""

    usage_point_key: str
    usage_point_title: str | None
    service_kind: int  # ServiceKind: 0 electricity, 1 gas, 2 water
    reading_type: dict[str, Any]  # ReadingType columns
    starts: I64
    durations: I64
    values: I64
    costs: I64 | None = None
    qualities: list[tuple[int, ...]] | None = None
    meter_reading_title: str | None = None
    lines: I64 | None = field(default=None, repr=False)  # source line of each reading

    @property
    def key_suffix(self) -> str:
        rt = self.reading_type
        return f"{rt.get('commodity')}-{rt.get('flow_direction')}-{rt.get('interval_length')}"


def _upsert_usage_point(
    session: Session, owner: RetailCustomer, ch: Channel, now: int
) -> um.UsagePoint:
    up = session.scalars(
        select(um.UsagePoint).where(
            um.UsagePoint.retail_customer_id == owner.id,
            um.UsagePoint.source_key == ch.usage_point_key,
        )
    ).one_or_none()
    if up is None:
        up = um.UsagePoint(
            retail_customer_id=owner.id,
            source_key=ch.usage_point_key,
            title=ch.usage_point_title,
            service_kind=ch.service_kind,
            status=1,
            published=now,
            updated=now,
        )
        session.add(up)
        session.flush()
    return up


def meter_reading_for(
    session: Session, owner: RetailCustomer, ch: Channel, now: int
) -> tuple[um.UsagePoint, um.MeterReading]:
    """The UsagePoint and MeterReading (with its ReadingType) of ``ch``, created if new."""
    up = _upsert_usage_point(session, owner, ch, now)
    mr_key = f"{ch.usage_point_key}/MeterReading/{ch.key_suffix}"
    mr = session.scalars(
        select(um.MeterReading).where(
            um.MeterReading.usage_point_id == up.id, um.MeterReading.source_key == mr_key
        )
    ).one_or_none()
    if mr is None:
        rt = um.ReadingType(
            retail_customer_id=owner.id,
            source_key=f"{mr_key}/ReadingType",
            title=ch.meter_reading_title,
            published=now,
            updated=now,
            **ch.reading_type,
        )
        session.add(rt)
        session.flush()
        mr = um.MeterReading(
            usage_point_id=up.id,
            source_key=mr_key,
            reading_type_id=rt.id,
            title=ch.meter_reading_title,
            published=now,
            updated=now,
        )
        session.add(mr)
        session.flush()
    return up, mr


def pack_daily(ch: Channel, zone: ZoneInfo) -> list[PackedBlock]:
    """Cut ``ch`` (sorted by start, unique starts) into local-day blocks."""
    n = ch.starts.size
    if n == 0:
        return []
    starts, durations, values = ch.starts, ch.durations, ch.values
    day = local_day_starts(starts, zone)
    cuts = np.flatnonzero(np.diff(day)) + 1
    first = np.concatenate(([0], cuts))
    bounds = [*first.tolist(), n]
    block_starts = day[first]
    # The next local midnight: 25 h after this one always falls inside the next day.
    block_ends = local_day_starts(block_starts + 25 * 3600 + 1, zone)
    # A reading breaks regularity when it does not follow its predecessor in the same
    # block at the same interval; counted per block in one pass.
    breaks = np.zeros(n, dtype=np.int64)
    breaks[1:] = (np.diff(starts) != durations[:-1]) | (durations[1:] != durations[:-1])
    breaks[first] = durations[first] <= 0
    irregular = np.add.reduceat(breaks, first) > 0
    out: list[PackedBlock] = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        block_start = int(block_starts[i])
        data = codec.encode_arrays(
            starts[a:b],
            durations[a:b],
            values[a:b],
            None if ch.costs is None else ch.costs[a:b],
            None if ch.qualities is None else ch.qualities[a:b],
            regular=None if irregular[i] else True,
        )
        end = int(starts[b - 1] + durations[b - 1])
        lines = None if ch.lines is None else ch.lines[a:b].tolist()
        out.append(
            PackedBlock(
                block_start,
                int(block_ends[i]) - block_start,
                b - a,
                data,
                end,
                lines,
                None,
                int(starts[a]),
                int(starts[b - 1]),
            )
        )
    return out


def store_channel(
    session: Session,
    owner: RetailCustomer,
    ch: Channel,
    zone: ZoneInfo,
    summary: FileSummary,
    now: int,
    touched: set[int] | None = None,
) -> None:
    """Store ``ch`` as daily blocks; counts go to ``summary``."""
    up, mr = meter_reading_for(session, owner, ch, now)
    packed = pack_daily(ch, zone)
    stats = store_blocks(session.connection(), mr.id, packed, now)
    summary.blocks.add(stats)
    summary.readings += stats.readings
    zero = np.flatnonzero(ch.durations == 0)
    if zero.size and not any("duration 0" in n for n in summary.notes):
        where = f"line {int(ch.lines[zero[0]])}" if ch.lines is not None else "a reading"
        summary.notes.append(
            f"{where}: {zero.size} reading(s) of duration 0 (stored; a reading should cover "
            "a period)"
        )
    summary.meter_readings += 1
    if touched is not None:
        touched.add(up.id)
    if ch.starts.size:
        summary.span(int(ch.starts[0]), int(ch.starts[-1] + ch.durations[-1]))
