"""Request body limits (RFC 9110 section 15.5.14, 413 Content Too Large).

Every request body is counted as it arrives, so a limit holds both when
``Content-Length`` announces a large body (refused before a byte is read) and when a
chunked body grows past it (refused at the chunk that crosses it):

- the upload (``POST {resource base}/Batch/RetailCustomer/{id}/UsagePoint``) may
  carry ``GBCONNECT_MAX_BODY_BYTES``;
- a form (``application/x-www-form-urlencoded``) at most
  :data:`~gbconnect.oauth.starlette.MAX_FORM_BYTES`;
- any other body (JSON registration, ApplicationInformation XML) at most
  :data:`SMALL_BODY_BYTES`.

The refusal is :class:`BodyTooLarge`, rendered like every error
(:mod:`gbconnect.web.errors`): JSON for the API and ``/oauth``, a page for a browser.
"""

from __future__ import annotations

import re

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gbconnect.config import Settings
from gbconnect.errors import InputError
from gbconnect.oauth.starlette import MAX_FORM_BYTES
from gbconnect.web.errors import error_response

SMALL_BODY_BYTES = 1024 * 1024
"""The limit of a body that is neither the upload nor a form."""


class BodyTooLarge(InputError):
    """A request body beyond its limit (413, RFC 9110 section 15.5.14)."""

    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {_size(limit)}")


def _size(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n} bytes"


class BodyLimitMiddleware:
    """Counts each request's body against the limit of its endpoint (module docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings, templates: Jinja2Templates) -> None:
        self.app = app
        self.settings = settings
        self.templates = templates
        base = re.escape(settings.resource_base.rstrip("/"))
        self._upload = re.compile(base + r"/Batch/RetailCustomer/[^/]+/UsagePoint/?")

    def limit(self, scope: Scope) -> int:
        """The body limit of the request ``scope``."""
        if scope.get("method") == "POST" and self._upload.fullmatch(scope.get("path", "")):
            return self.settings.max_body_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-type":
                kind = value.split(b";")[0].strip().lower()
                if kind == b"application/x-www-form-urlencoded":
                    return MAX_FORM_BYTES
        return SMALL_BODY_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            request = Request(scope)
            response = error_response(request, BodyTooLarge(limit), self.settings, self.templates)
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


__all__ = ["SMALL_BODY_BYTES", "BodyLimitMiddleware", "BodyTooLarge"]
