"""API load benchmark (issue: ESPI resource server). Prints figures from one run.

``wrk`` (Debian's package: ``apt-get install wrk``), a separate load-generating
process, drives ``gbconnect serve`` (one uvicorn process) at concurrency 32 with two
requests: one day's IntervalBlock GET with a customer access token, and the bare
``/livez`` endpoint of the same application as the baseline. Printed: requests/s,
p50 and p99 latency, and the ratio. Targets: at least 0.5 of the bare endpoint's
requests/s, p99 under 50 ms.

Run: ``.venv/bin/python -m benchmarks.api_load [--seconds S] [--connections C] [--postgres]
[--others]``
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
from tests.polling import polling_customer
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


#: Other routes third parties call, measured with --others (no target; they check in
#: a worker thread and stream from another, unlike the IntervalBlock entry).
OTHERS = {
    "IB feed, 1 day": lambda p: (
        p.rsplit("/", 1)[0]
        + "?published-min=2024-01-10T08:00:00Z&published-max=2024-01-11T08:00:00Z"
    ),
    "UsagePoint": lambda p: p.split("/MeterReading")[0],
}


def run(label: str, url: str, seconds: int, connections: int, others: bool = False) -> None:
    token, path = polling_customer(url, 30)
    with serving(url, GBCONNECT_LOG_LEVEL="WARNING") as served:
        base = served.base
        auth = {"Authorization": f"Bearer {token}"}
        check = httpx.get(base + path, headers=auth)
        assert check.status_code == 200 and check.content.count(b"<IntervalReading>") == 96
        # A short unmeasured run first: caches, pools and statements warm up, so the
        # figures describe the steady state.
        wrk(base + "/livez", 2, connections, {})
        wrk(base + path, 2, connections, auth)
        bare = wrk(base + "/livez", seconds, connections, {})
        block = wrk(base + path, seconds, connections, auth)
        metrics = httpx.get(base + "/metrics/", follow_redirects=True).text
        extra = {}
        for name, make in OTHERS.items() if others else ():
            wrk(base + make(path), 2, connections, auth)
            extra[name] = wrk(base + make(path), seconds, connections, auth)
    for name, r in (("bare /livez", bare), ("IntervalBlock", block), *extra.items()):
        print(
            f"{label:<10} {name:<15} {r['rps']:8.0f} req/s  p50 {r['p50']:6.1f} ms  "
            f"p99 {r['p99']:6.1f} ms  non-2xx {r['errors']:.0f}"
        )
    print(
        f"{label:<10} ratio {block['rps'] / bare['rps']:.2f} of the bare endpoint (target >= 0.5); "
        f"p99 {block['p99']:.1f} ms (target < 50)"
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
        "--others", action="store_true", help="also a one-day IntervalBlock feed and a UsagePoint"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="gbconnect-load-"))
    run("SQLite", f"sqlite:///{tmp / 'load.db'}", args.seconds, args.connections, args.others)
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
                args.others,
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
