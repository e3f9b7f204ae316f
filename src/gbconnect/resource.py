"""What every stored ESPI resource has: a random id, ``published``, ``updated``, a title.

Times are integer seconds since 1970 UTC, as ESPI itself writes them
(REQ.21 ``TimeType``); the Atom writer turns them into RFC 3339.
"""

from __future__ import annotations

import time

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from gbconnect.espi.ids import new_id


def now() -> int:
    """The current time in whole seconds since 1970 UTC."""
    return int(time.time())


class ResourceMixin:
    """Columns shared by every resource (Atom entry metadata, REQ.21 FB_1)."""

    id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, default=new_id, autoincrement=False
    )
    #: Atom ``title`` (ESPI calls it description).
    title: Mapped[str | None] = mapped_column(String(256))
    published: Mapped[int] = mapped_column(BigInteger, default=now)
    updated: Mapped[int] = mapped_column(BigInteger, default=now)
    #: Where an imported resource came from: its self href path (or entry id), so that
    #: a later file naming the same resource updates it (REQ.21 FB_19 partial updates).
    source_key: Mapped[str | None] = mapped_column(String(1024))
