"""The GBA Connect My Data test cases (STANDARD.md section 6), one module per family.
Each case is a function of the :class:`~gbconnect.conformance.context.Context` that
returns what it saw on success, raises :class:`~gbconnect.conformance.outcome.CaseFailed`
with the evidence, or :class:`~gbconnect.conformance.outcome.NotApplicable`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gbconnect.conformance.context import Context

Run = Callable[[Context], str]

#: Where a case runs: ``normal`` cases first, ``destructive`` ones (they revoke or
#: delete) after, ``final`` (the application's own DELETE) last of all.
Phase = str


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    run: Run
    phase: Phase = "normal"


REGISTRY: list[Case] = []
#: The order of the families in a run (STANDARD.md section 6).
FAMILIES = ("FND", "OAD", "RBK", "QRY", "PSH", "OFA", "MGA", "MGT", "TC0")


def case(case_id: str, title: str, *, phase: Phase = "normal") -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        REGISTRY.append(Case(case_id, title, run, phase))
        return run

    return register


def all_cases() -> list[Case]:
    """Every case, in the order the runner uses (the modules register on import)."""
    from gbconnect.conformance.cases import (  # noqa: F401 - registration
        fnd,
        mga,
        mgt,
        oad,
        ofa,
        psh,
        qry,
        rbk,
        tc,
    )

    phases = {"normal": 0, "destructive": 1, "final": 2}
    return sorted(REGISTRY, key=lambda c: (phases[c.phase], FAMILIES.index(c.id[:3]), c.id))


#: What refusing a token counts as: 401 (no or bad token), 403 (wrong class), or 404
#: (a Data Custodian that does not reveal what another party may read).
REFUSED = (401, 403, 404)


def refused(
    ctx: Context, url: str, kinds: tuple[str | None, ...], method: str = "GET", **kwargs: Any
) -> str:
    """``url`` refuses each token class of ``kinds`` (None: no token). A class the run
    has no token of is skipped and said so; every class missing: not applicable."""
    from gbconnect.conformance.outcome import NotApplicable

    tried: list[str] = []
    missing: list[str] = []
    for kind in kinds:
        label = f"{kind} token" if kind else "no token"
        try:
            token = ctx.token(kind)  # type: ignore[arg-type]
        except NotApplicable as exc:
            missing.append(f"{label} ({exc.reason})")
            continue
        r = ctx.send(method, url, token=token, label=label, **kwargs)
        if r.status_code not in REFUSED:
            raise ctx.fail(f"{method} {url} with the {label} answered {r.status_code}, not 401/403")
        tried.append(f"{label}: {r.status_code}")
    if not tried:
        raise NotApplicable("no token of these classes: " + "; ".join(missing))
    skipped = f"; not tried: {'; '.join(missing)}" if missing else ""
    return f"{method} refused with " + ", ".join(tried) + skipped


__all__ = ["REFUSED", "REGISTRY", "Case", "all_cases", "case", "refused"]
