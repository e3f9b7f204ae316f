"""``gbconnect worker``: notification delivery in its own process (REQ.21 FB_39).

On PostgreSQL run one or more (each takes different notifications: the queue is
claimed with ``FOR UPDATE SKIP LOCKED``); on SQLite ``gbconnect serve`` runs one
inside by default, and a separate one is needed only with
``GBCONNECT_NOTIFY_IN_PROCESS=false``.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from gbconnect.cli.context import engine_for, require_schema, settings_of


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=None,
    help="Deliveries in flight at once (GBCONNECT_NOTIFY_CONCURRENCY, 8 by default).",
)
@click.option("--once", is_flag=True, help="Do what is due now, then exit.")
@click.pass_context
def worker(ctx: click.Context, concurrency: int | None, once: bool) -> None:
    """Deliver notifications to third parties until stopped (SIGTERM or Ctrl-C)."""
    from gbconnect.db import make_sessionmaker
    from gbconnect.jobs.worker import Worker
    from gbconnect.logs import configure

    settings = settings_of(ctx)
    engine = engine_for(settings)
    require_schema(engine)
    configure(settings.log_level)
    w = Worker(settings, make_sessionmaker(engine), concurrency)
    if once:
        done = 0
        while True:
            n = w.run_once()
            done += n
            if not n:
                break
        click.echo(f"done: {done} item(s)")
        return
    stopped = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    w.start()
    click.echo(f"worker {w.name} delivering notifications ({w.concurrency} at once)")
    stopped.wait()
    w.stop()
