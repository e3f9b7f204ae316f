"""The third-party portal's routes, gathered (``/thirdparty``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.config import Settings
from gbconnect.thirdparty_portal import applications, certificates, views
from gbconnect.thirdparty_portal.pages import PREFIX


def build_router(settings: Settings, sessions: sessionmaker[Session]) -> APIRouter:
    """Every page of the portal; the application includes it once."""
    router = APIRouter(include_in_schema=False)

    @router.get(PREFIX)
    def start() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/applications", status_code=303)

    router.include_router(views.build_router(settings, sessions))
    router.include_router(applications.build_router(settings, sessions))
    router.include_router(certificates.build_router(settings, sessions))
    return router


__all__ = ["build_router"]
