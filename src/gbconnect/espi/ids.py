"""Resource identifiers (REQ.21 FB_13: opaque, no PII, at least 48 random bits).

Ids are positive integers written with digits only, because real clients parse
them as integers; they stay below 2**53 so that JavaScript clients keep them exact.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

_LOW = 1 << 52


def new_id() -> int:
    """A fresh random resource id: 52 random bits, 16 decimal digits."""
    return _LOW | secrets.randbits(52)


_DNS = uuid.NAMESPACE_DNS.bytes


def entry_uuid(self_href: str) -> str:
    """The Atom entry id the GBA uses: ``urn:uuid:`` UUID5 (DNS namespace) of the self href.

    RFC 9562 section 5.5, written out (three times faster than ``uuid.uuid5``, which
    matters once per entry of a feed): SHA-1 of namespace and name, first 16 bytes,
    version 5 and the RFC variant set.
    """
    h = bytearray(hashlib.sha1(_DNS + self_href.encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"urn:uuid:{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"
