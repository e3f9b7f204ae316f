"""``gbconnect sample-thirdparty`` as a child process on a free local port (tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.serverproc import free_port


@dataclass
class Sample:
    base: str
    data_dir: Path
    process: subprocess.Popen[bytes]


@contextmanager
def sample_app(
    utility: str,
    client_id: str,
    client_secret: str | None,
    data_dir: Path,
    *,
    notify_secret: str | None = None,
    port: int | None = None,
) -> Iterator[Sample]:
    """Run the sample third party against ``utility`` until the block ends; waits
    until its home page answers."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    args = [
        sys.executable,
        "-m",
        "gbconnect.cli",
        "sample-thirdparty",
        "--data-custodian",
        utility,
        "--client-id",
        client_id,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    env = {**os.environ}
    if client_secret:
        env["GBCONNECT_SAMPLE_CLIENT_SECRET"] = client_secret
    if notify_secret:
        args += ["--notify-secret", notify_secret]
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "stderr.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise RuntimeError(log.read_text()) from None
                time.sleep(0.1)
        yield Sample(base, data_dir, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` every 0.2 s until it holds; fail naming ``what`` after ``timeout``
    seconds (a deadline for a test that would otherwise hang, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
