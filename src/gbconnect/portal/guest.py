"""Guest access to the consent page (STANDARD.md section 7: PG&E lets a customer
without an online account authorize a third party with the account number and the
phone on the account).

A third party sends a signed-out customer to ``/oauth/authorize``; the login page
offers ``/guest?next=<that URL>``. The account number and phone, then the code texted
to that phone (:mod:`gbconnect.portal.code_steps`), start a guest session: signed in
as that retail customer with ``guest`` set, which
:func:`gbconnect.web.security.current_customer` accepts on the consent page only, for
``GUEST_LIFETIME`` seconds
(:mod:`gbconnect.portal.authorize`, which ends the session with the decision, and
lets a guest authorize approved third parties only). The grant belongs to the retail
customer: it shows in "My authorizations" once they create an online account
(:mod:`gbconnect.portal.register`).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.portal.code_steps import Steps, add_steps
from gbconnect.portal.pages import audit_customer
from gbconnect.web.security import SESSION_GUEST, SESSION_GUEST_AT, log_in, safe_next

#: Where a guest may go: the consent page only.
CONSENT = "/oauth/authorize?"


def start_guest_session(
    request: Request, session: Session, customer: RetailCustomer, pending: dict[str, Any]
) -> Response:
    """The right code: a guest session, back to the consent page."""
    log_in(request, customer)
    request.session[SESSION_GUEST] = True
    request.session[SESSION_GUEST_AT] = time.time()
    settings: Settings = request.app.state.settings
    audit_customer(session, request, settings, customer.id, "sign_in.guest")
    session.commit()
    return RedirectResponse(safe_next(pending.get("next"), "/"), status_code=303)


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    steps = Steps(
        purpose="guest",
        path="/guest",
        start_template="guest_start.html",
        code_template="guest_code.html",
        done=start_guest_session,
        next_prefix=CONSENT,
    )
    add_steps(router, settings, sessions, templates, steps)
    return router


__all__ = ["CONSENT", "build_router", "start_guest_session"]
