"""QRY001-002: query parameters (REQ.21 FB_37; STANDARD.md section 1):
``published-min``/``published-max`` filter the IntervalBlocks, and malformed dates
are refused with 400."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from gbconnect.conformance.cases import case
from gbconnect.conformance.context import Context
from gbconnect.conformance.documents import check, crawl
from gbconnect.conformance.outcome import NotApplicable
from gbconnect.espi.atom import ATOM, ESPI
from gbconnect.espi.xmlreader import hardened_parser

BLOCK_FEED = re.compile(r"/MeterReading/[^/]+/IntervalBlock$")
PAST = "1971-01-01T00:00:00Z"
FUTURE = "2100-01-01T00:00:00Z"


def interval_block_feeds(ctx: Context) -> list[str]:
    """The IntervalBlock feeds of the customer's subscription (from FND004's crawl,
    or a short crawl of its own), those holding blocks first."""
    found = [u for u in ctx.crawled if BLOCK_FEED.search(u)]
    if not found:
        tokens = ctx.customer_tokens()
        crawl(ctx, str(tokens.resource_uri), "A", limit=40)
        found = [u for u in ctx.crawled if BLOCK_FEED.search(u)]
    if not found:
        raise ctx.fail("no IntervalBlock feed was found under the customer's resourceURI")
    return sorted(found, key=lambda u: b"<entry" not in ctx.crawled[u])


@dataclass(frozen=True)
class Block:
    """An IntervalBlock entry: its Atom id, when it was published and the period its
    readings cover (seconds since 1970)."""

    id: str
    published: float | None
    start: int
    end: int


def _time(text: str | None) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _blocks(ctx: Context, url: str, params: dict[str, str]) -> list[Block]:
    r = ctx.send("GET", url, params=params, token=ctx.token("A"), label="A token")
    if r.status_code != 200:
        raise ctx.fail(f"GET {url} {params} answered {r.status_code}")
    problems = check(ctx, str(r.url), r.content)
    if problems:
        raise ctx.fail("invalid document: " + "; ".join(problems[:5]))
    root = etree.fromstring(r.content, hardened_parser())
    out = []
    for entry in root.iter(f"{{{ATOM}}}entry"):
        start = int(entry.findtext(f".//{{{ESPI}}}interval/{{{ESPI}}}start") or 0)
        duration = int(entry.findtext(f".//{{{ESPI}}}interval/{{{ESPI}}}duration") or 0)
        published = _time(entry.findtext(f"{{{ATOM}}}published"))
        out.append(Block(str(entry.findtext(f"{{{ATOM}}}id")), published, start, start + duration))
    return out


def _zulu(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@case("QRY001", "published-min/max filter the IntervalBlocks")
def qry001(ctx: Context) -> str:
    url = interval_block_feeds(ctx)[0]
    everything = _blocks(ctx, url, {})
    if not everything:
        raise NotApplicable(f"the customer's data holds no IntervalBlock to filter ({url})")
    ids = {b.id for b in everything}
    wide = _blocks(ctx, url, {"published-min": PAST, "published-max": FUTURE})
    if {b.id for b in wide} != ids:
        raise ctx.fail(f"a window holding every block returned {len(wide)} of {len(everything)}")
    later = _blocks(ctx, url, {"published-min": FUTURE})
    if later:
        raise ctx.fail(f"published-min={FUTURE} still returned {len(later)} block(s)")
    earlier = _blocks(ctx, url, {"published-max": PAST})
    if earlier:
        raise ctx.fail(f"published-max={PAST} still returned {len(earlier)} block(s)")
    # A window from the last block's start: each block kept must be in it by its
    # publication or by its readings' period (utilities differ, OpenESPI #163), and a
    # block in it by both must be kept.
    t = max(b.start for b in everything)
    narrow = _blocks(ctx, url, {"published-min": _zulu(t)})
    kept = {b.id for b in narrow}
    if not kept <= ids:
        raise ctx.fail("the filtered feed holds blocks the whole feed does not")
    for b in everything:
        by_publication = b.published is not None and b.published >= t
        by_period = b.end > t
        if b.id in kept and not (by_publication or by_period):
            raise ctx.fail(f"published-min={_zulu(t)} kept block {b.id}, before the window")
        if b.id not in kept and by_publication and by_period:
            raise ctx.fail(f"published-min={_zulu(t)} dropped block {b.id}, inside the window")
    return (
        f"{url}: {len(everything)} block(s); a window around all keeps them, one after or "
        f"before keeps none, one from the last block's start keeps {len(kept)}"
    )


BAD_DATES = (
    ("published-min", "yesterday"),
    ("published-max", "2024-13-45T00:00:00Z"),
    ("updated-min", "2024-02-30T25:61:00Z"),
    ("updated-max", "abc123"),
)


@case("QRY002", "Alphabetic and invalid dates are refused with 400")
def qry002(ctx: Context) -> str:
    url = ctx.endpoints.resource("Authorization")
    kind = "C"
    try:
        url, kind = interval_block_feeds(ctx)[0], "A"
    except Exception:
        ctx.begin()
    seen = []
    for name, value in BAD_DATES:
        r = ctx.send(
            "GET",
            url,
            params={name: value},
            token=ctx.token(kind),  # type: ignore[arg-type]
            label=f"{kind} token",
        )
        if r.status_code != 400:
            raise ctx.fail(f"{name}={value!r} answered {r.status_code}, not 400")
        seen.append(f"{name}={value}: 400")
    return "; ".join(seen)
