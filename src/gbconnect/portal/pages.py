"""What every portal page shares: the template context and the error page."""

from __future__ import annotations

from typing import Any

from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from gbconnect.audit import Actor, record
from gbconnect.audit.record import CUSTOMER
from gbconnect.config import Settings
from gbconnect.i18n import N_
from gbconnect.i18n import gettext as _
from gbconnect.oauth.starlette import FormTooLarge, read_form
from gbconnect.web.security import client_address, is_guest

#: What a form whose CSRF token does not match is told (403).
EXPIRED = N_("This form has expired. Go back and try again.")


def http_link(uri: object) -> str | None:
    """``uri`` when it is an absolute http(s) URL, else None: a third party's website,
    terms or privacy policy is a link only then (never ``javascript:`` or ``data:``).
    The templates' ``http_link`` filter."""
    if isinstance(uri, str) and uri.lower().startswith(("https://", "http://")):
        return uri
    return None


def audit_customer(
    session: Session,
    request: Request,
    settings: Settings,
    customer_id: int,
    action: str,
    target: tuple[str, object] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write what a customer did from a page to the audit log (gbconnect.audit), as
    "customer N" (or "guest for customer N") at the request's client address."""
    record(
        session,
        action,
        customer_actor(request, settings, customer_id),
        target or ("customer", customer_id),
        details,
    )


def customer_actor(request: Request, settings: Settings, customer_id: int) -> Actor:
    """The customer of a page request, as the audit log names them."""
    who = f"guest for customer {customer_id}" if is_guest(request) else f"customer {customer_id}"
    return Actor(CUSTOMER, who, client_address(request, settings.trusted_networks))


def error_page(
    templates: Jinja2Templates,
    request: Request,
    settings: Settings,
    message: str,
    status: int,
    **context: Any,
) -> Response:
    """``error.html`` with ``message``, under the utility's name."""
    return templates.TemplateResponse(
        request,
        "error.html",
        # The language switch leads back to the page without its query: a refused
        # query is not repeated in a link.
        {"settings": settings, "message": message, "language_next": request.url.path, **context},
        status_code=status,
    )


async def form_fields(request: Request) -> dict[str, str]:
    """A posted urlencoded form, the last value of each field; empty when it is too
    large or not a form (its CSRF check then fails)."""
    try:
        return dict(await read_form(request))
    except FormTooLarge:
        return {}


def expired_form(templates: Jinja2Templates, request: Request, settings: Settings) -> Response:
    """The page for a form whose CSRF token does not match (403)."""
    return error_page(templates, request, settings, _(EXPIRED), 403)


__all__ = [
    "EXPIRED",
    "audit_customer",
    "customer_actor",
    "error_page",
    "expired_form",
    "form_fields",
    "http_link",
]
