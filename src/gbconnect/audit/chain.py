"""The hash chain of the audit log.

``hash = SHA-256(prev_hash || canonical JSON of the event's fields)``, the first
event's ``prev_hash`` being 64 zeros. The canonical form (sorted keys, no spaces,
UTF-8, times as their ``repr``) is computed the same way when the event is written and
when the chain is checked; any change to a field, a removed event (a gap in ``seq``)
or a reordering breaks it from that event on. The last event's hash can be written
down elsewhere (``gbconnect audit verify`` prints it) to detect a cut tail too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gbconnect.audit.models import AuditEvent

GENESIS = "0" * 64


def canonical(event: AuditEvent) -> bytes:
    """The bytes the hash covers: every field but the two hashes."""
    fields: dict[str, Any] = {
        "seq": event.seq,
        "at": repr(float(event.at)),
        "actor_kind": event.actor_kind,
        "actor": event.actor,
        "address": event.address,
        "action": event.action,
        "target_kind": event.target_kind,
        "target_id": event.target_id,
        "details": event.details,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(event)).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """What checking the chain found: how many events, the last hash, and the first
    problem (None when the chain holds)."""

    events: int
    last_hash: str
    problem: str | None
    bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(events: Iterable[AuditEvent]) -> Verdict:
    """Check ``events`` in ``seq`` order from the first."""
    prev, expected, count = GENESIS, 1, 0
    for event in events:
        if event.seq != expected:
            return Verdict(
                count, prev, f"event {expected} is missing (the next is {event.seq})", expected
            )
        if event.prev_hash != prev:
            return Verdict(
                count, prev, f"event {event.seq} does not follow the one before", event.seq
            )
        if digest(prev, event) != event.hash:
            return Verdict(count, prev, f"event {event.seq} was changed", event.seq)
        prev, expected, count = event.hash, expected + 1, count + 1
    return Verdict(count, prev, None)


__all__ = ["GENESIS", "Verdict", "canonical", "digest", "verify"]
