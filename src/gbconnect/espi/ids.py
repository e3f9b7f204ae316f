"""Resource identifiers (REQ.21 FB_13: opaque, no PII, at least 48 random bits).

Ids are positive integers written with digits only, because real clients parse
them as integers; they stay below 2**53 so that JavaScript clients keep them exact.
"""

from __future__ import annotations

import secrets
import uuid

_LOW = 1 << 52


def new_id() -> int:
    """A fresh random resource id: 52 random bits, 16 decimal digits."""
    return _LOW | secrets.randbits(52)


def entry_uuid(self_href: str) -> str:
    """The Atom entry id the GBA uses: ``urn:uuid:`` UUID5 (DNS namespace) of the self href."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_DNS, self_href)}"
