"""MGT001-003: managing ApplicationInformation (REQ.21 FB_44): PUT and DELETE with
the registration token; the same with C, A or no token is refused. The DELETE
withdraws the application (every token ends), so it runs last and only when asked
(``--destructive``)."""

from __future__ import annotations

from gbconnect.conformance.cases import case, refused
from gbconnect.conformance.context import Context
from gbconnect.conformance.outcome import NotApplicable

ATOM_XML = {"Content-Type": "application/atom+xml"}


@case("MGT001", "PUT ApplicationInformation with R (its own content back)")
def mgt001(ctx: Context) -> str:
    url = ctx.application_information_url()
    body = ctx.get_document(url, "R")
    r = ctx.send(
        "PUT", url, token=ctx.registration_token(), label="R token", content=body, headers=ATOM_XML
    )
    if r.status_code not in (200, 204):
        raise ctx.fail(f"PUT {url} with the R token answered {r.status_code}")
    return f"PUT {url}: {r.status_code}"


@case("MGT003", "PUT and DELETE of ApplicationInformation refuse C, A and no token")
def mgt003(ctx: Context) -> str:
    url = ctx.application_information_url()
    body = ctx.get_document(url, "R") if ctx.options.registration_token else b""
    put = refused(ctx, url, ("C", "A", None), "PUT", content=body, headers=ATOM_XML)
    delete = refused(ctx, url, ("C", "A", None), "DELETE")
    return f"{put}; {delete}"


@case("MGT002", "DELETE ApplicationInformation with R: withdrawn", phase="final")
def mgt002(ctx: Context) -> str:
    if not ctx.options.destructive:
        raise NotApplicable("destructive cases not asked (--destructive withdraws the application)")
    url = ctx.application_information_url()
    token = ctx.registration_token()
    r = ctx.send("DELETE", url, token=token, label="R token")
    if r.status_code not in (200, 204):
        raise ctx.fail(f"DELETE {url} with the R token answered {r.status_code}")
    after = ctx.send(
        "POST",
        ctx.endpoints.token,
        data={"grant_type": "client_credentials"},
        auth=(ctx.options.client_id, ctx.options.client_secret),
        label="client credentials",
    )
    if after.status_code == 200:
        raise ctx.fail("the withdrawn application still gets client tokens")
    return f"DELETE {url}: {r.status_code}; client_credentials now {after.status_code}"
