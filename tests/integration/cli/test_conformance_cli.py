"""``gbconnect conformance`` as a process: usage errors answer 2 with a sentence, an
unreachable Data Custodian fails its cases (exit 1) without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import run_cli
from tests.serverproc import free_port

BASE = ["conformance", "--client-id", "c", "--client-secret", "s"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--data-custodian", "ftp://dc.example"], "must be an http(s) URL"),
        (
            ["--data-custodian", "http://dc.example", "--customer-username", "u"],
            "go together",
        ),
        (["--data-custodian", "http://dc.example", "--only", "FND,XYZ9"], "no case named XYZ9"),
        (["--data-custodian", "http://dc.example", "--notify-listen", "nowhere"], "HOST:PORT"),
    ],
)
def test_usage_errors_say_what_is_wrong(args: list[str], said: str) -> None:
    done = run_cli("sqlite://", *BASE, *args)
    assert done.returncode == 2
    assert said in done.stderr and "Traceback" not in done.stderr


def test_a_schema_folder_without_schemas_is_refused(tmp_path: Path) -> None:
    args = ["--data-custodian", "http://dc.example", "--schema-dir", str(tmp_path)]
    done = run_cli("sqlite://", *BASE, *args)
    assert done.returncode == 1
    assert "the schemas cannot be read" in done.stderr and "Traceback" not in done.stderr


def test_an_unreachable_data_custodian_fails_each_case_with_the_reason(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    url = f"http://127.0.0.1:{free_port()}"
    args = ["--data-custodian", url, "--only", "FND001,OAD003,TC009", "--json", str(report)]
    done = run_cli("sqlite://", *BASE, *args, "--allow-http")
    assert done.returncode == 1, done.stderr
    assert "FAIL FND001" in done.stdout and "FAIL OAD003" in done.stdout
    assert "no answer" in done.stdout or "ConnectError" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    # TC009 judges the client id given: "c" is far under 48 bits.
    assert "FAIL TC009" in done.stdout and report.is_file()
