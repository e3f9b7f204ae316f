"""``gbconnect thirdparty register`` with what customers read of a company (its
description, website, privacy policy, terms, portal screen) and ``thirdparty logo``,
as separate processes on SQLite and PostgreSQL; refusals are one line, never a
traceback."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from gbconnect.registration import models as rm
from tests.clirun import run_cli

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _register(db_url: str, *extra: str) -> dict[str, object]:
    done = run_cli(
        db_url,
        "thirdparty",
        "register",
        "--name",
        "Watt Watchers",
        "--redirect-uri",
        "https://watt.example/cb",
        "--approve",
        "--json",
        *extra,
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, object] = json.loads(done.stdout)
    return data


def test_register_with_what_customers_read_then_set_the_logo(
    db_url: str, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    data = _register(
        db_url,
        "--description",
        "Watches your use and tells you how to save.",
        "--website",
        "https://watt.example/",
        "--privacy-policy",
        "https://watt.example/privacy",
        "--terms",
        "https://watt.example/terms",
        "--portal-uri",
        "https://watt.example/connect",
    )
    assert data["description"] == "Watches your use and tells you how to save."
    assert data["portal_uri"] == "https://watt.example/connect"
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    done = run_cli(
        db_url, "thirdparty", "logo", str(data["client_id"]), "--file", str(logo), "--json"
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["content_type"] == "image/png" and shown["bytes"] == len(PNG)
    assert shown["url"].endswith(f"/companies/{data['application_information_id']}/logo")
    with factory() as s:
        row = s.get(rm.ApplicationLogo, data["application_information_id"])
        assert row is not None and row.data == PNG and row.source == "file"
        app = s.get(rm.ApplicationInformation, data["application_information_id"])
        assert app is not None and app.policy_uri == "https://watt.example/privacy"


def test_refusals_are_one_line(db_url: str, tmp_path: Path) -> None:
    client_id = str(_register(db_url)["client_id"])
    svg = tmp_path / "logo.svg"
    svg.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>")
    for args, words in (
        (("logo", client_id, "--file", str(svg)), "not a PNG"),
        (("logo", client_id), "either --file or --fetch"),
        (("logo", client_id, "--fetch"), "no logo_uri"),
        (("logo", "no-such-client", "--fetch"), "no third party"),
    ):
        done = run_cli(db_url, "thirdparty", *args)
        assert done.returncode != 0, args
        assert words in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
    for extra, words in (
        (("--description", "x" * 300), "at most 256"),
        (("--website", "javascript:alert(1)"), ""),
    ):
        done = run_cli(
            db_url,
            "thirdparty",
            "register",
            "--name",
            "Bad",
            "--redirect-uri",
            "https://bad.example/cb",
            *extra,
        )
        assert done.returncode != 0, extra
        assert words in done.stderr and "Traceback" not in done.stderr, (extra, done.stderr)
