"""``gbconnect sample-thirdparty`` refuses bad options with one line, before serving."""

from __future__ import annotations

import pytest

from tests.clirun import run_cli

DB = "sqlite:///unused.db"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--data-custodian", "utility.example", "--client-id", "x"], "not an http(s) URL"),
        (["--data-custodian", "ftp://u.example", "--client-id", "x"], "not an http(s) URL"),
        (["--client-id", "x"], "Missing option '--data-custodian'"),
        (["--data-custodian", "http://u.example"], "Missing option '--client-id'"),
        (
            ["--data-custodian", "http://u.example", "--client-id", "x", "--public-url", "x"],
            "--public-url",
        ),
        (["--data-custodian", "http://u.example", "--client-id", "x", "--port", "0"], "--port"),
    ],
)
def test_bad_options_end_with_one_line(args: list[str], said: str) -> None:
    done = run_cli(DB, "sample-thirdparty", *args, timeout=60)
    assert done.returncode == 2
    assert said in done.stderr
    assert "Traceback" not in done.stderr


def test_help_names_the_pages() -> None:
    done = run_cli(DB, "sample-thirdparty", "--help", timeout=60)
    assert done.returncode == 0
    assert "--notify-secret" in done.stdout and "PUBLIC_URL/start" in done.stdout
