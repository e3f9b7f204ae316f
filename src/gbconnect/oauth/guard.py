"""Bearer tokens on the ESPI API (RFC 6750) and the token classes of REQ.21.

:func:`authenticate` finds the caller of a request; a route then says which token
classes it admits (STANDARD.md section 1). No token: 401. A malformed, unknown,
expired or revoked token, or one whose grant was revoked: 401 ``invalid_token``. A
token of the wrong class: 403 ``insufficient_scope``. A resource of someone else:
404, so that ids cannot be probed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.requests import Request

from gbconnect.oauth import models as om
from gbconnect.oauth import services
from gbconnect.resource import now

_BEARER = re.compile(r"^Bearer +([A-Za-z0-9\-._~+/]+=*) *$")


class AccessDenied(Exception):
    """An API request refused; renders itself (RFC 6750 section 3)."""

    def __init__(self, status: int, error: str | None, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def response(self) -> JSONResponse:
        headers = {}
        if self.status == 401:
            challenge = 'Bearer realm="espi"'
            if self.error:
                challenge += f', error="{self.error}", error_description="{self.description}"'
            headers["WWW-Authenticate"] = challenge
        body = {"error": self.error or "unauthorized", "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers=headers)


NOT_FOUND = AccessDenied(404, "not_found", "no such resource")


@dataclass
class Caller:
    token: om.Token

    @property
    def token_class(self) -> str:
        return self.token.token_class

    @property
    def application_id(self) -> int | None:
        return self.token.application_id

    @property
    def authorization(self) -> om.Authorization | None:
        return self.token.authorization


def authenticate(request: Request, session: Session, allowed: set[str]) -> Caller:
    """The caller of ``request`` if its token is usable and of an ``allowed`` class."""
    header = request.headers.get("authorization")
    if not header:
        raise AccessDenied(401, None, "an access token is required")
    m = _BEARER.match(header)
    if not m:
        raise AccessDenied(401, "invalid_request", "the Authorization header is not a Bearer token")
    token = services.find_token(session, m.group(1), kind="access")
    if token is None or not services.token_is_usable(session, token, now()):
        raise AccessDenied(401, "invalid_token", "the access token is invalid, expired or revoked")
    if token.token_class not in allowed:
        raise AccessDenied(403, "insufficient_scope", "this token class may not use this resource")
    return Caller(token)
