"""MGA001-003: managing an Authorization (REQ.21 FB_41): PUT and DELETE with the
client token; the same with R, A or no token is refused. DELETE revokes the
customer's grant, so it runs after every other case."""

from __future__ import annotations

from gbconnect.conformance.cases import case, refused
from gbconnect.conformance.context import Context
from gbconnect.conformance.outcome import NotApplicable

ATOM_XML = {"Content-Type": "application/atom+xml"}


def target(ctx: Context) -> str:
    """The customer's grant if there is one, else the client token's own."""
    try:
        uri = ctx.customer_tokens().authorization_uri
    except NotApplicable:
        uri = ctx.client_tokens().authorization_uri
    if not uri:
        raise ctx.fail("no authorizationURI in the token response")
    return uri


@case("MGA001", "PUT an Authorization with C (its own content back)")
def mga001(ctx: Context) -> str:
    url = target(ctx)
    body = ctx.get_document(url, "C")
    r = ctx.send("PUT", url, token=ctx.token("C"), label="C token", content=body, headers=ATOM_XML)
    if r.status_code not in (200, 204):
        raise ctx.fail(f"PUT {url} with the C token answered {r.status_code}")
    return f"PUT {url}: {r.status_code}"


@case("MGA003", "PUT and DELETE of an Authorization refuse R, A and no token")
def mga003(ctx: Context) -> str:
    url = target(ctx)
    body = ctx.get_document(url, "C")
    put = refused(ctx, url, ("R", "A", None), "PUT", content=body, headers=ATOM_XML)
    delete = refused(ctx, url, ("R", "A", None), "DELETE")
    return f"{put}; {delete}"


@case("MGA002", "DELETE an Authorization with C: it is revoked", phase="destructive")
def mga002(ctx: Context) -> str:
    grant = ctx.new_grant()
    url = grant.tokens.authorization_uri
    if not url:
        raise ctx.fail("the customer token has no authorizationURI")
    r = ctx.send("DELETE", url, token=ctx.token("C"), label="C token")
    if r.status_code not in (200, 204):
        raise ctx.fail(f"DELETE {url} with the C token answered {r.status_code}")
    after = ctx.send(
        "GET",
        str(grant.tokens.resource_uri),
        token=grant.tokens.access_token,
        label="A token (revoked)",
    )
    if after.status_code not in (401, 403, 404, 410):
        raise ctx.fail(f"the revoked grant's token still reads its resource ({after.status_code})")
    return f"DELETE {url}: {r.status_code}; its customer token now answers {after.status_code}"
