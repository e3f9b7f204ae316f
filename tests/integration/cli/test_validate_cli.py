"""``gbconnect validate``: schema and data-rule findings with rule, line and message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gbconnect.cli import main
from gbconnect.espi.validate import Finding, SchemaSet, validate_file
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


@pytest.fixture(scope="module")
def schema_set() -> SchemaSet:
    return SchemaSet(schemas_dir())


def _findings(tmp_path: Path, schema_set: SchemaSet, *entries: str) -> list[Finding]:
    f = tmp_path / "case.xml"
    f.write_text(_feed(*entries))
    return validate_file(f, schema_set)


def _errors(findings: list[Finding]) -> list[str]:
    return [f"{f.rule}: {f.message}" for f in findings if not f.warning]


def _reading_type(**fields: int) -> str:
    """An electricity ReadingType of FB_5 with ``fields`` replaced."""
    values = {
        "accumulationBehaviour": 4,
        "commodity": 1,
        "flowDirection": 1,
        "intervalLength": 900,
        "kind": 12,
        "phase": 769,
        "powerOfTenMultiplier": 0,
        "timeAttribute": 0,
        "uom": 72,
    } | fields
    order = list(values)
    return (
        f"<ReadingType {ESPI}>"
        + "".join(f"<{k}>{values[k]}</{k}>" for k in order)
        + "</ReadingType>"
    )


def _block(start: int, duration: int, *readings: tuple[int, int]) -> str:
    return (
        f"<IntervalBlock {ESPI}><interval><duration>{duration}</duration><start>{start}</start>"
        "</interval>"
        + "".join(
            f"<IntervalReading><timePeriod><duration>{d}</duration><start>{s}</start>"
            "</timePeriod><value>1</value></IntervalReading>"
            for s, d in readings
        )
        + "</IntervalBlock>"
    )


def test_codes_the_schema_allows_are_warnings_not_errors(
    tmp_path: Path, schema_set: SchemaSet
) -> None:
    rt = _reading_type(powerOfTenMultiplier=-4, timeAttribute=7)
    found = _findings(tmp_path, schema_set, _entry(rt))
    assert _errors(found) == []
    codes = {f.message for f in found if f.rule == "CODE"}
    assert all(f.warning for f in found if f.rule == "CODE")
    assert any("powerOfTenMultiplier -4" in m for m in codes), codes
    assert any("timeAttribute 7" in m for m in codes), codes
    beyond = _findings(tmp_path, schema_set, _entry(_reading_type(powerOfTenMultiplier=40000)))
    assert any(e.startswith("XSD: ") for e in _errors(beyond))


def test_reactive_energy_in_varh_is_valid(tmp_path: Path, schema_set: SchemaSet) -> None:
    found = _findings(tmp_path, schema_set, _entry(_reading_type(uom=73)))
    assert _errors(found) == [] and not [f for f in found if f.rule == "FB5-UOM"]
    odd = _findings(tmp_path, schema_set, _entry(_reading_type(uom=38)))
    assert [(f.rule, f.warning) for f in odd if f.rule == "FB5-UOM"] == [("FB5-UOM", True)]


def test_reading_repeated_across_blocks_is_an_error(tmp_path: Path, schema_set: SchemaSet) -> None:
    first = _entry(
        _block(0, 3600, (0, 900), (900, 900)), "http://x/r/MeterReading/1/IntervalBlock/1"
    )
    again = _entry(_block(900, 3600, (900, 900)), "http://x/r/MeterReading/1/IntervalBlock/2")
    found = _findings(tmp_path, schema_set, first, again)
    unique = [f for f in found if f.rule == "FB4-UNIQUE"]
    assert len(unique) == 1 and not unique[0].warning
    assert "start at 900" in unique[0].message


def test_readings_overlapping_across_blocks_are_a_warning(
    tmp_path: Path, schema_set: SchemaSet
) -> None:
    first = _entry(_block(0, 3600, (0, 3600)), "http://x/r/MeterReading/1/IntervalBlock/1")
    later = _entry(_block(1800, 3600, (1800, 900)), "http://x/r/MeterReading/1/IntervalBlock/2")
    found = _findings(tmp_path, schema_set, first, later)
    assert _errors(found) == []
    overlap = [f for f in found if f.rule == "FB4-OVERLAP"]
    assert len(overlap) == 1 and overlap[0].warning
    assert "[1800, 2700)" in overlap[0].message
    other_meter = _entry(_block(1800, 3600, (1800, 900))).replace(
        "http://x/r/up", "http://x/r/MeterReading/2/IntervalBlock"
    )
    apart = _findings(tmp_path, schema_set, first, other_meter)
    assert not [f for f in apart if f.rule in ("FB4-OVERLAP", "FB4-UNIQUE")]


def test_block_of_duration_0_holding_readings_is_an_error(
    tmp_path: Path, schema_set: SchemaSet
) -> None:
    found = _findings(tmp_path, schema_set, _entry(_block(0, 0, (0, 900), (900, 900))))
    assert _errors(found) == [
        "FB4-INTERVAL: IntervalBlock of duration 0 holds readings (its interval must cover them)"
    ]
    empty = _findings(tmp_path, schema_set, _entry(_block(0, 0)))
    assert _errors(empty) == []


def test_reading_of_duration_0_is_a_warning(tmp_path: Path, schema_set: SchemaSet) -> None:
    found = _findings(tmp_path, schema_set, _entry(_block(0, 3600, (0, 900), (900, 0))))
    assert _errors(found) == []
    zero = [f for f in found if f.rule == "FB4-DURATION"]
    assert len(zero) == 1 and zero[0].warning and "at 900 has duration 0" in zero[0].message


@pytest.mark.parametrize(
    "name",
    [
        "ESPIReadingTypes.xml",
        "Meter_Data_01-06-2014_01-12-2014.xml",
        "threeusagepointsonecustomer.xml",
    ],
)
def test_samples_with_codes_outside_the_tables_are_valid_with_warnings(
    samples: Path, schema_set: SchemaSet, name: str
) -> None:
    found = validate_file(samples / name, schema_set)
    assert _errors(found) == []
    assert any(f.rule == "CODE" and f.warning for f in found)
