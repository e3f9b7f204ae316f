"""Typed columns of a CSV body, two ways: Apache Arrow's C++ reader, and the exact one.

A layout reader (one module per layout in this package) asks a :class:`Columns` for
whole columns as numpy arrays. :class:`ArrowColumns` parses them in C++ without a
Python object per field (a million readings a second and more); it is strict and,
at the first field it cannot type, raises :class:`Unparsable` so that the reader
starts again on :class:`TextColumns`, which reads the same fields with
:mod:`gbconnect.ingest.csv.text` and names the first bad row. Both give the same
arrays for a file both can read.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from gbconnect.ingest.csv.text import parse_clock, parse_dates, parse_floats, parse_utc
from gbconnect.ingest.errors import FieldError, Unparsable, WidthError

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


class Columns(Protocol):
    """Whole typed columns of a CSV body, by header name."""

    def __len__(self) -> int: ...

    def has(self, name: str) -> bool: ...

    def instants(self, name: str) -> I64:
        """RFC 3339 date-times with a zone (or epoch seconds) -> seconds UTC."""

    def dates(self, name: str) -> I64:
        """Dates -> seconds of that midnight, as if UTC."""

    def clocks(self, name: str) -> I64:
        """Times of day -> seconds after midnight."""

    def floats(self, name: str, what: str, blank: float | None = None) -> F64:
        """Decimal numbers; ``blank`` for empty fields (None: empty is an error).
        Money signs and thousands separators are dropped."""

    def texts(self, name: str) -> tuple[I64, list[str]]:
        """(code per row, distinct values): the column dictionary-encoded."""

    def contains(self, name: str, needle: str) -> NDArray[np.bool_]:
        """Which rows contain ``needle`` (lower case), ignoring case."""

    def small_ints(self, name: str, what: str) -> list[int | None]:
        """Non-negative integer codes, None where empty."""


# -- Arrow ----------------------------------------------------------------------------------

_UTC = pa.timestamp("s", tz="UTC")


class ArrowColumns:
    """Columns typed by Arrow's CSV reader; any surprise raises :class:`Unparsable`."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    @classmethod
    def read(cls, body: str, names: list[str], kinds: dict[str, str]) -> ArrowColumns:
        """Read ``body`` (no header) with ``kinds``: name -> instant, date, clock,
        float, label (a text of few distinct values), text (missing names are text)."""
        arrow_types = {
            "instant": _UTC,
            "date": pa.date32(),
            "clock": pa.time32("s"),
            "float": pa.float64(),
            "text": pa.string(),
            "label": pa.dictionary(pa.int32(), pa.string()),
        }
        types = {n: arrow_types[kinds.get(n, "text")] for n in names}
        if len(set(names)) != len(names):
            raise Unparsable
        try:
            table = pacsv.read_csv(
                io.BytesIO(body.encode()),
                read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
                convert_options=pacsv.ConvertOptions(
                    column_types=types,
                    null_values=[""],
                    strings_can_be_null=True,  # an empty field is null: blank
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeError):
            raise Unparsable from None
        return cls(table)

    def __len__(self) -> int:
        return int(self._table.num_rows)

    def has(self, name: str) -> bool:
        return name in self._table.column_names

    def _column(self, name: str, nulls: bool = False) -> pa.Array:
        col = self._table.column(name).combine_chunks()
        if not nulls and col.null_count:
            raise Unparsable
        return col

    def instants(self, name: str) -> I64:
        col = self._column(name)
        if col.type != _UTC:
            raise Unparsable
        out: I64 = col.cast(pa.int64()).to_numpy().astype(np.int64)
        return out

    def dates(self, name: str) -> I64:
        col = self._column(name)
        if col.type != pa.date32():
            raise Unparsable
        out: I64 = col.cast(pa.int32()).to_numpy().astype(np.int64) * 86400
        return out

    def clocks(self, name: str) -> I64:
        col = self._column(name)
        if col.type != pa.time32("s"):
            raise Unparsable
        out: I64 = col.cast(pa.int32()).to_numpy().astype(np.int64)
        return out

    def floats(self, name: str, what: str, blank: float | None = None) -> F64:
        col = self._column(name, nulls=blank is not None)
        if pa.types.is_string(col.type):
            cleaned = pc.ascii_trim(col, characters=" \t$")
            if pc.any(pc.match_substring(cleaned, ",")).as_py():
                cleaned = pc.replace_substring(cleaned, ",", "")
            if pc.any(pc.equal(cleaned, "")).as_py():  # spaces or a lone "$": blank too
                if blank is None:
                    raise Unparsable
                cleaned = pc.if_else(pc.equal(cleaned, ""), pa.scalar(None, pa.string()), cleaned)
            try:
                col = cleaned.cast(pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise Unparsable from None
        if col.type != pa.float64():
            raise Unparsable
        if blank is not None:
            col = col.fill_null(blank)
        out: F64 = col.to_numpy()
        if not np.isfinite(out).all():  # blanks are filled: NaN or inf came from the text
            raise Unparsable
        return out

    def texts(self, name: str) -> tuple[I64, list[str]]:
        encoded = self._column(name, nulls=True)
        if not pa.types.is_dictionary(encoded.type) or encoded.null_count:
            encoded = pc.dictionary_encode(encoded.cast(pa.string()).fill_null(""))
        codes: I64 = encoded.indices.to_numpy().astype(np.int64)
        return codes, [str(v) for v in encoded.dictionary.to_pylist()]

    def contains(self, name: str, needle: str) -> NDArray[np.bool_]:
        col = self._column(name, nulls=True)
        if col.null_count == len(col):
            return np.zeros(len(col), dtype=np.bool_)
        col = col.cast(pa.string()).fill_null("")
        found: NDArray[np.bool_] = pc.match_substring(col, needle, ignore_case=True).to_numpy(
            zero_copy_only=False
        )
        return found

    def small_ints(self, name: str, what: str) -> list[int | None]:
        col = self._column(name, nulls=True)
        try:
            ints = pc.utf8_trim_whitespace(col.cast(pa.string())).cast(pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise Unparsable from None
        values: list[int | None] = ints.to_pylist()
        if any(v is not None and v < 0 for v in values):
            raise Unparsable
        return values


# -- exact text reader ----------------------------------------------------------------------


def split_columns(text: str, width: int) -> list[list[str]]:
    """The columns of CSV ``text`` (no header, blank lines skipped), transposed in C.

    Raises :class:`WidthError` for the first row of another width.
    """
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    if not rows:
        return [[] for _ in range(width)]
    cols = [list(c) for c in itertools.zip_longest(*rows)]
    if len(cols) != width or any(None in c for c in cols):
        for i, row in enumerate(rows):
            if len(row) != width:
                raise WidthError(len(row), width, i)
    return cols


def _money(text: str) -> str:
    return text.strip().replace("$", "").replace(",", "")


class TextColumns:
    """Columns read field by field where needed; a bad field raises
    :class:`~gbconnect.ingest.csv.text.FieldError` with its row."""

    def __init__(self, names: list[str], cols: list[list[str]]) -> None:
        self._cols = dict(zip(names, cols, strict=True))
        self._rows = len(cols[0]) if cols else 0

    def __len__(self) -> int:
        return self._rows

    def has(self, name: str) -> bool:
        return name in self._cols

    def _parse(self, name: str, fn: Callable[[list[str]], I64]) -> I64:
        return fn(self._cols[name])

    def instants(self, name: str) -> I64:
        return self._parse(name, parse_utc)

    def dates(self, name: str) -> I64:
        return self._parse(name, parse_dates)

    def clocks(self, name: str) -> I64:
        return self._parse(name, parse_clock)

    def floats(self, name: str, what: str, blank: float | None = None) -> F64:
        texts = [_money(t) for t in self._cols[name]]
        if blank is None:
            for i, t in enumerate(texts):
                if not t:
                    raise FieldError(f"{what} is empty", i)
            return parse_floats(texts, what)
        present = [i for i, t in enumerate(texts) if t]
        out = np.full(len(texts), blank, dtype=np.float64)
        if present:
            try:
                out[np.array(present)] = parse_floats([texts[i] for i in present], what)
            except FieldError as exc:
                raise FieldError(str(exc), present[exc.index]) from None
        return out

    def texts(self, name: str) -> tuple[I64, list[str]]:
        labels: dict[str, int] = {}
        codes = np.fromiter(
            (labels.setdefault(t, len(labels)) for t in self._cols[name]),
            dtype=np.int64,
            count=self._rows,
        )
        return codes, list(labels)

    def contains(self, name: str, needle: str) -> NDArray[np.bool_]:
        return np.array([needle in t.lower() for t in self._cols[name]], dtype=np.bool_)

    def small_ints(self, name: str, what: str) -> list[int | None]:
        out: list[int | None] = []
        for i, t in enumerate(self._cols[name]):
            t = t.strip()
            if t and not t.isdigit():
                raise FieldError(f"{what} {t!r} is not a {what} code", i)
            out.append(int(t) if t else None)
        return out
