"""The project's test data, kept outside the repository in ``../shared`` beside it:
the ESPI 4.0 and Atom schemas (``espi/xsd/4.0/``, with ``espi/xsd/w3c/xml.xsd``) and
the public Green Button sample files (``samples/xml/``).

Tests reach it through the ``shared``, ``schemas`` and ``samples`` fixtures
(tests/conftest.py), and helpers through :func:`shared_path`; when a folder is missing
the test fails saying which and where it is expected, rather than skipping or failing
on an unexplained missing file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: ``../shared`` beside the repository.
ROOT = Path(__file__).resolve().parents[1].parent / "shared"
#: The folders the tests read.
SCHEMAS = ("espi", "xsd", "4.0")
SAMPLES = ("samples", "xml")
#: Stands for the sample files at collection when their folder is missing: its test
#: fails in the ``samples`` fixture with the reason.
MISSING = "(samples/xml missing)"


def shared_path(*parts: str) -> Path:
    """``../shared/<parts>``; fails the test when it does not exist."""
    path = ROOT.joinpath(*parts)
    if not path.exists():
        what = "/".join(parts) or "the folder itself"
        pytest.fail(
            f"Test data missing: {path} does not exist. The tests read ../shared beside "
            f"the repository ({ROOT}): espi/xsd/4.0/ (the ESPI and Atom schemas), "
            f"espi/xsd/w3c/xml.xsd and samples/xml/ (the 65 public sample files); "
            f"missing here: {what}.",
            pytrace=False,
        )
    return path


def schemas_dir() -> Path:
    """``../shared/espi/xsd/4.0``: atom.xsd, espi.xsd, customer.xsd."""
    return shared_path(*SCHEMAS)


def samples_dir() -> Path:
    """``../shared/samples/xml``: the public sample files."""
    return shared_path(*SAMPLES)


def sample_names() -> list[str]:
    """The sample files' names, for parametrising at collection (a fixture cannot be
    used there); :data:`MISSING` alone when their folder is absent."""
    folder = ROOT.joinpath(*SAMPLES)
    if not folder.is_dir():
        return [MISSING]
    return sorted(p.name for p in folder.glob("*.xml"))
