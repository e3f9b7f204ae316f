"""Choosing the language of each request.

The visitor's choice, made with the language switch on every page (``/language``)
and kept a year in the ``gbconnect_lang`` cookie, comes first; then the browser's
``Accept-Language`` (RFC 9110 section 12.5.4, quality values honoured, ``es-MX``
matching ``es``); then English. HTML answers say which language they are in
(``Content-Language``) and that they vary with both inputs (``Vary``), so a shared
cache never serves one visitor's language to another.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gbconnect.i18n import DEFAULT, LANGUAGES, set_current

COOKIE = "gbconnect_lang"
#: A year, in seconds: the choice outlives the session.
COOKIE_AGE = 365 * 24 * 3600


def from_accept_language(header: str | None) -> str | None:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` value; None when it
    names none of them (``*`` included: the default then applies)."""
    if not header:
        return None
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(header[:1024].split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            rank = (quality, -position, primary)
            if best is None or rank[:2] > best[:2]:
                best = rank
    return best[2] if best else None


def from_cookie(header: str | None) -> str | None:
    """The language remembered in the ``Cookie`` header, if it is one of ours."""
    if not header or COOKIE not in header:
        return None
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(header)
    except Exception:  # a malformed Cookie header is the visitor's, not an error
        return None
    morsel = cookie.get(COOKIE)
    return morsel.value if morsel is not None and morsel.value in LANGUAGES else None


def choose(cookie_header: str | None, accept_language: str | None) -> str:
    """The language of a request: remembered choice, then browser, then English."""
    return from_cookie(cookie_header) or from_accept_language(accept_language) or DEFAULT


class LocaleMiddleware:
    """Sets the language of each HTTP request (:func:`gbconnect.i18n.current`) and
    labels HTML answers with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k in (b"cookie", b"accept-language")
        )
        language = choose(headers.get("cookie"), headers.get("accept-language"))
        set_current(language)
        scope.setdefault("state", {})["language"] = language

        async def send_labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                if out.get("content-type", "").startswith("text/html"):
                    out.setdefault("content-language", language)
                    out.add_vary_header("Accept-Language")
                    out.add_vary_header("Cookie")
            await send(message)

        await self.app(scope, receive, send_labelled)
