"""Security headers on every response (OWASP Secure Headers Project).

- ``Content-Security-Policy``: the pages load only their own resources (their styles
  are inline), may not be framed (``frame-ancestors 'none'``: no clickjacked Allow
  button on the consent page) and run no script; the interactive API documentation
  (``/docs``, ``/redoc``, served from the installed package) and the developer guide
  (``/developers``, MkDocs' theme) may run their inline start-up scripts and ReDoc's
  worker, and load nothing from elsewhere;
- ``X-Frame-Options: DENY`` for browsers without CSP level 2;
- ``X-Content-Type-Options: nosniff`` (the API's JSON and XML too);
- ``Referrer-Policy: no-referrer``: a consent URL carries ``state`` and the client id;
- ``Strict-Transport-Security`` when the public base URL is https (RFC 6797).

``form-action`` is not restricted: the consent form's answer is a redirect to the
third party's registered redirect URI, which browsers check against ``form-action``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
"""The policy of every page and API answer."""

DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
"""The policy of the interactive documentation: Swagger UI and ReDoc served by the
application itself (``/static/docs``), with their inline start-up script."""

DOCS_PATHS = ("/docs", "/redoc", "/developers")


def security_headers(path: str, https: bool) -> list[tuple[bytes, bytes]]:
    """The headers added to the response to ``path``."""
    policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else PAGE_POLICY
    headers = [
        (b"content-security-policy", policy.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers


class SecurityHeadersMiddleware:
    """Adds :func:`security_headers` to every HTTP response (headers the application
    set itself are kept)."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope.get("path", ""), self.https)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


__all__ = ["DOCS_POLICY", "PAGE_POLICY", "SecurityHeadersMiddleware", "security_headers"]
