"""SDK parser benchmark (issue 13): ``gbconnect.client.readings`` against a bare
``lxml.etree.iterparse`` loop, on one feed in the server's layout.

The feed: N usage points, each a UsagePoint, a MeterReading, a ReadingType and daily
IntervalBlocks of 15-minute readings, written with the server's Atom writer
(``gbconnect.espi.atom``) and block template (``gbconnect.usage.xml``) into a temp
file. The baseline reads every IntervalReading's value text and clears it (the least
a parser must do); the SDK resolves each reading's MeterReading, UsagePoint and unit
and builds a :class:`Reading`. Target: the SDK at >= 0.5 of the baseline's rate. It
also prints the peak memory of a fresh process running ``readings()`` over the feed,
which stays flat whatever the feed's size (streaming).

Run: ``.venv/bin/python -m benchmarks.sdk_parse [--usage-points 100] [--readings 10000]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

from gbconnect.client import readings
from gbconnect.espi import atom
from gbconnect.usage import xml as usage_xml

BASE = "https://dc.example/DataCustodian/espi/1_1/resource"
ESPI = "http://naesb.org/espi"
DAY = 96
T0 = 1_704_067_200  # 2024-01-01T00:00:00Z


def write_feed(path: Path, usage_points: int, per_point: int) -> int:
    """Write the feed; return the number of readings."""
    tpl = (
        "<IntervalReading><timePeriod><duration>900</duration>"
        "<start>%d</start></timePeriod><value>%d</value></IntervalReading>"
    )
    total = 0
    with path.open("w", encoding="utf-8") as out:

        def entries() -> object:
            nonlocal total
            for u in range(1, usage_points + 1):
                up = f"{BASE}/Subscription/1/UsagePoint/{u}"
                mr = f"{up}/MeterReading/1"
                rt = f"{BASE}/ReadingType/{u}"
                yield atom.entry(
                    self_href=up,
                    up_href=f"{BASE}/Subscription/1/UsagePoint",
                    title=f"point {u}",
                    published=T0,
                    updated=T0,
                    related=[f"{up}/MeterReading", f"{BASE}/LocalTimeParameters/1"],
                    content=f'<UsagePoint xmlns="{ESPI}"><ServiceCategory><kind>0</kind>'
                    "</ServiceCategory></UsagePoint>",
                )
                yield atom.entry(
                    self_href=mr,
                    up_href=f"{up}/MeterReading",
                    title="15 minutes",
                    published=T0,
                    updated=T0,
                    related=[f"{mr}/IntervalBlock", rt],
                    content=f'<MeterReading xmlns="{ESPI}"/>',
                )
                yield atom.entry(
                    self_href=rt,
                    up_href=f"{BASE}/ReadingType",
                    title="energy",
                    published=T0,
                    updated=T0,
                    content=f'<ReadingType xmlns="{ESPI}"><accumulationBehaviour>4'
                    "</accumulationBehaviour><commodity>1</commodity><flowDirection>1"
                    "</flowDirection><intervalLength>900</intervalLength><kind>12</kind>"
                    "<powerOfTenMultiplier>0</powerOfTenMultiplier><uom>72</uom></ReadingType>",
                )
                done = 0
                day = 0
                while done < per_point:
                    n = min(DAY, per_point - done)
                    start = T0 + day * 86400
                    flat: list[int] = []
                    for i in range(n):
                        flat += [start + 900 * i, (u * 7919 + done + i) % 5000]
                    body = usage_xml.interval_block((tpl * n) % tuple(flat), start, 900 * n)
                    yield atom.entry(
                        self_href=f"{mr}/IntervalBlock/{day + 1}",
                        up_href=f"{mr}/IntervalBlock",
                        title="",
                        published=T0,
                        updated=T0,
                        content=body,
                    )
                    done += n
                    day += 1
                total += done

        for part in atom.feed(
            self_href=f"{BASE}/Batch/Bulk/1",
            title="bulk",
            updated=T0,
            entries=entries(),  # type: ignore[arg-type]
        ):
            out.write(part)
    return total


def baseline(path: Path) -> tuple[int, int]:
    """A bare iterparse loop: every IntervalReading's value text read, then cleared."""
    value_tag = f"{{{ESPI}}}value"
    n = total = 0
    for _ev, el in etree.iterparse(
        str(path), events=("end",), tag=f"{{{ESPI}}}IntervalReading", huge_tree=True
    ):
        total += int(el.findtext(value_tag))  # type: ignore[arg-type]
        n += 1
        el.clear()
    return n, total


def sdk(path: Path) -> tuple[int, int]:
    n = total = 0
    for r in readings(path):
        total += r.raw_value
        n += 1
    return n, total


def timed(fn: object, path: Path) -> tuple[float, tuple[int, int]]:
    best = float("inf")
    result = (0, 0)
    for _ in range(2):
        t = time.perf_counter()
        result = fn(path)  # type: ignore[operator]
        best = min(best, time.perf_counter() - t)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--usage-points", type=int, default=100)
    ap.add_argument("--readings", type=int, default=10_000, help="per usage point")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bulk.xml"
        n = write_feed(path, args.usage_points, args.readings)
        size = os.path.getsize(path) / 1e6
        print(f"feed: {args.usage_points} usage points, {n:,} readings, {size:.0f} MB")
        t_base, (n_base, sum_base) = timed(baseline, path)
        t_sdk, (n_sdk, sum_sdk) = timed(sdk, path)
        assert (n_base, sum_base) == (n_sdk, sum_sdk) == (n, sum_base)
        print(f"baseline iterparse loop: {n_base / t_base:>12,.0f} readings/s ({t_base:.2f} s)")
        print(f"gbconnect.client:        {n_sdk / t_sdk:>12,.0f} readings/s ({t_sdk:.2f} s)")
        print(f"ratio sdk/baseline: {t_base / t_sdk:.2f} (target >= 0.5)")
        print(f"peak memory of a process running readings(): {peak_mb(path):.0f} MB")


def peak_mb(path: Path) -> float:
    """The peak resident memory of a fresh interpreter that runs :func:`readings` over
    the feed (streaming: it does not grow with the feed's size)."""
    # VmHWM (Linux): the high-water mark of this process image only (ru_maxrss would
    # count the parent's pages at fork time).
    code = (
        "import sys\nfrom gbconnect.client import readings\n"
        "n = sum(1 for _ in readings(sys.argv[1]))\n"
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True
    )
    return int(done.stdout.strip()) / 1024


if __name__ == "__main__":
    main()
