"""``gbconnect ingest`` refuses hostile and broken files with one clear line, storing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from gbconnect.cli import main
from gbconnect.db import make_engine, make_sessionmaker
from gbconnect.usage.models import UsagePoint
from tests.shared import samples_dir

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol3;</title></feed>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&xxe;</title></entry></feed>
"""


def run(db_url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--database-url", db_url, *args])
    return result.exit_code, result.stdout, result.stderr


def usage_points(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            return int(session.execute(select(func.count()).select_from(UsagePoint)).scalar_one())
    finally:
        engine.dispose()


def truncated(tmp: Path) -> Path:
    data = (samples_dir() / "15minLP_15Days.xml").read_bytes()
    p = tmp / "truncated.xml"
    p.write_bytes(data[: len(data) // 2])
    return p


CASES = {
    "truncated": (truncated, "malformed XML"),
    "not-xml": (lambda t: _write(t, "notxml.xml", "\x89PNG this is not xml\n"), "not"),
    "billion-laughs": (lambda t: _write(t, "laughs.xml", BILLION_LAUGHS), "not accepted"),
    "xxe": (lambda t: _write(t, "xxe.xml", XXE), "not accepted"),
    "wrong-csv-header": (
        lambda t: _write(t, "bad.csv", "a,b,c\n1,2,3\n"),
        "unrecognised CSV header",
    ),
    "missing": (lambda t: t / "nope.xml", "no such file"),
    "empty": (lambda t: _write(t, "empty.xml", ""), "empty"),
}


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_refused(case: str, tmp_path: Path, db_url: str) -> None:
    make, message = CASES[case]
    path = make(tmp_path)
    code, out, err = run(db_url, "ingest", str(path))
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith(f"refused {path}")
    assert message in first
    assert "Traceback" not in err and "/etc/passwd" not in out + err.replace(str(path), "")
    assert usage_points(db_url) == 0


def test_good_and_bad_files_together(tmp_path: Path, db_url: str, samples: Path) -> None:
    bad = _write(tmp_path, "bad.xml", "<feed")
    code, out, err = run(
        db_url, "ingest", "--customer", "ann", str(samples / "1hrLP_32Days.xml"), str(bad)
    )
    assert code == 1
    assert "768 reading(s)" in out
    assert "1 file(s) refused" in err
    assert usage_points(db_url) == 1


def test_ingest_needs_a_current_schema(tmp_path: Path, samples: Path) -> None:
    code, _out, err = run(
        f"sqlite:///{tmp_path / 'new.db'}", "ingest", str(samples / "Electric.xml")
    )
    assert code == 1 and "gbconnect init" in err


def test_init_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert run(url, "init")[1].startswith("schema upgraded")
    assert run(url, "init")[1].startswith("schema already current")


def test_bad_settings_are_reported_without_traceback(tmp_path: Path) -> None:
    code, _out, err = run("mysql://nowhere/db", "init")
    assert code == 1
    assert "GBCONNECT_DATABASE_URL" in err and "Traceback" not in err
