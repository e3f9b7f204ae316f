"""The ESPI resource server's router (REQ.21 section 1; STANDARD.md section 1): every
ESPI route, under the resource base.

Each module declares its routes with their token classes (:mod:`gbconnect.web.access`);
this one puts them in one router, the usage resources first: they begin with the
IntervalBlock entry, the route third parties poll most, and route matching is a linear
scan. The routes answer through the application's
:class:`~gbconnect.web.serving.Responder` (``app.state.responder``).
"""

from __future__ import annotations

from fastapi import APIRouter

from gbconnect.api import customer, management, thirdparty, usage
from gbconnect.config import Settings
from gbconnect.web.access import EspiRoutes

#: Every table of ESPI routes, in the order they are matched.
TABLES: tuple[EspiRoutes, ...] = (
    usage.routes,
    thirdparty.routes,
    customer.routes,
    management.routes,
)


def build_router(settings: Settings) -> APIRouter:
    """The ESPI routes under ``settings.resource_base``."""
    router = APIRouter(prefix=settings.resource_base.rstrip("/"), tags=["espi"])
    for table in TABLES:
        table.include(router)
    return router
