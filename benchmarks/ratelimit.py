"""Rate limiter cost benchmark (issue 12, part 8). Prints figures from one run.

``wrk`` drives ``gbconnect serve`` (one uvicorn process, as in
:mod:`benchmarks.api_load`) at concurrency 32 on one day's IntervalBlock entry with a
customer access token, with the rate limits off and on (limits set so high that
nothing is refused: every request is counted, merged into the shared counters on
PostgreSQL, and answered with the RateLimit fields), in pairs run back to back
(off-on, on-off, ...), in the same run. The machine is shared and two-core, so a
single figure drifts by 20% between runs: the ratio reported is the median of the
pairs' ratios. Printed: requests/s of each run, and the ratio on/off. Target: the
limiter costs less than 10% (ratio >= 0.90).

Run: ``.venv/bin/python -m benchmarks.ratelimit [--seconds S] [--connections C]
[--pairs P] [--postgres]``
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import httpx
from tests.polling import polling_customer
from tests.serverproc import serving

from benchmarks.api_load import wrk

HIGH = "1000000000"


def measure(url: str, path: str, token: str, on: bool, seconds: int, connections: int) -> float:
    env = {
        "GBCONNECT_LOG_LEVEL": "WARNING",
        "GBCONNECT_RATE_LIMITS": "on" if on else "off",
        "GBCONNECT_RATE_VENDOR_PER_SECOND": HIGH,
        "GBCONNECT_RATE_CLIENT_PER_HOUR": HIGH,
        "GBCONNECT_RATE_CLIENT_PER_DAY": HIGH,
    }
    auth = {"Authorization": f"Bearer {token}"}
    with serving(url, **env) as served:
        check = httpx.get(served.base + path, headers=auth)
        assert check.status_code == 200
        assert ("RateLimit" in check.headers) == on
        wrk(served.base + path, 2, connections, auth)  # warm-up, unmeasured
        result = wrk(served.base + path, seconds, connections, auth)
        assert result["errors"] == 0, result
        return result["rps"]


def run(label: str, url: str, seconds: int, connections: int, pairs: int) -> None:
    token, path = polling_customer(url, 30)
    runs: list[tuple[float, float]] = []
    for n in range(pairs):
        # The order alternates too (off-on, on-off, ...): the second run of a pair
        # is not always the same one.
        if n % 2 == 0:
            off = measure(url, path, token, False, seconds, connections)
            on = measure(url, path, token, True, seconds, connections)
        else:
            on = measure(url, path, token, True, seconds, connections)
            off = measure(url, path, token, False, seconds, connections)
        runs.append((off, on))
    for name, index in (("limits off", 0), ("limits on", 1)):
        each = ", ".join(f"{r[index]:.0f}" for r in runs)
        print(f"{label:<10} IntervalBlock c={connections} {name:<10} {each} req/s")
    ratio = statistics.median(on / off for off, on in runs)
    print(
        f"{label:<10} ratio on/off {ratio:.3f} (median of {pairs} pairs; limiter cost "
        f"{100 * (1 - ratio):.1f}%, target < 10%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="gbconnect-ratelimit-"))
    run("SQLite", f"sqlite:///{tmp / 'load.db'}", args.seconds, args.connections, args.pairs)
    if args.postgres:
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        server.start()
        try:
            pg = server.create_database("load")
            run("PostgreSQL", pg, args.seconds, args.connections, args.pairs)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
