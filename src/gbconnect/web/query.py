"""ESPI feed query parameters (REQ.21 FB_37; GBA QRY001/QRY002).

``published-min``, ``published-max``, ``updated-min``, ``updated-max`` take RFC 3339
date-times (Zulu or an offset) or epoch seconds (one open-source PG&E client sends
those); ``max-results`` and ``start-index`` (1-based) page a feed; ``depth`` is
accepted as a non-negative number. Anything else malformed is refused with 400 and a
message naming the parameter; unknown parameters are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import QueryParams

from gbconnect.errors import InputError

MAX_RESULTS_LIMIT = 100_000


class QueryError(InputError):
    """A malformed query parameter: 400 ``invalid_request`` naming it (GBA QRY002)."""


@dataclass(frozen=True)
class FeedQuery:
    published_min: int | None = None
    published_max: int | None = None
    updated_min: int | None = None
    updated_max: int | None = None
    max_results: int | None = None
    start_index: int = 1
    depth: int | None = None

    @property
    def window(self) -> tuple[int | None, int | None]:
        """The reading-time window of ``published-min``/``-max`` (QRY001)."""
        return self.published_min, self.published_max

    def updated_ok(self, updated: int) -> bool:
        return (self.updated_min is None or updated >= self.updated_min) and (
            self.updated_max is None or updated <= self.updated_max
        )


def _instant(name: str, text: str) -> int:
    raw = text.strip()
    if raw.isdigit() and len(raw) <= 12:
        return int(raw)
    if len(raw) < 10 or len(raw) > 40 or not raw[:4].isdigit():
        raise QueryError(f"{name} must be an RFC 3339 date-time such as 2024-01-01T00:00:00Z")
    try:
        dt = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise QueryError(
            f"{name} {raw!r} is not an RFC 3339 date-time (for example 2024-01-01T00:00:00Z)"
        ) from None
    if dt.tzinfo is None:
        raise QueryError(f"{name} {raw!r} needs a time zone (Z or an offset)")
    return int(dt.timestamp())


def _count(name: str, text: str, low: int, high: int) -> int:
    raw = text.strip()
    if not raw.isdigit() or len(raw) > 9:
        raise QueryError(f"{name} must be a whole number")
    value = int(raw)
    if not low <= value <= high:
        raise QueryError(f"{name} must be between {low} and {high}")
    return value


def parse_query(params: QueryParams) -> FeedQuery:
    """Read the feed parameters; raises :class:`QueryError`."""
    values: dict[str, int | None] = {}
    for key in ("published-min", "published-max", "updated-min", "updated-max"):
        given = params.getlist(key)
        if len(given) > 1:
            raise QueryError(f"{key} is given more than once")
        values[key] = _instant(key, given[0]) if given else None
    for lo, hi in (("published-min", "published-max"), ("updated-min", "updated-max")):
        a, b = values[lo], values[hi]
        if a is not None and b is not None and a > b:
            raise QueryError(f"{lo} is after {hi}")
    max_results = params.get("max-results")
    start_index = params.get("start-index")
    depth = params.get("depth")
    return FeedQuery(
        published_min=values["published-min"],
        published_max=values["published-max"],
        updated_min=values["updated-min"],
        updated_max=values["updated-max"],
        max_results=None
        if max_results is None
        else _count("max-results", max_results, 0, MAX_RESULTS_LIMIT),
        start_index=1 if start_index is None else _count("start-index", start_index, 1, 10**9),
        depth=None if depth is None else _count("depth", depth, 0, 1000),
    )
