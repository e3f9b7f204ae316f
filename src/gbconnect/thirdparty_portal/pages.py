"""What every page of the third-party portal shares: its own templates (English only:
the portal is for companies, not customers), its session keys, the signed-in user and
the actor the audit log records.

The portal's session lives in the same signed cookie as the customer portal's
(Starlette's ``SessionMiddleware``) under its own keys, so that a company user is
never taken for a customer; signing in starts a fresh session (a new CSRF token
against fixation). A password change or a second factor turned off moves the user's
``session_epoch`` on: older sessions end.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from gbconnect.audit import Actor
from gbconnect.audit.record import THIRD_PARTY
from gbconnect.config import Settings
from gbconnect.portal.pages import http_link
from gbconnect.thirdparty_portal.models import Company, CompanyUser
from gbconnect.web.security import SESSION_CSRF, client_address, csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["http_link"] = http_link

SESSION_USER = "tp_user"
SESSION_EPOCH = "tp_epoch"
#: Where the portal's pages live.
PREFIX = "/thirdparty"
#: A form whose CSRF token does not match (403).
EXPIRED = "This form has expired. Go back, reload the page and try again."


def page(
    request: Request, settings: Settings, name: str, status: int = 200, **context: Any
) -> Response:
    """Template ``name`` with the portal's context; never cached (credentials are
    shown on some pages)."""
    context.setdefault("error", None)
    context.setdefault("notice", None)
    context.setdefault("user", None)
    context.setdefault("company", None)
    context.update(settings=settings, csrf=csrf_token(request), prefix=PREFIX)
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def error(
    request: Request, settings: Settings, message: str, status: int, **context: Any
) -> Response:
    """The portal's error page with ``message``."""
    return page(request, settings, "error.html", status, message=message, **context)


def expired(request: Request, settings: Settings) -> Response:
    return error(request, settings, EXPIRED, 403)


def current_user(request: Request, session: Session) -> CompanyUser | None:
    """The signed-in company user; None when signed out, or when the session began
    before the user's last password change (its epoch)."""
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return None
    user = session.get(CompanyUser, user_id)
    if user is None or user.confirmed_at is None:
        return None
    if request.session.get(SESSION_EPOCH, 0) != user.session_epoch:
        return None
    return user


def log_in(request: Request, user: CompanyUser) -> None:
    """A fresh session for ``user`` (a new CSRF token against fixation)."""
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_EPOCH] = user.session_epoch
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def actor(
    request: Request, settings: Settings, user: CompanyUser | None, company: Company | None
) -> Actor:
    """The audit log's actor: third party ``user email (company)`` at the client's
    address."""
    address = client_address(request, settings.trusted_networks)
    if user is None:
        return Actor(THIRD_PARTY, None, address)
    name = f"{user.email} ({company.legal_name})" if company is not None else user.email
    return Actor(THIRD_PARTY, name, address)


__all__ = [
    "EXPIRED",
    "PREFIX",
    "SESSION_EPOCH",
    "SESSION_USER",
    "TEMPLATES",
    "actor",
    "current_user",
    "error",
    "expired",
    "log_in",
    "page",
]
