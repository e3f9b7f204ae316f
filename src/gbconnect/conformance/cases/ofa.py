"""OFA001: an authorization created offline (paper, REQ.21 FB_40) is read with the
client token, and so is its resourceURI."""

from __future__ import annotations

from lxml import etree

from gbconnect.conformance.cases import case
from gbconnect.conformance.context import Context
from gbconnect.conformance.documents import check
from gbconnect.conformance.outcome import NotApplicable
from gbconnect.espi.atom import ESPI
from gbconnect.espi.xmlreader import hardened_parser


@case("OFA001", "An offline authorization and its resourceURI are read with C")
def ofa001(ctx: Context) -> str:
    if not ctx.options.offline_authorization:
        raise NotApplicable("no offline authorization given (--offline-authorization)")
    url = ctx.resolve(ctx.options.offline_authorization)
    data = ctx.get_document(url, "C")
    problems = check(ctx, url, data)
    if problems:
        raise ctx.fail("invalid document: " + "; ".join(problems[:10]))
    root = etree.fromstring(data, hardened_parser())
    status = root.findtext(f".//{{{ESPI}}}status")
    resource = root.findtext(f".//{{{ESPI}}}resourceURI")
    if status != "1":
        raise ctx.fail(f"the offline authorization's status is {status!r}, not 1 (active)")
    if not resource:
        raise ctx.fail("the offline authorization has no resourceURI")
    body = ctx.get_document(resource, "C")
    problems = check(ctx, resource, body)
    if problems:
        raise ctx.fail("invalid document: " + "; ".join(problems[:10]))
    return f"{url} active; {resource}: {len(body)} bytes, valid"
