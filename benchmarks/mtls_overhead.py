"""What mutual TLS costs on the hot path (issue 12 item 7; docs/mtls.md).

``wrk`` drives one day's IntervalBlock GET with a customer access token at
concurrency 32 against ``gbconnect serve`` twice on the same database: first with
GBCONNECT_MTLS=off (the baseline, measured in the same run), then with
GBCONNECT_MTLS=required and the client certificate passed by a trusted proxy's
header (URL-encoded PEM, as nginx's ``$ssl_client_escaped_cert``): the request then
also decodes the PEM, hashes it, and joins the registered certificate in the token's
lookup row. Printed: requests/s, p50 and p99 of each, and the ratio.

Run: ``.venv/bin/python -m benchmarks.mtls_overhead [--seconds S] [--connections C]
[--rounds N]`` (the best of N alternating rounds of each).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import select
from tests.factories.certificates import make_cert
from tests.polling import polling_customer
from tests.serverproc import serving

from benchmarks.api_load import wrk
from gbconnect.audit import Actor
from gbconnect.db import make_engine, make_sessionmaker
from gbconnect.oauth import models as om
from gbconnect.oauth.secrets import digest
from gbconnect.registration import certificates as certs
from gbconnect.registration import models as rm


def _register(url: str, token: str) -> bytes:
    """A client certificate registered to the token's application."""
    pem = make_cert("bench.example")
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            app_id = s.scalars(
                select(om.Token.application_id).where(om.Token.token_hash == digest(token))
            ).one()
            app = s.get(rm.ApplicationInformation, app_id)
            assert app is not None
            certs.add_certificate(s, app, pem, Actor("operator", "benchmark"))
            s.commit()
    finally:
        engine.dispose()
    return pem


def measure(
    url: str, path: str, headers: dict[str, str], seconds: int, c: int, **env: str
) -> dict[str, float]:
    with serving(url, GBCONNECT_LOG_LEVEL="WARNING", **env) as served:
        check = httpx.get(served.base + path, headers=headers)
        assert check.status_code == 200, check.text
        wrk(served.base + path, 2, c, headers)  # warm up
        return wrk(served.base + path, seconds, c, headers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='gbconnect-mtls-')) / 'load.db'}"
    token, path = polling_customer(url, 30)
    pem = _register(url, token)
    auth = {"Authorization": f"Bearer {token}"}
    proxied = {**auth, "X-Client-Cert": quote(pem.decode(), safe="")}
    mtls = {
        "GBCONNECT_MTLS": "required",
        "GBCONNECT_MTLS_CERT_HEADER": "X-Client-Cert",
        "GBCONNECT_TRUSTED_PROXIES": "127.0.0.1",
    }
    # Rounds alternate, so that a busy moment of a shared machine falls on both.
    runs: dict[str, list[dict[str, float]]] = {"mTLS off (baseline)": [], "mTLS required": []}
    for _ in range(args.rounds):
        runs["mTLS off (baseline)"].append(measure(url, path, auth, args.seconds, args.connections))
        runs["mTLS required"].append(
            measure(url, path, proxied, args.seconds, args.connections, **mtls)
        )
    best = {name: max(rs, key=lambda r: r["rps"]) for name, rs in runs.items()}
    for name, r in best.items():
        print(
            f"{name:<20} {r['rps']:8.0f} req/s  p50 {r['p50']:6.1f} ms  "
            f"p99 {r['p99']:6.1f} ms  non-2xx {r['errors']:.0f}  (best of {args.rounds})"
        )
    ratio = best["mTLS required"]["rps"] / best["mTLS off (baseline)"]["rps"]
    print(f"ratio {ratio:.2f} of the baseline's requests/s")


if __name__ == "__main__":
    main()
