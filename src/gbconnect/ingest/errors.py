"""Errors of the importers: each names the file, the line and the problem."""

from __future__ import annotations


class IngestError(Exception):
    """A file refused, whole; nothing of it is stored."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"
