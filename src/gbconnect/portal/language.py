"""The language switch: ``GET /language?to=es&next=/account`` remembers the choice in
a cookie for a year and goes back to the page it was made on (a local path only).

A plain link, so it works without JavaScript and from every page, signed in or not.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from gbconnect.config import Settings
from gbconnect.i18n import LANGUAGES
from gbconnect.i18n.middleware import COOKIE, COOKIE_AGE
from gbconnect.web.security import safe_next


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/language")
    def switch(request: Request, to: str = "", next: str = "/") -> RedirectResponse:
        """Remember ``to`` (one of the portal's languages; anything else changes
        nothing) and go back to ``next``."""
        response = RedirectResponse(safe_next(next), status_code=303)
        if to in LANGUAGES:
            response.set_cookie(
                COOKIE,
                to,
                max_age=COOKIE_AGE,
                httponly=True,
                samesite="lax",
                secure=settings.https,
            )
        return response

    return router
