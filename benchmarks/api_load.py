"""API load benchmark (issue: ESPI resource server). Prints figures from one run.

``wrk`` (Debian's package: ``apt-get install wrk``), a separate load-generating
process, drives ``gbconnect serve`` (one uvicorn process) at concurrency 32 with each
resource a third party reads, one at a time: one day's IntervalBlock entry, the
UsagePoint, MeterReading, ReadingType and UsageSummary entries and a customer.xsd
record (CustomerAccount) with a customer access token, the Authorization with a client
token, and one day of the IntervalBlock feed; the bare ``/livez`` endpoint of the same
application is the baseline. Printed per route: requests/s, p50 and p99 latency, and
the ratio to the bare endpoint against its target (:data:`TARGETS`; p99 under 50 ms).

Run: ``.venv/bin/python -m benchmarks.api_load [--seconds S] [--connections C] [--postgres]
[--route NAME ...]``
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from tests.polling import polled_customer
from tests.serverproc import serving

START = 1704096000  # 2024-01-01T08:00:00Z


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if m is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def wrk(
    url: str,
    seconds: int,
    connections: int,
    headers: dict[str, str],
    script: Path | None = None,
) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script is not None:
        cmd += ["-s", str(script)]  # a Lua script: POST bodies (benchmarks.token_load)
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    if "Requests/sec" not in out:
        raise RuntimeError(out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": p50, "p99": p99, "errors": float(non2xx.group(1)) if non2xx else 0.0}


#: The target of each route: its requests/s as a share of /livez's (issue: performance).
TARGETS = {
    "IntervalBlock": 0.5,
    "UsagePoint": 0.5,
    "MeterReading": 0.5,
    "ReadingType": 0.5,
    "UsageSummary": 0.5,
    "CustomerAccount": 0.5,
    "Authorization": 0.5,
    "IB feed, 1 day": 0.4,
}
#: p99 target of every route, in ms.
P99 = 50.0


def run(label: str, url: str, seconds: int, connections: int, routes: set[str] | None) -> None:
    polled = polled_customer(url, 30)
    with serving(url, GBCONNECT_LOG_LEVEL="WARNING") as served:
        base = served.base
        customer = {"Authorization": f"Bearer {polled.token}"}
        client = {"Authorization": f"Bearer {polled.client_token}"}
        check = httpx.get(base + polled.block, headers=customer)
        assert check.status_code == 200 and check.content.count(b"<IntervalReading>") == 96
        measured = [
            ("IntervalBlock", polled.block, customer),
            *((name, path, customer) for name, path in polled.paths.items()),
            *((name, path, client) for name, path in polled.client_paths.items()),
        ]
        measured = [m for m in measured if routes is None or m[0] in routes]
        for _, path, headers in measured:
            assert httpx.get(base + path, headers=headers).status_code == 200, path
        # A short unmeasured run first: caches, pools and statements warm up, so the
        # figures describe the steady state.
        wrk(base + "/livez", 2, connections, {})
        bare = wrk(base + "/livez", seconds, connections, {})
        results = {}
        for name, path, headers in measured:
            wrk(base + path, 2, connections, headers)
            results[name] = wrk(base + path, seconds, connections, headers)
        metrics = httpx.get(base + "/metrics/", follow_redirects=True).text
    print(
        f"{label:<10} {'bare /livez':<16} {bare['rps']:8.0f} req/s  p50 {bare['p50']:6.1f} ms  "
        f"p99 {bare['p99']:6.1f} ms"
    )
    for name, r in results.items():
        ratio = r["rps"] / bare["rps"]
        ok = ratio >= TARGETS[name] and r["p99"] < P99 and not r["errors"]
        print(
            f"{label:<10} {name:<16} {r['rps']:8.0f} req/s  p50 {r['p50']:6.1f} ms  "
            f"p99 {r['p99']:6.1f} ms  ratio {ratio:4.2f} (target >= {TARGETS[name]}, "
            f"p99 < {P99:.0f})  non-2xx {r['errors']:.0f}  {'ok' if ok else 'MISSED'}"
        )
    count = re.search(r"^gbconnect_hot_reads_per_statement_count (\S+)", metrics, re.M)
    total = re.search(r"^gbconnect_hot_reads_per_statement_sum (\S+)", metrics, re.M)
    if count and total and float(count.group(1)):
        print(
            f"{label:<10} {float(total.group(1)) / float(count.group(1)):.1f} reads per "
            "PostgreSQL statement on average (reads of one event-loop turn go together)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument(
        "--route", action="append", choices=sorted(TARGETS), help="only these routes"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    routes = set(args.route) if args.route else None
    tmp = Path(tempfile.mkdtemp(prefix="gbconnect-load-"))
    run("SQLite", f"sqlite:///{tmp / 'load.db'}", args.seconds, args.connections, routes)
    if args.postgres:
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        server.start()
        try:
            run(
                "PostgreSQL",
                server.create_database("load"),
                args.seconds,
                args.connections,
                routes,
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
