"""RBK001-004: Batch/Bulk (REQ.21 FB_35): the third party's client token reads the
bulk URL its token response named (200, or 202 then the package); a customer token,
a registration token or none must be refused."""

from __future__ import annotations

from gbconnect.conformance.cases import case, refused
from gbconnect.conformance.context import Context
from gbconnect.conformance.documents import check


def bulk_url(ctx: Context) -> str:
    uri = ctx.client_tokens().resource_uri
    if not uri or "/Batch/Bulk/" not in uri:
        raise ctx.fail(f"the client token's resourceURI {uri!r} is not a Batch/Bulk URL")
    return uri


@case("RBK001", "GET Batch/Bulk with C (after a notification when one came)")
def rbk001(ctx: Context) -> str:
    url = bulk_url(ctx)
    notified = ""
    if ctx.notifier is not None:
        hit = next(
            (n for n in ctx.notifier.received if any("/Batch/Bulk/" in u for u in n.resources)),
            None,
        )
        if hit is not None:
            url = next(u for u in hit.resources if "/Batch/Bulk/" in u)
            notified = " (named by a notification)"
    data = ctx.get_document(url, "C")
    problems = check(ctx, url, data)
    if problems:
        raise ctx.fail("invalid document: " + "; ".join(problems[:10]))
    return f"{url}{notified}: {len(data)} bytes, valid"


@case("RBK002", "Batch/Bulk refuses A")
def rbk002(ctx: Context) -> str:
    return refused(ctx, bulk_url(ctx), ("A",))


@case("RBK003", "Batch/Bulk refuses R")
def rbk003(ctx: Context) -> str:
    return refused(ctx, bulk_url(ctx), ("R",))


@case("RBK004", "Batch/Bulk refuses no token")
def rbk004(ctx: Context) -> str:
    return refused(ctx, bulk_url(ctx), (None,))
