"""PSH001-004: notifications (REQ.21 FB_39). The tester listens with its own receiver
and has the Data Custodian send there: with a registration token it sets
``thirdPartyNotifyUri`` by RFC 7592 PUT (and puts the old value back at the end),
otherwise ``--notify-url`` must already be registered and reach ``--notify-listen``.
Each BatchList's URIs are then read with the right token. PSH004: the receiver
answers 500 once on purpose; the Data Custodian must notice and deliver again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gbconnect.client import Notification
from gbconnect.conformance.cases import case
from gbconnect.conformance.context import Context, Kind
from gbconnect.conformance.documents import check
from gbconnect.conformance.notifications import Notifier, parse_listen
from gbconnect.conformance.outcome import Exchange, NotApplicable

#: RFC 7592 section 2.2: these are the server's, not sent back in a PUT.
READ_ONLY = {
    "registration_client_uri",
    "registration_access_token",
    "client_id_issued_at",
    "client_secret_expires_at",
    "client_secret",
    "dataCustodianApplicationStatus",
}


def put_registration(ctx: Context, notify_uri: str | None) -> None:
    """RFC 7592 PUT of the whole registration with ``thirdPartyNotifyUri`` changed."""
    current = ctx.registration()
    body: dict[str, Any] = {k: v for k, v in current.items() if k not in READ_ONLY}
    body["client_id"] = ctx.options.client_id
    body["client_secret"] = ctx.options.client_secret  # RFC 7592 2.2: MAY, must match
    body["thirdPartyNotifyUri"] = notify_uri
    r = ctx.send(
        "PUT", ctx.registration_uri(), token=ctx.registration_token(), label="R token", json=body
    )
    if r.status_code != 200:
        raise ctx.fail(f"the RFC 7592 PUT of thirdPartyNotifyUri answered {r.status_code}")


def prepare(ctx: Context) -> str | None:
    """Start the receiver and point the Data Custodian at it (before any case, so
    that the grant of the browser flow is notified too); a note for the report."""
    o = ctx.options
    if not o.registration_token and not o.notify_url:
        return "notifications not tested: neither --registration-token nor --notify-url given"
    host, port = parse_listen(o.notify_listen)
    notifier = Notifier(host, port)
    notifier.start()
    ctx.notifier = notifier
    if not o.registration_token:
        return f"listening on {notifier.url} for {o.notify_url} (registered beforehand)"
    ctx.begin()
    try:
        old = ctx.registration().get("thirdPartyNotifyUri") or None
        target = o.notify_url or notifier.url
        put_registration(ctx, target)
    finally:
        ctx.notify_setup = list(ctx.log)
    ctx.on_close("restoring thirdPartyNotifyUri", lambda: put_registration(ctx, old))
    return f"thirdPartyNotifyUri set to {target} for the run (was {old!r}; restored at the end)"


def kind_of(ctx: Context, uri: str) -> Kind | str:
    """The token a notified URI is read with, or the reason it is not read."""
    if "/ApplicationInformation" in uri:
        return "R"
    if "/Authorization" in uri or "/Batch/Bulk/" in uri or "/Batch/Package/" in uri:
        return "C"
    if "Subscription/" in uri:
        try:
            mine = ctx.customer_tokens().resource_uri or ""
        except NotApplicable:
            return "a subscription of no customer token here"
        sid = mine.rstrip("/").rsplit("/", 1)[-1]
        if f"Subscription/{sid}" in uri:
            return "A"
        return "a subscription of another grant (no customer token for it)"
    return "C"


def read_named(ctx: Context, notification: Notification) -> str:
    """GET every URI of a BatchList with its token; each document checked."""
    seen = []
    for uri in notification.resources:
        kind = kind_of(ctx, uri)
        if kind not in ("A", "C", "R"):
            seen.append(f"{uri}: not read, {kind}")
            continue
        data = ctx.get_document(uri, kind)  # type: ignore[arg-type]
        problems = check(ctx, uri, data)
        if problems:
            raise ctx.fail("invalid document: " + "; ".join(problems[:10]))
        seen.append(f"{uri}: read with {kind}, valid")
    return "; ".join(seen)


def notifier(ctx: Context) -> Notifier:
    if ctx.notify_error is not None:
        ctx.log[:0] = ctx.notify_setup
        raise ctx.fail(f"the notification receiver could not be set up: {ctx.notify_error}")
    if ctx.notifier is None:
        raise NotApplicable("no notification receiver: give --registration-token or --notify-url")
    return ctx.notifier


def wait_naming(ctx: Context, part: tuple[str, ...], what: str) -> Notification:
    n = notifier(ctx).wait_for(
        lambda n: any(p in u for u in n.resources for p in part), ctx.options.psh_wait
    )
    if n is None:
        got = [u for n in notifier(ctx).received for u in n.resources]
        awaited = f"awaited {ctx.options.psh_wait:g} s: none naming {what}"
        ctx.log.append(Exchange("POST", notifier(ctx).url, None, "", "", awaited))
        raise ctx.fail(
            f"no notification naming {what} in {ctx.options.psh_wait:g} s (received: {got})"
        )
    return n


@case("PSH001", "A changed ApplicationInformation is notified; its URI is read")
def psh001(ctx: Context) -> str:
    notifier(ctx)
    ctx.log[:0] = ctx.notify_setup  # the trigger: the registration's change
    ctx.registration_token()
    n = wait_naming(ctx, ("/ApplicationInformation",), "an ApplicationInformation")
    return read_named(ctx, n)


@case("PSH002", "A new Authorization is notified; its URI is read")
def psh002(ctx: Context) -> str:
    notifier(ctx)
    ctx.grant()
    n = wait_naming(ctx, ("/Authorization/",), "an Authorization")
    return read_named(ctx, n)


@case("PSH003", "Subscription data is notified; the URIs named are read")
def psh003(ctx: Context) -> str:
    notifier(ctx)
    ctx.grant()
    n = wait_naming(
        ctx,
        ("/Batch/Subscription/", "/Batch/Bulk/", "/Batch/Package/"),
        "a Batch/Subscription, Batch/Bulk or package",
    )
    return read_named(ctx, n)


@case("PSH004", "A failed POST is detected: the notification comes again")
def psh004(ctx: Context) -> str:
    receiver = notifier(ctx)
    ctx.registration_token()
    receiver.fail_next()
    before = len(receiver.received)
    url = receiver.url if not ctx.options.notify_url else ctx.options.notify_url
    put_registration(ctx, url)
    wait = ctx.options.psh_wait
    refused = receiver.wait_refused(wait)
    if refused is None:
        raise ctx.fail(f"no notification came in {wait:g} s after the registration changed")

    def again(n: Notification) -> bool:
        if refused.idempotency_key and n.idempotency_key:
            return n.idempotency_key == refused.idempotency_key
        return n.body == refused.body

    n = receiver.wait_for(again, wait, after=before)
    if n is None:
        raise ctx.fail(f"the notification answered 500 was not delivered again in {wait:g} s")
    return f"answered 500 once; delivered again ({', '.join(n.resources)})"
