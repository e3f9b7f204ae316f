"""Who may call an ESPI route, declared on the route (REQ.21 token classes; STANDARD.md
section 1).

A module of ESPI resources makes one :class:`EspiRoutes` table and declares each
handler, a plain module-level function, with its path and the token classes it admits
in one line::

    routes = EspiRoutes()

    @routes.get("/Subscription/{sid}/UsagePoint", allow={CUSTOMER})
    async def usage_point_feed(request: Request, sid: int) -> Response: ...

A handler that serves several paths alike (one per customer.xsd record kind) is a
callable object and is declared with :meth:`EspiRoutes.add`. :meth:`EspiRoutes.include`
adds the table's routes to a router (the resource base is the router's prefix), in
declaration order (route matching is a linear scan: the hottest route is declared
first). Each becomes an :class:`EspiRoute` whose :attr:`~EspiRoute.allow` holds its
token classes; the request path (:mod:`gbconnect.web.serving`) reads them from the
matched route (:func:`allowed`), and the authorization-matrix test reads them from the
application's routes (:func:`espi_routes`): there is no second table to keep in step.
The token classes are also listed in the OpenAPI document (``x-token-classes``).

Every id in an ESPI path is read by one path convertor, ``{name:espiid}``
(:class:`IdConvertor`): decimal digits whose value the store can hold (ids are signed
64-bit integers). :meth:`EspiRoutes.include` gives it to every ``{name}`` (or
``{name:int}``) of a declared path, so a path whose id is not a number, is negative,
or lies beyond 2^63 - 1 matches no route and is answered like any unknown resource
(404), before any database call and without echoing the input (REQ.21 section 1: ids
are opaque; an unknown one is 404).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount

from gbconnect.oauth.models import ADMIN, CLIENT, CUSTOMER, REGISTRATION, UPLOAD

__all__ = [
    "ADMIN",
    "CLIENT",
    "CUSTOMER",
    "REGISTRATION",
    "UPLOAD",
    "EspiRoute",
    "EspiRoutes",
    "IdConvertor",
    "allowed",
    "espi_routes",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The largest id the store holds (BigInteger: signed 64-bit).
MAX_ID = 2**63 - 1


def bounded_digits(limit: int) -> str:
    """A regular expression of the decimal numbers from 0 to ``limit`` (leading zeros
    allowed up to ``limit``'s length): shorter numbers, then each digit string of the
    same length that is below ``limit`` at its first differing digit, then ``limit``."""
    text = str(limit)
    width = len(text)
    parts = [f"[0-9]{{1,{width - 1}}}"] if width > 1 else []
    for i, digit in enumerate(text):
        if digit != "0":
            rest = width - i - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            parts.append(f"{text[:i]}[0-{int(digit) - 1}]{tail}")
    parts.append(text)
    return "(?:" + "|".join(parts) + ")"


class IdConvertor(Convertor[int]):
    """The id of an ESPI resource in a path: 0 to 2^63 - 1 in decimal digits; anything
    else matches no route."""

    regex = bounded_digits(MAX_ID)

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value <= MAX_ID:
            raise ValueError("an ESPI id is between 0 and 2^63 - 1")
        return str(value)


register_url_convertor("espiid", IdConvertor())

_PARAM = re.compile(r"\{(\w+)(?::int)?\}")


def id_path(path: str) -> str:
    """``path`` with every ``{name}`` and ``{name:int}`` read by :class:`IdConvertor`."""
    return _PARAM.sub(r"{\1:espiid}", path)


class EspiRoute(APIRoute):
    """An ESPI route: a FastAPI route that knows the token classes it admits."""

    allow: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Declaration:
    """One route of a table: method, path under the resource base, handler, classes."""

    method: str
    path: str
    endpoint: Callable[..., Any]
    allow: frozenset[str]
    options: dict[str, Any] = field(default_factory=dict)


class EspiRoutes:
    """The ESPI routes of one module, each declared with the token classes it admits."""

    def __init__(self) -> None:
        self.declarations: list[Declaration] = []

    def add(
        self,
        method: str,
        path: str,
        endpoint: Callable[..., Any],
        *,
        allow: Iterable[str],
        **options: Any,
    ) -> None:
        """Declare ``endpoint`` for ``method path``, callable by the ``allow`` token
        classes only; ``options`` go to FastAPI's ``add_api_route``."""
        classes = frozenset(allow)
        if not classes:
            raise ValueError(f"{method} {path}: a route must admit at least one token class")
        self.declarations.append(Declaration(method, path, endpoint, classes, options))

    def _method(
        self, method: str, path: str, allow: Iterable[str], **options: Any
    ) -> Callable[[F], F]:
        def declare(endpoint: F) -> F:
            self.add(method, path, endpoint, allow=allow, **options)
            return endpoint

        return declare

    def get(self, path: str, *, allow: Iterable[str], **options: Any) -> Callable[[F], F]:
        return self._method("GET", path, allow, **options)

    def put(self, path: str, *, allow: Iterable[str], **options: Any) -> Callable[[F], F]:
        return self._method("PUT", path, allow, **options)

    def post(self, path: str, *, allow: Iterable[str], **options: Any) -> Callable[[F], F]:
        return self._method("POST", path, allow, **options)

    def delete(self, path: str, *, allow: Iterable[str], **options: Any) -> Callable[[F], F]:
        return self._method("DELETE", path, allow, **options)

    def include(self, router: APIRouter) -> None:
        """Add every declared route to ``router``, in declaration order."""
        for d in self.declarations:
            options = dict(d.options)
            extra = {**options.pop("openapi_extra", {}), "x-token-classes": sorted(d.allow)}
            router.add_api_route(
                id_path(d.path),
                d.endpoint,
                methods=[d.method],
                openapi_extra=extra,
                route_class_override=EspiRoute,
                **options,
            )
            route = router.routes[-1]
            assert isinstance(route, EspiRoute)
            route.allow = d.allow


def allowed(request: Request) -> frozenset[str]:
    """The token classes the matched route admits (none when it declares none)."""
    route = request.scope.get("route")
    return route.allow if isinstance(route, EspiRoute) else frozenset()


def espi_routes(routes: Iterable[BaseRoute]) -> Iterator[EspiRoute]:
    """Every :class:`EspiRoute` among ``routes``, looking into included routers and
    mounts."""
    for route in routes:
        if isinstance(route, EspiRoute):
            yield route
        elif isinstance(route, Mount):
            yield from espi_routes(route.routes)
        else:
            inner = getattr(route, "original_router", None)  # an included router
            if inner is not None:
                yield from espi_routes(inner.routes)
