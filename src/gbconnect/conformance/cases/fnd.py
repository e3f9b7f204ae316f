"""FND001-006: the foundation (STANDARD.md section 6): configuration, and the
resources each token class reads, every document checked (schemas, function-block
data rules, links) and every link followed."""

from __future__ import annotations

from lxml import etree

from gbconnect.conformance.cases import case
from gbconnect.conformance.context import Context
from gbconnect.conformance.documents import check, crawl, links
from gbconnect.espi.atom import ATOM, ESPI
from gbconnect.espi.xmlreader import hardened_parser

E = f"{{{ESPI}}}"


def checked(ctx: Context, url: str, data: bytes) -> etree._Element:
    problems = check(ctx, url, data)
    if problems:
        raise ctx.fail("invalid document: " + "; ".join(problems[:10]))
    return etree.fromstring(data, hardened_parser())


@case("FND001", "Configuration: endpoints known, a client token obtained")
def fnd001(ctx: Context) -> str:
    r = ctx.send("GET", f"{ctx.base}/.well-known/oauth-authorization-server")
    e = ctx.endpoints
    tokens = ctx.client_tokens()
    how = "RFC 8414 discovery" if r.status_code == 200 else "ESPI's default paths"
    return (
        f"endpoints by {how}: authorize {e.authorization}, token {e.token}, "
        f"resources {e.resource_base}; client token scope {tokens.scope}"
    )


@case("FND002", "GET ApplicationInformation with R")
def fnd002(ctx: Context) -> str:
    ctx.registration_token()
    url = ctx.application_information_url()
    root = checked(ctx, url, ctx.get_document(url, "R"))
    client_id = root.findtext(f".//{E}client_id")
    if client_id != ctx.options.client_id:
        raise ctx.fail(f"the ApplicationInformation names client_id {client_id!r}")
    return f"{url}: valid, client_id matches"


@case("FND003", "GET the Authorization feed and an entry with C")
def fnd003(ctx: Context) -> str:
    url = ctx.endpoints.resource("Authorization")
    root = checked(ctx, url, ctx.get_document(url, "C"))
    entries = root.findall(f"{{{ATOM}}}entry")
    if not entries:
        raise ctx.fail("the Authorization feed is empty (a client token has one of its own)")
    first = [h for h in links(etree.tostring(entries[0])) if "/Authorization/" in h]
    if not first:
        raise ctx.fail("the first Authorization entry has no self link")
    checked(ctx, first[0], ctx.get_document(first[0], "C"))
    return f"{len(entries)} authorization(s); {first[0]} valid"


@case("FND004", "GET Batch/Subscription with A (schema, per-FB data rules, links)")
def fnd004(ctx: Context) -> str:
    tokens = ctx.customer_tokens()
    if not tokens.resource_uri:
        raise ctx.fail("the customer token response has no resourceURI")
    done = crawl(ctx, tokens.resource_uri, "A")
    if done.problems:
        raise ctx.fail(
            f"{len(done.problems)} problem(s) in {len(done.documents)} document(s): "
            + "; ".join(done.problems[:10])
        )
    more = f", {done.skipped} link(s) left at the crawl limit" if done.skipped else ""
    return f"{len(done.documents)} document(s) read by following every link, all valid{more}"


@case("FND005", "GET ReadServiceStatus with C")
def fnd005(ctx: Context) -> str:
    url = ctx.endpoints.resource("ReadServiceStatus")
    root = checked(ctx, url, ctx.get_document(url, "C"))
    status = root.findtext(f".//{E}currentStatus")
    if status != "1":
        raise ctx.fail(f"currentStatus is {status!r}, not 1 (up)")
    return "currentStatus 1"


@case("FND006", "GET the customer token's authorizationURI with C")
def fnd006(ctx: Context) -> str:
    tokens = ctx.customer_tokens()
    if not tokens.authorization_uri:
        raise ctx.fail("the customer token response has no authorizationURI")
    root = checked(ctx, tokens.authorization_uri, ctx.get_document(tokens.authorization_uri, "C"))
    resource = root.findtext(f".//{E}resourceURI")
    if resource != tokens.resource_uri:
        raise ctx.fail(f"its resourceURI {resource!r} is not the token's {tokens.resource_uri!r}")
    return f"{tokens.authorization_uri}: valid, status {root.findtext(f'.//{E}status')}"
