"""``gbconnect sample-thirdparty`` refuses bad options with one line, before serving."""

from __future__ import annotations

from pathlib import Path

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


def test_tls_options_are_checked(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    base = ["sample-thirdparty", "--data-custodian", "https://u.example", "--client-id", "x"]
    done = run_cli(DB, *base, "--key", str(junk), timeout=60)
    assert done.returncode == 2 and "--key needs --cert" in done.stderr
    done = run_cli(DB, *base, "--cert", str(junk), "--data-dir", str(tmp_path), timeout=60)
    assert done.returncode == 1 and "cannot load the TLS files" in done.stderr
    done = run_cli(DB, *base, "--ca-file", str(tmp_path / "absent.pem"), timeout=60)
    assert done.returncode == 2 and "--ca-file" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_names_the_pages() -> None:
    done = run_cli(DB, "sample-thirdparty", "--help", timeout=60)
    assert done.returncode == 0
    assert "--notify-secret" in done.stdout and "PUBLIC_URL/start" in done.stdout
