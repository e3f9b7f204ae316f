"""The parser's one error."""

from __future__ import annotations


class FeedError(ValueError):
    """A document the SDK cannot read: not XML, truncated, a DTD or entity declaration
    (refused: Green Button files never need one and they enable entity attacks), or
    not the ESPI document expected. ``line`` is where the problem was seen (or None)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(message if line is None else f"{message} (line {line})")
