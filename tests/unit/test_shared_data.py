"""The test data in ../shared: present, and when absent a failure that says what is
missing and where it is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import shared as data


def test_the_data_the_tests_read_is_there(shared: Path, schemas: Path, samples: Path) -> None:
    assert (schemas / "espi.xsd").is_file() and (schemas / "atom.xsd").is_file()
    assert (shared / "espi" / "xsd" / "w3c" / "xml.xsd").is_file()
    assert len(list(samples.glob("*.xml"))) == 65


def test_missing_data_fails_saying_what_and_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "shared"
    monkeypatch.setattr(data, "ROOT", root)
    for find, part in ((data.samples_dir, "samples/xml"), (data.schemas_dir, "espi/xsd/4.0")):
        with pytest.raises(pytest.fail.Exception) as info:
            find()
        message = str(info.value)
        assert str(root / part) in message and "../shared beside the repository" in message
    # Collection still names one test for the samples, which then fails in its fixture.
    assert data.sample_names() == [data.MISSING]
