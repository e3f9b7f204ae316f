"""The sample third party's pages (Starlette + Jinja2, English only).

======================  ===============================================================
``GET /``               what the app is, "Connect your utility"
``GET /connect``        the authorization request (RFC 6749 section 4.1.1) with PKCE
                        S256 (RFC 7636) and ``state``, kept in the signed session cookie
``GET /start``          where the utility's portal sends a customer who chose this app
                        (``thirdPartyUserPortalScreenURI?scope=...&ThirdPartyID=...``,
                        STANDARD.md section 7): the same request with that scope
``GET /callback``       the redirect back: ``state`` checked, the code exchanged
                        (RFC 6749 section 4.1.3), the tokens stored; ``access_denied``
                        is a friendly page, a forged or missing state a 400
``GET /usage``          the customer's ``Batch/Subscription`` (REQ.21 FND005) parsed by
                        the SDK, a daily chart and the insights; a 202 says the data
                        comes by notification
``POST /notify``        the SDK's NotificationReceiver (REQ.21 FB_39; 401 on a bad
                        signature); what a BatchList names is fetched in the background
``GET /notifications``  the notifications received and what came of them
``POST /disconnect``    the tokens revoked at the utility (RFC 7009) and forgotten
======================  ===============================================================

A customer of the sample app is a session cookie (itsdangerous-signed, through
Starlette's SessionMiddleware): the app has no accounts of its own.
"""

from __future__ import annotations

import logging
import queue
import re
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from gbconnect.client import (
    LocalTime,
    Notification,
    NotificationReceiver,
    OAuthError,
    TokenSet,
)
from gbconnect.sample_thirdparty import insights as ins
from gbconnect.sample_thirdparty.chart import daily_svg
from gbconnect.sample_thirdparty.config import SampleConfig
from gbconnect.sample_thirdparty.custodian import Custodian, UtilityError, subscription_key
from gbconnect.sample_thirdparty.store import Store, StoredUsagePoint

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
#: A scope from the utility's portal: REQ.21's grammar is printable ASCII without spaces.
_SCOPE = re.compile(r"^[\x21-\x7e]{1,2000}$")
#: The insights and the chart cover the last so many days of a usage point's data.
WINDOW_DAYS = 90
#: service kinds (REQ.21 ServiceKind): 0 electricity, 1 gas, 2 water.
SERVICE_NAMES = {0: "Electricity", 1: "Gas", 2: "Water"}


@dataclass
class State:
    """What the handlers share."""

    config: SampleConfig
    store: Store
    custodian: Custodian
    templates: Jinja2Templates
    jobs: queue.Queue[tuple[int, Notification] | None]


def _state(request: Request) -> State:
    state: State = request.app.state.sample
    return state


def _connected(request: Request) -> bool:
    sid = _session_id(request, create=False)
    return sid is not None and _state(request).store.tokens(sid) is not None


def _page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    st = _state(request)
    context.setdefault("connected", _connected(request))
    return st.templates.TemplateResponse(request, name, context, status_code=status)


def _message(request: Request, title: str, text: str, status: int) -> Response:
    return _page(request, "message.html", status, title=title, text=text)


def _session_id(request: Request, *, create: bool = True) -> str | None:
    sid = request.session.get("sid")
    if isinstance(sid, str) and sid:
        return sid
    if not create:
        return None
    sid = secrets.token_urlsafe(24)
    request.session["sid"] = sid
    return sid


# pages ------------------------------------------------------------------------
def home(request: Request) -> Response:
    return _page(request, "home.html", data_custodian=_state(request).config.data_custodian)


def _authorize(request: Request, scope: str | None) -> Response:
    st = _state(request)
    _session_id(request)
    try:
        oauth = st.custodian.oauth()
        asked = scope or st.custodian.scope()
    except UtilityError as exc:
        return _message(request, "The utility cannot be reached", str(exc), 502)
    auth = oauth.authorization_url(asked)
    request.session["oauth"] = {"state": auth.state, "verifier": auth.code_verifier}
    return RedirectResponse(auth.url, status_code=303)


def connect(request: Request) -> Response:
    return _authorize(request, None)


def start(request: Request) -> Response:
    """thirdPartyUserPortalScreenURI (STANDARD.md section 7)."""
    st = _state(request)
    scope = request.query_params.get("scope")
    party = request.query_params.get("ThirdPartyID")
    if party is not None and party != st.config.client_id:
        return _message(
            request,
            "This link is for another application",
            "The utility sent you here for a different application (ThirdPartyID). "
            "Go back to the utility and choose again.",
            400,
        )
    if scope is not None and not _SCOPE.match(scope):
        return _message(
            request,
            "The link from the utility is not valid",
            "The scope it names is empty, too long or holds spaces or control characters.",
            400,
        )
    return _authorize(request, scope)


def callback(request: Request) -> Response:
    st = _state(request)
    q = request.query_params
    pending = request.session.pop("oauth", None)
    state = q.get("state")
    if (
        not isinstance(pending, dict)
        or not state
        or not secrets.compare_digest(str(pending.get("state", "")), state)
    ):
        return _message(
            request,
            "This sign-in could not be verified",
            "The answer from the utility does not match a connection started here "
            "(missing or wrong state). Nothing was saved. Start again from the home page.",
            400,
        )
    error = q.get("error")
    if error == "access_denied":
        return _page(request, "declined.html")
    if error:
        return _message(
            request,
            "The utility did not connect us",
            f"It answered with the error code {error[:64]!r}. Nothing was saved.",
            400,
        )
    code = q.get("code")
    if not code:
        return _message(
            request, "The utility's answer is incomplete", "It holds no authorization code.", 400
        )
    try:
        tokens = st.custodian.oauth().exchange_code(code, str(pending.get("verifier", "")))
    except OAuthError as exc:
        status = 502 if exc.error in ("network_error", "invalid_response") else 400
        return _message(
            request,
            "The utility refused the connection",
            f"Trading the code for a token failed: {exc.error}.",
            status,
        )
    except UtilityError as exc:
        return _message(request, "The utility cannot be reached", str(exc), 502)
    # A new session id for the connected customer (no fixation of one set before);
    # what this browser held under the old one is forgotten here.
    old = _session_id(request, create=False)
    if old is not None:
        st.store.forget(old)
    sid = secrets.token_urlsafe(24)
    request.session["sid"] = sid
    key = subscription_key(tokens.resource_uri) if tokens.resource_uri else None
    st.store.save_tokens(sid, tokens.to_dict(), key)
    return RedirectResponse("/usage", status_code=303)


def usage(request: Request) -> Response:
    st = _state(request)
    sid = _session_id(request, create=False)
    if sid is None or st.store.tokens(sid) is None:
        return _page(request, "home.html", data_custodian=st.config.data_custodian, not_yet=True)
    key = st.store.subscription_of(sid) or ""
    notice: str | None = None
    refresh = bool(request.query_params.get("refresh"))
    if refresh or (st.store.reading_count(key) == 0 and not st.store.is_pending(sid)):
        try:
            st.custodian.pull_subscription(sid)
        except UtilityError as exc:
            notice = str(exc)
    points = [_point_view(st, key, p) for p in st.store.usage_points(key)]
    last = st.store.notifications(1)
    return _page(
        request,
        "usage.html",
        points=[p for p in points if p is not None],
        pending=st.store.is_pending(sid),
        notice=notice,
        last=last[0] if last else None,
        when=_when,
        window=WINDOW_DAYS,
    )


@dataclass(frozen=True)
class PointView:
    title: str
    kind: str
    insights: ins.Insights
    chart: str | None
    gas_chart: str | None
    zone: str


def _point_view(st: State, key: str, point: StoredUsagePoint) -> PointView | None:
    readings = st.store.readings(key, point.href, last_days=WINDOW_DAYS)
    if not readings:
        return None
    local = None if point.local_time is None else LocalTime(**point.local_time)
    offset: ins.Offset = ins.utc if local is None else local.utcoffset
    found = ins.insights(readings, offset)
    name = SERVICE_NAMES.get(point.service_kind if point.service_kind is not None else -1, "Usage")
    title = point.title or name
    chart = (
        daily_svg(found.electric_days, f"{title}: energy per day (kWh)")
        if found.electric_days
        else None
    )
    gas = (
        daily_svg(found.gas_days, f"{title}: gas per day ({found.gas_days[0].unit})")
        if found.gas_days
        else None
    )
    zone = "UTC" if local is None else _zone(local)
    return PointView(title, name, found, chart, gas, zone)


def _zone(local: LocalTime) -> str:
    hours = local.tz_offset / 3600 if isinstance(local.tz_offset, int) else 0
    return f"UTC{hours:+g} standard time" + (", with daylight saving" if local.dst_offset else "")


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def notifications(request: Request) -> Response:
    st = _state(request)
    return _page(request, "notifications.html", items=st.store.notifications(50), when=_when)


def disconnect(request: Request) -> Response:
    st = _state(request)
    sid = _session_id(request, create=False)
    stored = None if sid is None else st.store.tokens(sid)
    if sid is None or stored is None:
        return RedirectResponse("/", status_code=303)
    try:
        revoked = st.custodian.revoke(TokenSet.from_dict(stored))
    except UtilityError:
        revoked = False
    st.store.forget(sid)
    request.session.clear()
    return _page(request, "disconnected.html", revoked=revoked, connected=False)


# notifications ----------------------------------------------------------------
def _worker(st: State) -> None:
    """Fetch what each notification names, one after the other, off the event loop."""
    while True:
        job = st.jobs.get()
        if job is None:
            return
        log_id, notification = job
        try:
            outcome, stored = st.custodian.fetch_notified(notification)
        except Exception as exc:  # the worker must live on; the log says what failed
            log.exception("notification %s", log_id)
            outcome, stored = f"failed: {exc.__class__.__name__}", 0
        st.store.finish_notification(log_id, outcome, stored)


def make_app(config: SampleConfig) -> Starlette:
    """The sample third party as an ASGI application."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(config.data_dir / "sample-thirdparty.sqlite3")
    key = store.get_setting("session_key")
    if key is None:
        key = secrets.token_urlsafe(32)
        store.set_setting("session_key", key)
    st = State(
        config, store, Custodian(config, store), Jinja2Templates(str(TEMPLATES)), queue.Queue()
    )

    async def received(notification: Notification) -> None:
        log_id = store.log_notification(notification.resources, "received; fetching")
        st.jobs.put((log_id, notification))

    receiver = NotificationReceiver(received, secret=config.notify_secret)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        worker = threading.Thread(target=_worker, args=(st,), name="sample-notify", daemon=True)
        worker.start()
        try:
            yield
        finally:
            st.jobs.put(None)
            worker.join(timeout=10)
            st.custodian.close()

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/connect", connect),
            Route("/start", start),
            Route("/callback", callback),
            Route("/usage", usage),
            Route("/notifications", notifications),
            Route("/disconnect", disconnect, methods=["POST"]),
            Route("/notify", receiver),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=key,
                session_cookie="sample_session",
                same_site="lax",
                https_only=config.secure_cookies,
            )
        ],
        lifespan=lifespan,
    )
    app.state.sample = st
    return app


__all__ = ["make_app"]
