"""The developer guide's examples as a test runs them: the fenced ``sh`` and ``python``
blocks of ``docs/developers/*.md`` (except those a ``<!-- not run: why -->`` comment
marks), and the served gbconnect with the seeded state and the environment variables
the examples use (``$DC``, ``$CLIENT_ID``...: ``docs/developers/index.md`` lists them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.clirun import run_cli
from tests.factories.customers import PASSWORD
from tests.factories.parties import REDIRECT, SCOPE
from tests.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "developers"

#: The languages run, and how: bash for sh, a Python process for python.
RUNNABLE = ("sh", "python")

_FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)\s*$")
_NOT_RUN = re.compile(r"^<!--\s*not run:\s*(.+?)\s*-->\s*$")
_SERVER = re.compile(r"^<!--\s*server:\s*([a-z]+)\s*-->\s*$")

#: The servers a block may ask for with ``<!-- server: NAME -->`` (default: the
#: ordinary one). ``limited`` applies the rate limits (PG&E's defaults, 1 request per
#: second per vendor), answers every Batch request 202 (an asynchronous package) and
#: an empty window 204, as PG&E does.
SERVERS = ("limited",)


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: str
    line: int  # the opening fence's line (1-based)
    language: str
    code: str
    not_run: str | None  # the reason of a preceding <!-- not run: ... --> comment
    server: str | None = None  # a preceding <!-- server: NAME --> comment

    @property
    def where(self) -> str:
        return f"docs/developers/{self.page}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.language in RUNNABLE and self.not_run is None


def page_blocks(path: Path) -> list[Block]:
    """The fenced blocks of one Markdown page, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        # The HTML comments just above the fence (blank lines allowed between).
        comments: list[str] = []
        for k in range(start - 1, -1, -1):
            text = lines[k].strip()
            if not text:
                continue
            if not text.startswith("<!--"):
                break
            comments.append(text)
        reason = next((r.group(1) for c in comments if (r := _NOT_RUN.match(c))), None)
        server = next((r.group(1) for c in comments if (r := _SERVER.match(c))), None)
        found.append(
            Block(
                page=path.name,
                line=start + 1,
                language=m.group(1).lower(),
                code="\n".join(lines[start + 1 : j]) + "\n",
                not_run=reason,
                server=server,
            )
        )
        i = j + 1
    return found


def guide_blocks(folder: Path = GUIDE) -> list[Block]:
    """Every block of every page of the guide, the pages in name order."""
    return [b for page in sorted(folder.glob("*.md")) for b in page_blocks(page)]


def run_block(block: Block, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``block`` (bash with -e -u -o pipefail, or Python) in ``cwd``."""
    if block.language == "sh":
        command = ["bash", "-e", "-u", "-o", "pipefail", "-c", block.code]
    else:
        command = [sys.executable, "-c", block.code]
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def pkce() -> tuple[str, str]:
    """A PKCE S256 verifier and its challenge (RFC 7636 section 4)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:2000]
    return m.group(1)


class Customer:
    """Alice at her utility, through real HTTP: signs in once, then consents to the
    world's third party as often as a test needs a fresh code or fresh tokens (each
    consent replaces her previous authorization of it)."""

    def __init__(self, base: str, client_id: str, client_secret: str, points: list[int]) -> None:
        self.base = base
        self.client_id = client_id
        self.client_secret = client_secret
        self.points = points
        self.http = httpx.Client(base_url=base, timeout=30)
        page = self.http.get("/login")
        r = self.http.post(
            "/login",
            data={"username": "alice", "password": PASSWORD, "csrf": _csrf(page.text), "next": "/"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text

    def close(self) -> None:
        self.http.close()

    def code(self) -> tuple[str, str]:
        """A fresh authorization code (S256 PKCE) and its verifier."""
        verifier, challenge = pkce()
        url = "/oauth/authorize?" + urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": REDIRECT,
                "scope": SCOPE,
                "state": secrets.token_urlsafe(12),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        page = self.http.get(url)
        assert page.status_code == 200, page.text[:2000]
        r = self.http.post(
            url,
            data={
                "csrf": _csrf(page.text),
                "decision": "approve",
                "service": [str(i) for i in self.points],
                "group": ["electric", "gas", "billing", "quality", "account"],
                "end": "revoke",
            },
            follow_redirects=False,
        )
        assert r.status_code == 302, r.text[:2000]
        return parse_qs(urlsplit(r.headers["location"]).query)["code"][0], verifier

    def tokens(self) -> dict[str, str]:
        """Fresh customer tokens: the token response's fields."""
        code, verifier = self.code()
        r = httpx.post(
            self.base + "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
            auth=(self.client_id, self.client_secret),
            timeout=30,
        )
        assert r.status_code == 200, r.text
        body: dict[str, str] = r.json()
        return body


def invitation(db_url: str) -> str:
    """A fresh initial access token (RFC 7591), as the operator makes one:
    ``gbconnect thirdparty invite``."""
    done = run_cli(db_url, "thirdparty", "invite", "--json")
    assert done.returncode == 0, done.stderr
    token: str = json.loads(done.stdout)["initial_access_token"]
    return token


@dataclass
class Fresh:
    """Makes the variables a block may spend anew for it: an initial access token
    (``$INITIAL_ACCESS_TOKEN``, used once), a notification just sent
    (``$NOTIFICATION_BODY``, ``$NOTIFICATION_HEADERS``: its timestamp is checked), a
    code (``$CODE``, ``$CODE_VERIFIER``) or customer tokens and their ids
    (``$ACCESS_TOKEN``, ``$REFRESH_TOKEN``, ``$SUBSCRIPTION_ID``,
    ``$AUTHORIZATION_ID``)."""

    db_url: str
    customer: Customer
    receiver: Receiver
    folder: Path

    def notification(self) -> tuple[dict[str, str], dict[str, str]]:
        """Alice consents once more: gbconnect notifies the third party (FB_39). The
        notification's variables, and the tokens of the grant it is about."""
        seen = len(self.receiver.received)
        tokens = self.customer.tokens()
        wait_for(lambda: len(self.receiver.received) > seen)
        got = self.receiver.received[-1]
        return save_notification(self.folder, got.body, got.headers), tokens

    def variables(self, block: Block) -> dict[str, str]:
        out: dict[str, str] = {}
        tokens: dict[str, str] | None = None
        if "INITIAL_ACCESS_TOKEN" in block.code:
            out["INITIAL_ACCESS_TOKEN"] = invitation(self.db_url)
        if "NOTIFICATION_" in block.code:
            notified, tokens = self.notification()
            out |= notified
        if "CODE" in block.code:
            code, verifier = self.customer.code()
            return out | {"CODE": code, "CODE_VERIFIER": verifier}
        names = ("ACCESS_TOKEN", "REFRESH_TOKEN", "SUBSCRIPTION_ID", "AUTHORIZATION_ID")
        if any(n in block.code for n in names):
            # The grant the notification is about, when there is one: a new consent
            # would replace it (and its subscription).
            t = tokens if tokens is not None else self.customer.tokens()
            out |= {
                "ACCESS_TOKEN": t["access_token"],
                "REFRESH_TOKEN": t["refresh_token"],
                "SUBSCRIPTION_ID": t["resourceURI"].rstrip("/").rsplit("/", 1)[1],
                "AUTHORIZATION_ID": t["authorizationURI"].rstrip("/").rsplit("/", 1)[1],
            }
        return out


def wait_for(condition: Callable[[], object], seconds: float = 30.0) -> None:
    """Poll ``condition()`` until true (fails after ``seconds``: a notification that
    never came)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def save_notification(folder: Path, body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """A notification gbconnect sent, as files the examples read; their variables."""
    body_file = folder / "notification.xml"
    headers_file = folder / "notification-headers.json"
    body_file.write_bytes(body)
    headers_file.write_text(json.dumps(headers, indent=1))
    return {"NOTIFICATION_BODY": str(body_file), "NOTIFICATION_HEADERS": str(headers_file)}


def example_env(base: dict[str, str], db_url: str) -> dict[str, str]:
    """The process environment of an example: ours, with this Python's ``gbconnect``
    first on PATH and the source tree importable; the served database for the
    utility's own commands (``gbconnect thirdparty ...``); and ``base``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GBCONNECT_")}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["GBCONNECT_DATABASE_URL"] = db_url
    env["GBCONNECT_BASE_URL"] = base["DC"]
    env.update(base)
    return env


@dataclass(frozen=True)
class Result:
    block: Block
    done: subprocess.CompletedProcess[str]

    @property
    def failure(self) -> str | None:
        if self.done.returncode == 0:
            return None
        return (
            f"{self.block.where} ({self.block.language}) exited {self.done.returncode}\n"
            f"--- stdout ---\n{self.done.stdout[-3000:]}\n"
            f"--- stderr ---\n{self.done.stderr[-3000:]}"
        )


def run_all(
    blocks: list[Block], envs: Mapping[str | None, dict[str, str]], fresh: Fresh
) -> list[Result]:
    """Run every runnable block in order (in ``fresh.folder``), each with the
    environment of its server (``envs[block.server]``) and its fresh variables."""
    results = []
    for block in blocks:
        if block.runs:
            env = {**envs[block.server], **fresh.variables(block)}
            results.append(Result(block, run_block(block, env, fresh.folder)))
    return results
