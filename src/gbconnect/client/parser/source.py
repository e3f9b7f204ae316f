"""Whatever a caller hands the parser, as a binary file object: a path, bytes, a
binary file object, or an iterable of bytes chunks (``httpx.Response.iter_bytes()``,
:meth:`DataCustodianClient.stream`). The first bytes are checked before lxml reads
anything: a DTD is refused outright and what is plainly not XML is named."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Iterator
from typing import IO, Union

from gbconnect.client.parser.errors import FeedError

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes], Iterable[bytes]]

_PROLOG_ITEM = re.compile(rb"\s*(<\?.*?\?>|<!--.*?-->)", re.S)
_HEAD = 1 << 16


class _Chunks(io.RawIOBase):
    """An iterable of bytes chunks read as a file."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = bytes(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


class _Prefixed(io.RawIOBase):
    """``head`` then the rest of ``rest``."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, target: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(target), len(self._head))
            target[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(target))
        if not data:
            return 0
        target[: len(data)] = data
        return len(data)


def check_prolog(head: bytes) -> None:
    """Refuse a DOCTYPE before lxml reads it, and what is plainly not XML."""
    data = head.removeprefix(b"\xef\xbb\xbf")
    pos = 0
    while True:
        m = _PROLOG_ITEM.match(data, pos)
        if not m:
            break
        pos = m.end()
    rest = data[pos:].lstrip()
    line = data[:pos].count(b"\n") + 1
    if rest.startswith(b"<!DOCTYPE") or rest.startswith(b"<!ENTITY"):
        raise FeedError(
            "document type declarations (DTDs) are not accepted: "
            "Green Button files never need one and they enable entity attacks",
            line,
        )
    if not data.strip():
        raise FeedError("empty document", 1)
    if rest and not rest.startswith(b"<"):
        raise FeedError("not an XML document (it does not start with '<')", line)


def open_source(source: Source) -> tuple[IO[bytes], IO[bytes] | None]:
    """A binary file over ``source`` (its head checked), and the file the caller must
    close when done (``None`` when the caller of the parser owns it)."""
    owned: IO[bytes] | None = None
    stream: IO[bytes]
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        check_prolog(data[:_HEAD])
        return io.BytesIO(data), None
    if isinstance(source, (str, os.PathLike)):
        try:
            stream = owned = open(source, "rb")  # noqa: SIM115 - closed by the caller
        except OSError as exc:
            raise FeedError(f"cannot read {os.fspath(source)}: {exc.strerror}") from None
    elif hasattr(source, "read"):
        stream = source  # type: ignore[assignment]
    elif isinstance(source, Iterable):
        stream = io.BufferedReader(_Chunks(iter(source)), buffer_size=_HEAD)
    else:
        raise TypeError(f"cannot parse a {type(source).__name__}")
    try:
        head = stream.read(_HEAD)
        if isinstance(head, str):
            raise TypeError("open the file in binary mode ('rb')")
        check_prolog(head)
    except BaseException:
        if owned is not None:
            owned.close()
        raise
    return io.BufferedReader(_Prefixed(head, stream), buffer_size=_HEAD), owned
