"""The ESPI scope string (REQ.21 section 2 "scope"; STANDARD.md section 2).

One space-free string of ``key=value`` pairs joined by ``;``, for example::

    FB=1_3_4_5_13_14_39;IntervalDuration=900_3600;BlockDuration=daily;HistoryLength=13

Utilities differ (PG&E adds ``AdditionalScope``, ``BR`` and ``dataCustodianId``;
Con Edison writes ``IntervalDuration=Monthly_3600_900_300``; UtilityAPI and PG&E send
``PreferredAuthEndDate``), so the parser is lenient: keys are matched without regard
to case, unknown keys are kept in order, values of the list keys are matched without
regard to case, stray spaces and a trailing ``;`` are ignored. What it refuses is a
scope it cannot make sense of: a pair without ``=``, a function block that is not a
number, a HistoryLength that is not a whole number.

``HistoryLength`` is months at some utilities and seconds at others: a value above
:data:`HISTORY_SECONDS_THRESHOLD` is read as seconds (:meth:`Scope.history_seconds`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gbconnect.errors import InputError
from gbconnect.espi.blocks import current_numbers

HISTORY_SECONDS_THRESHOLD = 1200
"""HistoryLength values above this are seconds (100 years of months is 1200)."""

MONTH_SECONDS = 2_629_746
"""An average Gregorian month in seconds (365.2425 days / 12): HistoryLength months."""

#: Keys whose value is an ``_``-separated list, in their canonical spelling.
LIST_KEYS = ("FB", "IntervalDuration", "BlockDuration", "AdditionalScope")
#: Keys with one whole-number value.
NUMBER_KEYS = ("HistoryLength", "PreferredAuthEndDate", "MinAuthEndDate", "AccountCollection")
_CANONICAL = {k.lower(): k for k in (*LIST_KEYS, *NUMBER_KEYS, "BR", "dataCustodianId")}
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


class ScopeError(InputError):
    """The scope string cannot be read: 400 ``invalid_scope`` (RFC 6749 section 5.2)."""

    error = "invalid_scope"


@dataclass(frozen=True)
class Scope:
    """A parsed scope: the pairs in their order, list values as tuples."""

    pairs: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    # -- reading ------------------------------------------------------------------------

    def get(self, key: str) -> tuple[str, ...] | None:
        """The values of ``key`` (canonical spelling), or None when absent."""
        for k, values in self.pairs:
            if k == key:
                return values
        return None

    @property
    def function_blocks(self) -> frozenset[int]:
        return frozenset(int(v) for v in self.get("FB") or ())

    @property
    def interval_durations(self) -> frozenset[str]:
        """IntervalDuration values, lower case (``900``, ``3600``, ``monthly``)."""
        return frozenset(v.lower() for v in self.get("IntervalDuration") or ())

    @property
    def block_durations(self) -> frozenset[str]:
        return frozenset(v.lower() for v in self.get("BlockDuration") or ())

    def number(self, key: str) -> int | None:
        values = self.get(key)
        return int(values[0]) if values else None

    @property
    def history_length(self) -> int | None:
        return self.number("HistoryLength")

    def history_seconds(self) -> int | None:
        """HistoryLength in seconds (months or seconds, see the module docstring)."""
        h = self.history_length
        if h is None:
            return None
        return h if h > HISTORY_SECONDS_THRESHOLD else h * MONTH_SECONDS

    # -- writing ------------------------------------------------------------------------

    def __str__(self) -> str:
        return ";".join(f"{k}={'_'.join(v)}" for k, v in self.pairs)

    def with_values(self, key: str, values: tuple[str, ...] | None) -> Scope:
        """A copy with ``key`` set to ``values`` (None removes it), order kept."""
        pairs = []
        done = False
        for k, v in self.pairs:
            if k == key:
                if values is not None:
                    pairs.append((k, values))
                done = True
            else:
                pairs.append((k, v))
        if not done and values is not None:
            pairs.append((key, values))
        return Scope(tuple(pairs))

    def with_function_blocks(self, blocks: frozenset[int] | set[int]) -> Scope:
        return self.with_values("FB", tuple(str(b) for b in sorted(blocks)))

    def with_history(self, length: int | None) -> Scope:
        return self.with_values("HistoryLength", None if length is None else (str(length),))

    # -- comparing ----------------------------------------------------------------------

    def within(self, cap: Scope) -> bool:
        """True when this scope asks for nothing beyond ``cap``: its function blocks,
        interval and block durations are subsets of the cap's, and its history is no
        longer. A key the cap does not mention does not limit. Function blocks compare
        by their current numbers (FB_46 is FB_51: :data:`gbconnect.espi.blocks.OLDER_NUMBERS`)."""
        if cap.get("FB") is not None and not current_numbers(
            self.function_blocks
        ) <= current_numbers(cap.function_blocks):
            return False
        for key, mine, theirs in (
            ("IntervalDuration", self.interval_durations, cap.interval_durations),
            ("BlockDuration", self.block_durations, cap.block_durations),
        ):
            if cap.get(key) is not None and not mine <= theirs:
                return False
        cap_history = cap.history_seconds()
        if cap_history is not None:
            mine_history = self.history_seconds()
            if mine_history is None or mine_history > cap_history:
                return False
        return True


def parse(text: str) -> Scope:
    """Read a scope string; raises :class:`ScopeError` with a plain message."""
    if text is None or not text.strip():
        raise ScopeError("the scope is empty")
    if len(text) > 2048:
        raise ScopeError("the scope is longer than 2048 characters")
    pairs: list[tuple[str, tuple[str, ...]]] = []
    index: dict[str, int] = {}
    for raw in text.strip().split(";"):
        part = raw.strip()
        if not part:
            continue
        if "=" not in part:
            raise ScopeError(f"{part!r} is not a key=value pair")
        key, value = (s.strip() for s in part.split("=", 1))
        if not _KEY.match(key):
            raise ScopeError(f"{key!r} is not a scope key")
        key = _CANONICAL.get(key.lower(), key)
        if key in LIST_KEYS:
            values = tuple(v.strip() for v in value.replace(",", "_").split("_") if v.strip())
            if not values:
                raise ScopeError(f"{key} has no values")
            if key == "FB":
                bad = [v for v in values if not v.isdigit() or not 0 < int(v) < 1000]
                if bad:
                    raise ScopeError(f"function block {bad[0]!r} is not a number from 1 to 999")
                values = tuple(str(n) for n in sorted({int(v) for v in values}))
        elif key in NUMBER_KEYS:
            if not value.isdigit():
                raise ScopeError(f"{key} {value!r} is not a whole number")
            values = (str(int(value)),)
        else:
            values = (value,)
        if key in index:  # a key given twice: lists merge, scalars keep the first
            i = index[key]
            if key in LIST_KEYS:
                merged = pairs[i][1] + tuple(v for v in values if v not in pairs[i][1])
                if key == "FB":
                    merged = tuple(str(n) for n in sorted({int(v) for v in merged}))
                pairs[i] = (key, merged)
            continue
        index[key] = len(pairs)
        pairs.append((key, values))
    if not pairs:
        raise ScopeError("the scope is empty")
    return Scope(tuple(pairs))


def parse_many(text: str) -> list[Scope]:
    """Several scopes separated by spaces (how OAuth lists scopes; RFC 6749 section 3.3)."""
    return [parse(part) for part in text.split()]


def narrow(
    scope: Scope, *, function_blocks: set[int] | None = None, history: int | None = None
) -> Scope:
    """The customer's narrowing on the consent page: fewer function blocks, a shorter
    history. It never widens: blocks not in ``scope`` and a longer history are ignored."""
    out = scope
    if function_blocks is not None:
        out = out.with_function_blocks(scope.function_blocks & function_blocks)
    if history is not None:
        current = scope.history_length
        if current is None or history < current:
            out = out.with_history(history)
    return out


__all__ = [
    "HISTORY_SECONDS_THRESHOLD",
    "MONTH_SECONDS",
    "Scope",
    "ScopeError",
    "narrow",
    "parse",
    "parse_many",
]
