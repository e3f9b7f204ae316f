"""Certificate thumbprints (RFC 8705 section 3.1 ``x5t#S256``).

Apart from :mod:`gbconnect.registration.certificates` so that the API's mutual-TLS
check (:mod:`gbconnect.oauth.mtls`, :mod:`gbconnect.web.tls`) does not load the
``cryptography`` package (about 8 MiB of every served process) to hash DER bytes.
"""

from __future__ import annotations

import base64
import hashlib


def thumbprint(der: bytes) -> str:
    """RFC 8705 section 3.1 ``x5t#S256``: base64url (no padding) of the SHA-256 of
    the certificate's DER encoding."""
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode("ascii")
