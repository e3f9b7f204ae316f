"""What every console page shares: the staff session, roles on each route, CSRF, the
templates and the error page.

A route says its path and the role it needs in one place (:meth:`Console.view`):
signed out, the browser goes to ``/console/login``; a role too weak gets a 403 page
and the handler never runs; a POST's CSRF token is checked (OWASP synchronizer token
pattern, :mod:`gbconnect.web.security`) before anything happens. The staff session
lives in the shared Starlette session under keys of its own (``staff_id``,
``staff_epoch``), beside a customer's if the same browser has one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.audit import Actor
from gbconnect.audit.record import STAFF
from gbconnect.config import Settings
from gbconnect.console.models import ROLES, VIEWER, StaffUser, may
from gbconnect.oauth.starlette import FormTooLarge, read_form
from gbconnect.portal.pages import http_link
from gbconnect.web.security import SESSION_CSRF, client_address, csrf_ok, csrf_token

SESSION_STAFF = "staff_id"
SESSION_STAFF_EPOCH = "staff_epoch"
#: What a form whose CSRF token does not match is told (403).
EXPIRED = "This form has expired. Go back and try again."

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["http_link"] = http_link


def current_staff(request: Request, session: Session) -> StaffUser | None:
    """The signed-in staff member; None when signed out, disabled, or when the
    session began before the account's epoch moved (disabled, role changed)."""
    staff_id = request.session.get(SESSION_STAFF)
    if not isinstance(staff_id, int):
        return None
    staff = session.get(StaffUser, staff_id)
    if (
        staff is None
        or staff.disabled_at is not None
        or request.session.get(SESSION_STAFF_EPOCH) != staff.session_epoch
    ):
        return None
    return staff


def sign_in(request: Request, staff: StaffUser) -> None:
    """Start the staff session (a new CSRF token against fixation)."""
    request.session.pop("staff_pending", None)
    request.session[SESSION_STAFF] = staff.id
    request.session[SESSION_STAFF_EPOCH] = staff.session_epoch
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def sign_out(request: Request) -> None:
    for key in (SESSION_STAFF, SESSION_STAFF_EPOCH, "staff_pending"):
        request.session.pop(key, None)


@dataclass
class Ctx:
    """One console request: who, in which database session, with what form."""

    request: Request
    session: Session
    staff: StaffUser
    console: Console
    form: dict[str, str] = field(default_factory=dict)
    #: Every field of the posted form in order (a checkbox list has several).
    pairs: list[tuple[str, str]] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]

    @property
    def actor(self) -> Actor:
        """The audit log's actor: the staff member's email and client address."""
        address = client_address(self.request, self.console.settings.trusted_networks)
        return Actor(STAFF, self.staff.email, address)

    def page(self, name: str, status: int = 200, **context: Any) -> Response:
        return self.console.page(self.request, name, status, staff=self.staff, **context)

    def error(self, message: str, status: int) -> Response:
        return self.console.error(self.request, message, status, staff=self.staff)

    def not_found(self, what: str) -> Response:
        return self.error(f"There is no {what}.", 404)

    def redirect(self, path: str) -> Response:
        return RedirectResponse(path, status_code=303)

    def may(self, role: str) -> bool:
        return may(self.staff.role, role)


Handler = Callable[..., Response]


class Console:
    """The console's router and what its pages share."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        templates: Jinja2Templates = TEMPLATES,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.templates = templates
        self.router = APIRouter(prefix="/console", include_in_schema=False)

    def when(self, at: float | None) -> str:
        """A moment in the utility's zone, to the second."""
        if at is None:
            return ""
        return datetime.fromtimestamp(at, self.settings.zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("error", None)
        context.setdefault("staff", None)
        context.update(
            settings=self.settings, csrf=csrf_token(request), when=self.when, roles=ROLES
        )
        response = self.templates.TemplateResponse(request, name, context, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    def error(self, request: Request, message: str, status: int, **context: Any) -> Response:
        return self.page(request, "error.html", status, message=message, **context)

    def view(
        self, path: str, role: str = VIEWER, post: bool = False
    ) -> Callable[[Handler], Handler]:
        """Register ``fn(ctx, **path_params)`` at ``/console{path}`` for staff with at
        least ``role``; a POST checks the form's CSRF token. The handler runs in a
        worker thread, in a database session it commits itself when it writes."""

        def register(fn: Handler) -> Handler:
            async def endpoint(request: Request) -> Response:
                pairs: list[tuple[str, str]] = []
                if post:
                    try:
                        pairs = list(await read_form(request))
                    except FormTooLarge:
                        pairs = []  # its CSRF check fails
                form = dict(pairs)

                def run() -> Response:
                    with self.sessions() as session:
                        staff = current_staff(request, session)
                        if staff is None:
                            if post:
                                return RedirectResponse("/console/login", status_code=303)
                            target = request.url.path
                            if request.url.query:
                                target += "?" + request.url.query
                            return RedirectResponse(
                                "/console/login?" + _next(target), status_code=303
                            )
                        if not may(staff.role, role):
                            return self.error(
                                request,
                                f"This needs the {role} role; you are a {staff.role}. "
                                "Nothing was changed.",
                                403,
                                staff=staff,
                            )
                        if post and not csrf_ok(request, form.get("csrf")):
                            return self.error(request, EXPIRED, 403, staff=staff)
                        ctx = Ctx(request, session, staff, self, form, pairs)
                        result: Response = fn(ctx, **request.path_params)
                        return result

                return await run_in_threadpool(run)

            self.router.add_api_route(
                path,
                endpoint,
                methods=["POST" if post else "GET"],
                response_class=HTMLResponse,
                name=f"console.{fn.__name__}",
            )
            return fn

        return register


def _next(target: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": target})


def int_param(value: str | None) -> int | None:
    """A query or form value as an id; None when absent or not a whole number."""
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit() or len(value) > 18:
        return None
    return int(value)


__all__ = [
    "EXPIRED",
    "SESSION_STAFF",
    "SESSION_STAFF_EPOCH",
    "TEMPLATES",
    "Console",
    "Ctx",
    "current_staff",
    "int_param",
    "sign_in",
    "sign_out",
]
