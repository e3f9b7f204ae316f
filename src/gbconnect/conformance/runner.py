"""Runs the selected cases in order (destructive ones last, and says so), each
timed, each ending as pass, fail with the evidence or not applicable; an unexpected
error in a case is that case's failure, never the run's end."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gbconnect.client import ApiError, OAuthError
from gbconnect.conformance.cases import Case, all_cases
from gbconnect.conformance.context import Context
from gbconnect.conformance.outcome import (
    FAIL,
    NA,
    PASS,
    CaseFailed,
    NotApplicable,
    Result,
    redact,
)


def select(only: Iterable[str] | None) -> list[Case]:
    """The cases ``--only`` names (ids or family prefixes such as ``FND``)."""
    cases = all_cases()
    wanted = [w.strip().upper() for w in only or () if w.strip()]
    if not wanted:
        return cases
    chosen = [c for c in cases if any(c.id == w or c.id.startswith(w) for w in wanted)]
    unknown = [w for w in wanted if not any(c.id.startswith(w) for c in cases)]
    if unknown:
        raise ValueError(f"no case named {', '.join(unknown)}")
    return chosen


@dataclass
class Run:
    target: str
    started: float
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(r.status == FAIL for r in self.results)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "started": self.started,
            "seconds": round(self.seconds, 2),
            "summary": {
                "pass": self.count(PASS),
                "fail": self.count(FAIL),
                "not applicable": self.count(NA),
                "total": len(self.results),
            },
            "ok": self.failed == 0,
            "notes": self.notes,
            "results": [r.to_dict() for r in self.results],
        }


def run_case(ctx: Context, case: Case) -> Result:
    ctx.begin()
    start = time.monotonic()
    destructive = case.phase != "normal"
    try:
        message = case.run(ctx)
        result = Result(case.id, case.title, PASS, message, list(ctx.log))
    except CaseFailed as exc:
        result = Result(case.id, case.title, FAIL, exc.message, exc.evidence or list(ctx.log))
    except NotApplicable as exc:
        result = Result(case.id, case.title, NA, exc.reason)
    except (OAuthError, ApiError) as exc:
        result = Result(case.id, case.title, FAIL, f"{type(exc).__name__}: {exc}", list(ctx.log))
    except Exception as exc:
        result = Result(
            case.id, case.title, FAIL, f"the tester met {type(exc).__name__}: {exc}", list(ctx.log)
        )
    result.message = redact(result.message)
    result.seconds = round(time.monotonic() - start, 3)
    result.destructive = destructive
    return result


def run(
    ctx: Context,
    cases: list[Case],
    progress: Callable[[Result], None] | None = None,
) -> Run:
    from gbconnect.conformance.cases.psh import prepare

    done = Run(ctx.base, time.time())
    start = time.monotonic()
    if any(c.phase != "normal" for c in cases):
        done.notes.append(
            "destructive cases (revocations, deletions) ran last: "
            + ", ".join(c.id for c in cases if c.phase != "normal")
        )
    try:
        if any(c.id.startswith("PSH") for c in cases):
            try:
                note = prepare(ctx)
            except (CaseFailed, NotApplicable, OSError, RuntimeError) as exc:
                reason = getattr(exc, "message", None) or getattr(exc, "reason", None) or str(exc)
                ctx.notify_error = reason
                note = f"notifications not set up: {reason}"
            if note:
                done.notes.append(note)
        for case in cases:
            result = run_case(ctx, case)
            done.results.append(result)
            if progress is not None:
                progress(result)
    finally:
        done.notes += [f"cleanup failed: {p}" for p in ctx.close()]
        done.seconds = time.monotonic() - start
    return done


__all__ = ["Run", "run", "run_case", "select"]
