"""The importers' and the ESPI reader's errors are leaves of the one tree
(gbconnect/errors.py): input problems under InputError (a ValueError, 400), our own
broken invariants under InternalError (500)."""

from __future__ import annotations

import io

import pytest

from gbconnect.customer.services import CustomerError
from gbconnect.errors import InputError, InternalError
from gbconnect.espi.atom import UnwritableText, escape
from gbconnect.espi.times import TimeValueError, parse_timestamp
from gbconnect.espi.xmlreader import XmlInputError, iter_entries
from gbconnect.ingest.errors import (
    FieldError,
    IngestError,
    LocalTimeError,
    Unparsable,
    WidthError,
)
from gbconnect.usage.blocks import BlockCodecError


@pytest.mark.parametrize(
    "cls",
    [
        IngestError,
        FieldError,
        WidthError,
        Unparsable,
        LocalTimeError,
        XmlInputError,
        TimeValueError,
        CustomerError,
    ],
)
def test_input_problems_are_input_errors(cls: type[Exception]) -> None:
    assert issubclass(cls, InputError)
    assert issubclass(cls, ValueError)
    assert cls.status == 400  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", [UnwritableText, BlockCodecError])
def test_broken_invariants_are_internal_errors(cls: type[Exception]) -> None:
    assert issubclass(cls, InternalError)
    assert not issubclass(cls, InputError)
    assert cls.status == 500  # type: ignore[attr-defined]


def test_ingest_error_keeps_its_path_line_and_message() -> None:
    exc = IngestError("f.xml", "the feed holds no entries", 3)
    assert str(exc) == exc.description == "f.xml:3: the feed holds no entries"
    assert (exc.path, exc.line, exc.message) == ("f.xml", 3, "the feed holds no entries")


def test_column_errors_keep_their_index() -> None:
    assert FieldError("value is empty", 4).index == 4
    assert LocalTimeError("no such local time", 2).index == 2
    width = WidthError(3, 4, 7)
    assert (str(width), width.index) == ("row has 3 fields, 4 expected", 7)


def test_raised_errors_are_caught_by_level() -> None:
    with pytest.raises(InputError):
        parse_timestamp("soon", "start")
    with pytest.raises(InternalError):
        escape("bell \x07")
    with pytest.raises(InputError):
        list(iter_entries(io.BytesIO(b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>")))
