"""The run's report for the terminal, as JSON and as one self-contained HTML page
(Jinja2, English-only, inline style, no script, nothing fetched from elsewhere): one
row per case, pass, fail with the evidence, or not applicable with the reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from gbconnect.conformance.outcome import FAIL, NA, PASS, Result
from gbconnect.conformance.runner import Run

MARK = {PASS: "PASS", FAIL: "FAIL", NA: "N/A "}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def line(result: Result) -> str:
    """One case, one line (the progress and the terminal report)."""
    return f"{MARK[result.status]} {result.case:<7} {result.title}: {result.message}"


def terminal(run: Run, *, evidence: bool = True) -> str:
    out = [f"Conformance of {run.target} ({run.seconds:.1f} s)"]
    out += [f"note: {n}" for n in run.notes]
    for r in run.results:
        out.append(line(r))
        if evidence and r.status == FAIL:
            for e in r.evidence[-6:]:
                out.append(f"        {e.line()}")
                if e.body:
                    out.append("          " + e.body[:300].replace("\n", " "))
    out.append(
        f"{run.count(PASS)} passed, {run.count(FAIL)} failed, "
        f"{run.count(NA)} not applicable, of {len(run.results)}"
    )
    return "\n".join(out)


def to_json(run: Run) -> str:
    return json.dumps(run.to_dict(), indent=2)


def to_html(run: Run) -> str:
    started = datetime.fromtimestamp(run.started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return _env.get_template("report.html").render(
        run=run, started=started, PASS=PASS, FAIL=FAIL, NA=NA
    )


__all__ = ["line", "terminal", "to_html", "to_json"]
