"""Start-up benchmark (issue: performance). Prints figures from one run.

- ``gbconnect --version`` and ``gbconnect --help``: wall time (best of 7) and peak
  memory of the process, against the bare interpreter (``python -c pass``) measured
  in the same run. Target: under 0.15 s.
- ``gbconnect serve`` on a fresh SQLite database (and PostgreSQL with
  ``--postgres``): the resident memory of the served process after start-up, and
  after it has answered a first round of requests (``/livez``, an IntervalBlock entry,
  a UsagePoint entry, the one-day IntervalBlock feed, a token request). Target: under
  120 MiB after start-up.

Run: ``.venv/bin/python -m benchmarks.startup [--postgres]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tests.polling import polled_customer
from tests.serverproc import serving

CLI = [sys.executable, "-m", "gbconnect.cli"]


#: Runs a command from a small process and prints its peak memory (KiB): a child
#: forked from this benchmark's own process would count the parent's pages it
#: carried until exec.
_LAUNCH = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    fd = os.open(os.devnull, os.O_WRONLY)\n"
    "    os.dup2(fd, 1)\n"
    "    os.dup2(fd, 2)\n"
    "    os.execv(sys.argv[1], sys.argv[1:])\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "print(usage.ru_maxrss)\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def timed(cmd: list[str], runs: int = 7) -> tuple[float, float]:
    """(best wall time in s, peak resident memory in MiB) of ``cmd``."""
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - t)
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCH, *cmd], capture_output=True, text=True, check=True
    )
    return best, int(launched.stdout.strip()) / 1024


def rss(pid: int) -> float:
    """VmRSS of ``pid`` in MiB."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def served(label: str, url: str) -> None:
    polled = polled_customer(url, 30)
    with serving(url, GBCONNECT_LOG_LEVEL="WARNING") as server:
        time.sleep(1.0)
        started = rss(server.process.pid)
        customer = {"Authorization": f"Bearer {polled.token}"}
        paths = [polled.block, polled.paths["UsagePoint"], polled.paths["IB feed, 1 day"]]
        with httpx.Client(base_url=server.base) as http:
            http.get("/livez")
            for path in paths:
                assert http.get(path, headers=customer).status_code == 200, path
            http.get("/oauth/token")  # the token endpoint's modules
        time.sleep(0.5)
        answered = rss(server.process.pid)
    print(
        f"{label:<10} gbconnect serve: {started:6.1f} MiB after start-up (target < 120), "
        f"{answered:6.1f} MiB after a first round of requests"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()
    bare, bare_mem = timed([sys.executable, "-c", "pass"])
    print(f"baseline   python -c pass     {bare:6.3f} s  {bare_mem:6.1f} MiB")
    for flag in ("--version", "--help"):
        secs, mem = timed([*CLI, flag])
        print(
            f"gbconnect {flag:<16} {secs:6.3f} s  {mem:6.1f} MiB  "
            f"({secs / bare:4.1f}x the bare interpreter; target < 0.15 s)"
        )
    tmp = Path(tempfile.mkdtemp(prefix="gbconnect-startup-"))
    served("SQLite", f"sqlite:///{tmp / 'startup.db'}")
    if args.postgres:
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        server.start()
        try:
            served("PostgreSQL", server.create_database("startup"))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
