"""Response compression (RFC 9110 section 8.4 and 12.5.3; RFC 8878 ``zstd``).

Feeds are large and repetitive (one IntervalReading after another): they compress
17:1 with gzip at its fastest level and 21:1 with Zstandard's. What a compression
costs is what decides a Batch/Bulk's speed, so the levels are chosen, not left at the
defaults; measured on our XML on the benchmark machine (one core, 256 KiB chunks
flushed one by one as a feed streams them):

==========  =========  =====
coding      MB/s       ratio
==========  =========  =====
gzip 9      37         21.7   (Starlette's default level)
gzip 6      174        20.4
gzip 1      354        17.1   (:data:`GZIP_LEVEL`)
zstd 1      1210       21.3   (:data:`ZSTD_LEVEL`)
==========  =========  =====

A client that accepts ``zstd`` gets it (when the ``zstandard`` library is
installed); any other that accepts ``gzip`` gets gzip at level 1; a chunk of
128 KiB or more is compressed in a worker thread (both libraries release the GIL),
so that compression overlaps with writing the next chunk. Small bodies, responses
that already carry a ``Content-Encoding`` and compressed media types go as they are
(Starlette's :class:`~starlette.middleware.gzip.GZipMiddleware` rules, reused).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Receive, Scope, Send

#: gzip's level: its fastest (deflate_fast), five to ten times level 9's speed.
GZIP_LEVEL = 1
#: Zstandard's level: its fastest standard level, which also outcompresses gzip 9.
ZSTD_LEVEL = 1
#: A chunk at least this large is compressed in a worker thread.
THREAD_MINIMUM = 128 * 1024


def _zstandard() -> Any:
    """The ``zstandard`` module, or None when it is not installed."""
    try:
        import zstandard
    except ImportError:  # pragma: no cover - installed with the server
        return None
    return zstandard


def accepted(header: str) -> dict[str, float]:
    """The content codings of an ``Accept-Encoding`` field with their weights
    (RFC 9110 section 12.5.3); ``q=0`` means "not acceptable"."""
    codings: dict[str, float] = {}
    for item in header.split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        codings[name] = weight
    return codings


def choose(header: str, zstd_available: bool = True) -> str | None:
    """The coding to answer with: ``zstd`` when accepted (and available), then
    ``gzip``; None for identity. ``*`` accepts either."""
    codings = accepted(header)
    star = codings.get("*", 0.0)
    if zstd_available and codings.get("zstd", star) > 0:
        return "zstd"
    if codings.get("gzip", codings.get("x-gzip", star)) > 0:
        return "gzip"
    return None


class ZstdResponder(IdentityResponder):
    """Zstandard for a response (RFC 8878 section 7.2, ``Content-Encoding: zstd``),
    each streamed chunk flushed as a block so the client can decode it at once."""

    content_encoding = "zstd"

    def __init__(self, app: ASGIApp, minimum_size: int, module: Any, level: int) -> None:
        super().__init__(app, minimum_size)
        self.module = module
        self.level = level
        self._compressor: Any = None

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        if len(body) >= THREAD_MINIMUM:
            return await anyio.to_thread.run_sync(self._compress, body, more_body)
        return self._compress(body, more_body)

    def _compress(self, body: bytes, more_body: bool) -> bytes:
        if self._compressor is None:
            # An 8 MiB window at most (RFC 9659: what HTTP clients must decode).
            self._compressor = self.module.ZstdCompressor(level=self.level).compressobj()
        zstd = self.module
        mode = zstd.COMPRESSOBJ_FLUSH_BLOCK if more_body else zstd.COMPRESSOBJ_FLUSH_FINISH
        out: bytes = self._compressor.compress(body) + self._compressor.flush(mode)
        return out


class Compression:
    """The application's compression: ``zstd`` for the clients that accept it, gzip
    at :data:`GZIP_LEVEL` for the others that accept gzip, ``Accept-Encoding``
    weights honoured; Starlette's responders do the rest."""

    def __init__(self, app: ASGIApp, minimum_size: int = 2048) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.zstandard = _zstandard()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        coding = choose(Headers(scope=scope).get("accept-encoding", ""), self.zstandard is not None)
        responder: ASGIApp
        if coding == "zstd":
            responder = ZstdResponder(self.app, self.minimum_size, self.zstandard, ZSTD_LEVEL)
        elif coding == "gzip":
            responder = GZipResponder(
                self.app,
                self.minimum_size,
                compresslevel=GZIP_LEVEL,
                thread_minimum_size=THREAD_MINIMUM,
            )
        else:
            responder = IdentityResponder(self.app, self.minimum_size)
        await responder(scope, receive, send)
