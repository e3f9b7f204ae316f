"""Token endpoint load benchmark (issue: performance). Prints figures from one run.

``wrk`` (Debian's package: ``apt-get install wrk``) drives ``gbconnect serve`` (one
uvicorn process, as in :mod:`benchmarks.api_load`) at concurrency 32 with three
requests: the bare ``/livez`` endpoint of the same application (the baseline), and
``POST /oauth/token`` (RFC 6749 section 3.2) with

* ``grant_type=client_credentials`` (client_secret_basic): every request
  authenticates the client and issues (stores) a new client access token;
* ``grant_type=refresh_token`` (client_secret_basic): gbconnect rotates refresh
  tokens (:mod:`gbconnect.oauth.server`: the used one dies at once, a rotated one
  presented again ends its whole family), so every request must present a refresh
  token never used before. A pool of refresh tokens of one customer grant is issued
  before the server starts; wrk's Lua script hands each request the next one (each
  wrk thread its own slice; the warm-up and the measured run their own pools). The
  figure is therefore the real rotation: find the refresh token, check the grant,
  issue an access and a refresh token, retire the old one, in one transaction.

Printed: requests/s, p50 and p99 latency, non-2xx answers, and the ratio of each
grant to ``/livez``. Targets: at least 0.3 of the bare endpoint's requests/s, p99
under 50 ms, no non-2xx answer (a reused refresh token would show as 400s).

Run: ``.venv/bin/python -m benchmarks.token_load [--seconds S] [--connections C]
[--postgres]``
"""

from __future__ import annotations

import argparse
import base64
import shutil
import sys
import tempfile
from pathlib import Path

import httpx
from sqlalchemy import insert, select
from tests.polling import polling_customer
from tests.serverproc import serving

from benchmarks.api_load import wrk
from gbconnect.db import make_engine, make_sessionmaker
from gbconnect.oauth import models as om
from gbconnect.oauth.secrets import digest, new_secret
from gbconnect.registration import models as rm
from gbconnect.resource import now

#: Refresh tokens issued per second of a measured run (and of the warm-up): more
#: than the endpoint can answer on this machine, so that no request lacks one.
TOKENS_PER_SECOND = 4000

REFRESH_LUA = """
local tokens = {}
local at = 0
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("slot", counter)
end
function init(args)
  for line in io.lines(FILE) do tokens[#tokens + 1] = line end
  at = slot
end
function request()
  local t = tokens[at] or "exhausted"
  at = at + THREADS
  return wrk.format("POST", nil, HEADERS, "grant_type=refresh_token&refresh_token=" .. t)
end
"""

CLIENT_LUA = """
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = AUTH
"""


def token_client(url: str, pools: list[int]) -> tuple[str, list[list[str]]]:
    """The third party of :func:`tests.polling.polling_customer` (approved, with one
    customer grant) with a client secret; returns its ``Authorization: Basic`` value
    and, for each size in ``pools``, that many fresh refresh tokens of the grant
    (stored as SHA-256 hashes, as the server issues them)."""
    polling_customer(url, 1)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session, session.begin():
        app = session.scalars(select(rm.ApplicationInformation)).one()
        auth = session.scalars(
            select(om.Authorization).where(om.Authorization.token_class == om.CUSTOMER)
        ).one()
        secret = new_secret()
        app.client_secret_hash = digest(secret)
        t = now()
        values = [[new_secret() for _ in range(n)] for n in pools]
        rows = [
            {
                "token_hash": digest(v),
                "kind": "refresh",
                "token_class": om.CUSTOMER,
                "application_id": app.id,
                "authorization_id": auth.id,
                "scope": auth.scope,
                "issued_at": t,
                "expires_at": t + 86400,
            }
            for pool in values
            for v in pool
        ]
        session.execute(insert(om.Token), rows)
        basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    engine.dispose()
    return f"Basic {basic}", values


def lua(tmp: Path, name: str, text: str, **values: str) -> Path:
    """A wrk script: ``text`` after ``values`` as Lua globals."""
    path = tmp / f"{name}.lua"
    head = "".join(f"{k} = {v}\n" for k, v in values.items())
    path.write_text(head + text)
    return path


def wrk_script(url: str, seconds: int, connections: int, script: Path) -> dict[str, float]:
    """:func:`benchmarks.api_load.wrk` with a Lua script (two threads, as there)."""
    return wrk(url, seconds, connections, {}, script=script)


def run(label: str, url: str, seconds: int, connections: int, tmp: Path) -> None:
    warm, measured = 2, seconds
    basic, pools = token_client(url, [TOKENS_PER_SECOND * warm, TOKENS_PER_SECOND * measured])
    files = []
    for n, pool in enumerate(pools):
        f = tmp / f"{label}-refresh-{n}.txt"
        f.write_text("\n".join(pool) + "\n")
        files.append(f)
    headers = (
        f"{{['Content-Type'] = 'application/x-www-form-urlencoded', ['Authorization'] = '{basic}'}}"
    )
    client_script = lua(tmp, f"{label}-client", CLIENT_LUA, AUTH=f"'{basic}'")
    refresh_scripts = [
        lua(tmp, f"{label}-refresh-{n}", REFRESH_LUA, FILE=f"'{f}'", THREADS="2", HEADERS=headers)
        for n, f in enumerate(files)
    ]
    with serving(url, GBCONNECT_LOG_LEVEL="WARNING") as served:
        base = served.base
        token_url = base + "/oauth/token"
        check = httpx.post(
            token_url,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic},
        )
        assert check.status_code == 200 and "access_token" in check.json(), check.text
        # Short unmeasured runs first: caches, pools and statements warm up.
        wrk(base + "/livez", warm, connections, {})
        wrk_script(token_url, warm, connections, client_script)
        wrk_script(token_url, warm, connections, refresh_scripts[0])
        bare = wrk(base + "/livez", seconds, connections, {})
        client = wrk_script(token_url, seconds, connections, client_script)
        refresh = wrk_script(token_url, seconds, connections, refresh_scripts[1])
    for name, r in (("bare /livez", bare), ("client_cred.", client), ("refresh_token", refresh)):
        print(
            f"{label:<10} {name:<14} {r['rps']:8.0f} req/s  p50 {r['p50']:6.1f} ms  "
            f"p99 {r['p99']:6.1f} ms  non-2xx {r['errors']:.0f}"
        )
    for name, r in (("client_credentials", client), ("refresh_token", refresh)):
        print(
            f"{label:<10} {name}: ratio {r['rps'] / bare['rps']:.2f} of the bare endpoint "
            f"(target >= 0.3); p99 {r['p99']:.1f} ms (target < 50)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="gbconnect-token-load-"))
    run("SQLite", f"sqlite:///{tmp / 'token.db'}", args.seconds, args.connections, tmp)
    if args.postgres:
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        server.start()
        try:
            run("PostgreSQL", server.create_database("token"), args.seconds, args.connections, tmp)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
