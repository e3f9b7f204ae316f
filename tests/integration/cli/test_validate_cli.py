"""``gbconnect validate``: schema and data-rule findings with rule, line and message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from gbconnect.cli import main
from tests.shared import samples_dir, schemas_dir


def _validate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from gbconnect.cli import main; main()",
            "validate",
            "--schemas",
            str(schemas_dir()),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _entry(
    content: str, self_href: str = "http://x/r/UsagePoint/1/MeterReading/1/IntervalBlock/1"
) -> str:
    return (
        "<entry><id>urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8</id>"
        f'<link rel="self" href="{self_href}"/><link rel="up" href="http://x/r/up"/>'
        "<title>t</title><published>2024-01-01T00:00:00Z</published>"
        f"<updated>2024-01-01T00:00:00Z</updated><content>{content}</content></entry>"
    )


def _feed(*entries: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        "<id>urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c9</id><title>f</title>"
        f"<updated>2024-01-01T00:00:00Z</updated>{''.join(entries)}</feed>\n"
    )


ESPI = 'xmlns="http://naesb.org/espi"'


def test_clean_samples_are_valid(samples: Path) -> None:
    done = _validate(str(samples / "15minLP_15Days.xml"), str(samples / "Gas.xml"))
    assert done.returncode == 0, done.stdout
    assert done.stdout.count("valid (0 error(s)") == 2


def test_real_world_deviations_are_reported_with_their_lines(samples: Path) -> None:
    coastal = samples / "Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml"
    done = _validate(str(coastal), str(samples / "1hrLP_32DaysNoCost.xml"), "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    rules = {(f["rule"], f["line"]) for f in report[str(coastal)]}
    assert ("FB4-UNIQUE", 12146) in rules  # the repeated DST hour
    xsd = report[str(samples / "1hrLP_32DaysNoCost.xml")]
    assert xsd[0]["rule"] == "XSD" and xsd[0]["line"] == 72
    assert "ServiceDeliveryPoint" in xsd[0]["message"] and "{http" not in xsd[0]["message"]


def test_data_rules(tmp_path: Path) -> None:
    rt = (
        f"<ReadingType {ESPI}><accumulationBehaviour>4</accumulationBehaviour>"
        "<commodity>7</commodity><flowDirection>1</flowDirection><intervalLength>86400"
        "</intervalLength><kind>12</kind><powerOfTenMultiplier>0</powerOfTenMultiplier>"
        "<uom>72</uom></ReadingType>"
    )
    block = (
        f"<IntervalBlock {ESPI}><interval><duration>86400</duration><start>0</start></interval>"
        "<IntervalReading><cost>5</cost><timePeriod><duration>900</duration><start>0</start>"
        "</timePeriod><value>1</value></IntervalReading>"
        "<IntervalReading><timePeriod><duration>900</duration><start>0</start></timePeriod>"
        "<value>2</value></IntervalReading>"
        "<IntervalReading><timePeriod><duration>900</duration><start>90000</start></timePeriod>"
        "<value>3</value></IntervalReading>"
        "<IntervalReading><value>4</value></IntervalReading></IntervalBlock>"
    )
    odd_code = rt.replace("<uom>72</uom>", "<uom>9999</uom>").replace(
        "<commodity>7</commodity>", "<commodity>1</commodity>"
    )
    f = tmp_path / "rules.xml"
    f.write_text(_feed(_entry(rt), _entry(block), _entry(odd_code)))
    done = _validate(str(f))
    assert done.returncode == 1
    out = done.stdout
    for rule in (
        "FB10-UOM",
        "FB12-CURRENCY",
        "FB4-UNIQUE",
        "FB4-INTERVAL",
        "FB4-TIMEPERIOD",
        "CODE",
        "FB5-PHASE",
    ):
        assert f" {rule}: " in out, rule
    assert "uom 9999 is not a UnitSymbolKind code" in out
    assert f"{f}:" in out and "Traceback" not in done.stderr


def test_unreadable_inputs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><feed/>")
    trunc = tmp_path / "trunc.xml"
    trunc.write_text(_feed()[:60])
    done = _validate(str(bad), str(trunc))
    assert done.returncode == 1
    assert "error XML: document type declarations" in done.stdout
    assert "error XML: not well-formed XML" in done.stdout
    missing = subprocess.run(
        [
            sys.executable,
            "-c",
            "from gbconnect.cli import main; main()",
            "validate",
            "--schemas",
            str(tmp_path),
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1 and "lacks atom.xsd" in missing.stderr
    assert "Traceback" not in missing.stderr


def _run(args: list[str], env: dict[str, str | None]) -> Result:
    return CliRunner().invoke(main, ["validate", *args], env=env)


def test_schemas_come_from_gbconnect_schema_dir() -> None:
    done = _run([str(samples_dir() / "Gas.xml")], {"GBCONNECT_SCHEMA_DIR": str(schemas_dir())})
    assert done.exit_code == 0, done.output
    assert "valid (0 error(s)" in done.output


def test_without_schemas_it_says_where_to_get_them(tmp_path: Path) -> None:
    sample = str(samples_dir() / "Gas.xml")
    for env in ({"GBCONNECT_SCHEMA_DIR": None}, {"GBCONNECT_SCHEMA_DIR": str(tmp_path / "no")}):
        done = _run([sample], env)
        assert done.exit_code == 1
        for hint in ("espi.xsd", "customer.xsd", "atom.xsd", "../shared/espi/xsd/4.0"):
            assert hint in done.output, (env, done.output)
        assert "--schemas" in done.output and "GBCONNECT_SCHEMA_DIR" in done.output
        assert done.exception is None or isinstance(done.exception, SystemExit)
    done = _run(["--schemas", str(tmp_path), sample], {"GBCONNECT_SCHEMA_DIR": None})
    assert done.exit_code == 1 and "lacks atom.xsd" in done.output
    assert "../shared/espi/xsd/4.0" in done.output
