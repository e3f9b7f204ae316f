"""The FastAPI application, created by a factory on a configured database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from anyio import CapacityLimiter, to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from fastapi_offline import FastAPIOffline
from prometheus_client import make_asgi_app
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.sessions import SessionMiddleware

from gbconnect import __version__, developers
from gbconnect.api import routes as api_routes
from gbconnect.config import Settings, get_settings
from gbconnect.console import routes as console_routes
from gbconnect.customer.services import DEMO_PASSWORD
from gbconnect.db import current_revision, head_revision, make_engine, make_sessionmaker
from gbconnect.db.rowreader import make_row_reader
from gbconnect.espi.times import iso
from gbconnect.i18n import templating as i18n_templating
from gbconnect.i18n.middleware import LocaleMiddleware
from gbconnect.notify.metrics import register_metrics
from gbconnect.oauth import routes as oauth_routes
from gbconnect.oauth.server import EspiAuthorizationServer
from gbconnect.portal import account_security as portal_security
from gbconnect.portal import download as portal_download
from gbconnect.portal import email_change as portal_email
from gbconnect.portal import guest as portal_guest
from gbconnect.portal import language as portal_language
from gbconnect.portal import password_reset as portal_reset
from gbconnect.portal import phone_change as portal_phone
from gbconnect.portal import register as portal_register
from gbconnect.portal import self_access as portal_self_access
from gbconnect.portal import share as portal_share
from gbconnect.portal import usage_page as portal_usage
from gbconnect.portal import views as portal_views
from gbconnect.portal.pages import http_link
from gbconnect.stats import store_counts
from gbconnect.thirdparty_portal import routes as thirdparty_portal
from gbconnect.web import errors as web_errors
from gbconnect.web.compression import Compression
from gbconnect.web.headers import SecurityHeadersMiddleware
from gbconnect.web.limits import BodyLimitMiddleware
from gbconnect.web.serving import Responder

TEMPLATES = i18n_templating.install(
    Jinja2Templates(directory=str(Path(__file__).parent / "portal" / "templates"))
)
TEMPLATES.env.filters["http_link"] = http_link


def db_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session:
        yield session


Db = Annotated[Session, Depends(db_session)]


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the application for ``settings`` (the environment's when omitted)."""
    settings = settings or get_settings()
    # Room in the pool for every worker thread and every streaming feed at once, so
    # that no thread ever waits for a connection (gbconnect.web.serving.Responder.serve).
    engine = engine or make_engine(
        settings.sqlalchemy_url,
        pool_size=settings.threads + settings.feed_streams,
        max_overflow=8,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Database work runs in worker threads; a few busy threads beat many threads
        # fighting over the GIL (measured: benchmarks/api_load.py).
        to_thread.current_default_thread_limiter().total_tokens = settings.threads
        await reader.open()
        # The notification jobs on /metrics, read from the database at each scrape
        # (true across worker processes).
        unregister_metrics = register_metrics(app.state.sessions)
        try:
            yield
        finally:
            unregister_metrics()
            await reader.close()

    # Swagger UI and ReDoc are served from the installed package: /docs and /redoc
    # work on a network without internet access.
    app = FastAPIOffline(
        static_url="/static/docs",
        lifespan=lifespan,
        title="gbconnect",
        version=__version__,
        description="Green Button Connect My Data (NAESB REQ.21 ESPI 4.0)",
    )
    app.state.settings = settings
    web_errors.install(app, settings, TEMPLATES)
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    # The hot read path (one IntervalBlock) reads without a session or a thread.
    reader = make_row_reader(
        engine, max_size=settings.read_connections, timeout=settings.database_timeout
    )
    app.state.reader = reader
    app.mount("/metrics", make_asgi_app())
    # Feeds are large and compress 17-21:1: zstd or gzip (fast levels) when accepted.
    app.add_middleware(Compression, minimum_size=2048)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="gbconnect_session",
        max_age=8 * 3600,
        same_site="lax",
        # Secure whenever the public base URL is https (behind a TLS proxy too).
        https_only=settings.https,
    )
    # Every body counted against its endpoint's limit (413), and the security
    # headers on every answer, the refusals included.
    app.add_middleware(BodyLimitMiddleware, settings=settings, templates=TEMPLATES)
    app.add_middleware(SecurityHeadersMiddleware, https=settings.https)
    # Outermost: every page, the refusals included, in the visitor's language.
    app.add_middleware(LocaleMiddleware)
    server = EspiAuthorizationServer(settings)
    app.state.oauth = server
    # The one request path of the ESPI routes (gbconnect.web.serving).
    app.state.responder = Responder(
        settings, app.state.sessions, reader, CapacityLimiter(settings.feed_streams)
    )
    # The token endpoint first, then the API: route matching is a linear scan, API
    # polling is most traffic and the token route alone costs it one match.
    app.include_router(oauth_routes.build_token_router(settings, app.state.sessions, server))
    app.include_router(api_routes.build_router(settings))
    app.include_router(oauth_routes.build_router(settings, app.state.sessions, server, token=False))
    app.include_router(portal_views.build_router(settings, app.state.sessions, TEMPLATES))
    app.include_router(portal_usage.build_router(settings, app.state.sessions, TEMPLATES))
    app.include_router(portal_download.build_router(settings, app.state.sessions, TEMPLATES))
    app.include_router(portal_share.build_router(settings, app.state.sessions, TEMPLATES))
    app.include_router(portal_self_access.build_router(settings, app.state.sessions, TEMPLATES))
    app.include_router(portal_reset.build_router(settings, app.state.sessions, TEMPLATES))
    app.include_router(portal_security.build_router(settings, app.state.sessions, TEMPLATES))
    app.include_router(portal_email.build_router(settings, app.state.sessions, TEMPLATES))
    app.include_router(portal_guest.build_router(settings, app.state.sessions, TEMPLATES))
    app.include_router(portal_register.build_router(settings, app.state.sessions, TEMPLATES))
    app.include_router(portal_phone.build_router(settings, app.state.sessions, TEMPLATES))
    app.include_router(portal_language.build_router(settings))
    app.include_router(thirdparty_portal.build_router(settings, app.state.sessions))
    app.include_router(console_routes.build_router(settings, app.state.sessions))
    developers.mount(app, settings)

    @app.get("/livez", tags=["operations"])
    async def live() -> JSONResponse:
        """Liveness only: the process answers (no database; /healthz checks that)."""
        return JSONResponse({"status": "ok"})

    @lru_cache(maxsize=1)
    def expected_schema() -> str | None:
        """The migrations' head (read from the migration scripts once: they do not
        change while the process runs)."""
        return head_revision(engine)

    @app.get("/healthz", tags=["operations"])
    def health(session: Db) -> JSONResponse:
        """Liveness and readiness: the database answers and its schema is current."""
        try:
            session.execute(text("SELECT 1"))
            revision = current_revision(engine)
        except Exception:  # any driver error means "not ready"
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        head = expected_schema()
        ready = revision == head
        return JSONResponse(
            {
                "status": "ok" if ready else "error",
                "database": engine.dialect.name,
                "schema": revision,
                "expected_schema": head,
                "version": __version__,
            },
            status_code=200 if ready else 503,
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, session: Db) -> Any:
        counts = store_counts(session)
        return TEMPLATES.TemplateResponse(
            request,
            "home.html",
            {
                "settings": settings,
                "counts": counts,
                "first": iso(counts.first) if counts.first is not None else None,
                "last": iso(counts.last) if counts.last is not None else None,
                "version": __version__,
                "demo_login": settings.demo_login,
                "demo_password": DEMO_PASSWORD if settings.demo_login else None,
            },
        )

    return app
