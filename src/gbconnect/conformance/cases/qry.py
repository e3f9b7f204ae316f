"""QRY001-002: query parameters (REQ.21 FB_37; STANDARD.md section 1):
``published-min``/``published-max`` filter the IntervalBlocks, and malformed dates
are refused with 400."""

from __future__ import annotations

import re

from lxml import etree

from gbconnect.conformance.cases import case
from gbconnect.conformance.context import Context
from gbconnect.conformance.documents import check, crawl
from gbconnect.conformance.outcome import NotApplicable
from gbconnect.espi.atom import ATOM
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


def _entries(ctx: Context, url: str, params: dict[str, str]) -> list[str]:
    r = ctx.send("GET", url, params=params, token=ctx.token("A"), label="A token")
    if r.status_code != 200:
        raise ctx.fail(f"GET {url} {params} answered {r.status_code}")
    problems = check(ctx, str(r.url), r.content)
    if problems:
        raise ctx.fail("invalid document: " + "; ".join(problems[:5]))
    root = etree.fromstring(r.content, hardened_parser())
    return [str(e.findtext(f"{{{ATOM}}}id")) for e in root.iter(f"{{{ATOM}}}entry")]


@case("QRY001", "published-min/max filter the IntervalBlocks")
def qry001(ctx: Context) -> str:
    url = interval_block_feeds(ctx)[0]
    everything = _entries(ctx, url, {})
    if not everything:
        raise NotApplicable(f"the customer's data holds no IntervalBlock to filter ({url})")
    wide = _entries(ctx, url, {"published-min": PAST, "published-max": FUTURE})
    if sorted(wide) != sorted(everything):
        raise ctx.fail(f"a window holding every block returned {len(wide)} of {len(everything)}")
    later = _entries(ctx, url, {"published-min": FUTURE})
    if later:
        raise ctx.fail(f"published-min={FUTURE} still returned {len(later)} block(s)")
    earlier = _entries(ctx, url, {"published-max": PAST})
    if earlier:
        raise ctx.fail(f"published-max={PAST} still returned {len(earlier)} block(s)")
    return (
        f"{url}: {len(everything)} block(s); a window around all keeps them, "
        "one after or before keeps none"
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
