"""``gbconnect serve`` as a child process on a free local port (tests and benchmarks)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]


@contextmanager
def serving(database_url: str, **env: str) -> Iterator[Served]:
    """Run ``gbconnect serve`` on ``database_url`` until the block ends; waits for
    ``/livez``. ``env`` adds GBCONNECT_* variables (the base URL is set to the port)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    variables = {
        **os.environ,
        "GBCONNECT_DATABASE_URL": database_url,
        "GBCONNECT_SECRET_KEY": "s" * 40,
        "GBCONNECT_BASE_URL": base,
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gbconnect.cli", "serve", "--port", str(port)],
        env=variables,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/livez", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield Served(base, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
