"""Errors of the importers: each names the file, the line and the problem.

All are :class:`~gbconnect.errors.InputError` leaves (what the caller sent is wrong)::

    InputError
    ├── IngestError        a file refused, whole, with its path and line
    ├── FieldError         a CSV field that cannot be read (``index``: its row in the column)
    ├── WidthError         a CSV row with the wrong number of fields (``index``: the row)
    ├── LocalTimeError     a local wall-clock time that does not exist in the zone
    └── Unparsable         the fast CSV reader cannot type a column; the exact reader
                           reads the file again and names the bad field

The column-level errors carry an index, not a line: the layout reader that knows
where the column starts in the file turns them into an :class:`IngestError`.
"""

from __future__ import annotations

from gbconnect.errors import InputError


class IngestError(InputError):
    """A file refused, whole; nothing of it is stored."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class _AtRow(InputError):
    """A problem at position ``index`` of a column (or of the rows) being read."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


class FieldError(_AtRow):
    """A field of a CSV column that cannot be read."""


class LocalTimeError(_AtRow):
    """A local time that cannot be placed in UTC."""


class WidthError(_AtRow):
    """A row has the wrong number of fields."""

    def __init__(self, fields: int, width: int, index: int) -> None:
        super().__init__(f"row has {fields} fields, {width} expected", index)


class Unparsable(InputError):
    """The fast reader cannot type a column; read the file again with TextColumns."""
