"""The ESPI resource server's router (REQ.21 section 1; STANDARD.md section 1): every
ESPI route, under the resource base.

Each module declares its routes with their token classes (:mod:`gbconnect.web.access`);
this one puts them in one router, the usage resources first: they begin with the
IntervalBlock entry, the route third parties poll most, and route matching is a linear
scan. The routes answer through the application's
:class:`~gbconnect.web.serving.Responder` (``app.state.responder``).

Last comes :func:`unknown_resource`: any other path under the resource base (an
unknown resource, an id that is not one, see :class:`~gbconnect.web.access.IdConvertor`)
answers the API's JSON 404, as an unknown id does (REQ.21 section 1), and a known path
called with another method a JSON 405 naming the methods it takes (RFC 9110 section
15.5.6).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from gbconnect.api import batches, customer, management, thirdparty, usage
from gbconnect.config import Settings
from gbconnect.oauth.guard import NotFound
from gbconnect.web.access import EspiRoutes, espi_routes
from gbconnect.web.errors import api_error

#: Every method the catch-all answers (those HTTP defines for a resource).
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

#: Every table of ESPI routes, in the order they are matched.
TABLES: tuple[EspiRoutes, ...] = (
    usage.routes,
    batches.routes,
    thirdparty.routes,
    customer.routes,
    management.routes,
)


def build_router(settings: Settings) -> APIRouter:
    """The ESPI routes under ``settings.resource_base``."""
    router = APIRouter(prefix=settings.resource_base.rstrip("/"), tags=["espi"])
    for table in TABLES:
        table.include(router)
    router.add_api_route("/{rest:path}", unknown_resource, methods=METHODS, include_in_schema=False)
    return router


async def unknown_resource(request: Request) -> Response:
    """A path under the resource base that no ESPI route serves: 404 like an unknown
    resource, or 405 with ``Allow`` when the path is served with other methods."""
    scope = {**request.scope, "method": request.method}
    methods = sorted(
        {
            method
            for route in espi_routes(request.app.routes)
            if route.matches(scope)[0] == Match.PARTIAL
            for method in route.methods or ()
        }
    )
    if methods:
        return JSONResponse(
            {"error": "method_not_allowed", "error_description": "method not allowed"},
            status_code=405,
            headers={"Allow": ", ".join(methods)},
        )
    return api_error(NotFound())
