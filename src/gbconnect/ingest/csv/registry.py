"""Which CSV layout a file is in (the sniffing chain), and reading it.

The layouts show themselves in the first lines: the gbconnect header after its
comments (tier 0), else the PG&E or SDG&E header on the earliest line of the first 40
(tier 1), else an SCE marker line in the first 60 (tier 2).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from gbconnect.ingest.csv import gbconnect, pge, sce, sdge
from gbconnect.ingest.csv.channels import CsvText, Layout, first_content_line
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.series import Channel

LAYOUTS: tuple[Layout, ...] = (gbconnect.LAYOUT, pge.LAYOUT, sdge.LAYOUT, sce.LAYOUT)


def sniff(path: str, lines: list[str]) -> tuple[Layout, int]:
    """The layout of a file whose first lines are ``lines``, and its header line."""
    for tier in sorted({layout.tier for layout in LAYOUTS}):
        found = [
            (at, layout)
            for layout in LAYOUTS
            if layout.tier == tier and (at := layout.find(path, lines)) is not None
        ]
        if found:
            at, layout = min(found, key=lambda hit: hit[0])
            return layout, at
    raise IngestError(
        path,
        "unrecognised CSV header: expected the gbconnect layout (usage_point,start,"
        "duration,value; docs/csv.md) or a PG&E, SCE or SDG&E download",
        first_content_line(lines) + 1,
    )


def read_csv(path: str, text: str, zone: ZoneInfo, fast: bool = True) -> tuple[str, list[Channel]]:
    """Recognise the layout of ``text`` and read it; returns (layout name, channels).

    ``fast=False`` reads every field with the exact reader (tests compare the two).
    """
    text = text.lstrip("\ufeff")
    # The body is cut at a "\n"; the layouts look at the first 60 lines.
    lines = [ln.rstrip("\r") for ln in text[:65536].split("\n")[:60]]
    if not text.strip():
        raise IngestError(path, "the file is empty", 1)
    layout, at = sniff(path, lines)
    return layout.name, layout.read(CsvText(path, text, zone, lines), at, fast)
