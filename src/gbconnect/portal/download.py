"""The customer's Green Button **Download My Data** page (NAESB REQ.21 ESPI: the
RetailCustomer downloads their own usage as the standard feed; the Green Button
Alliance's "Download My Data" button).

``GET /account/download`` shows the form: the customer's services (usage points, named
as the consent page names them: :func:`gbconnect.portal.consent.service_choices`), all
ticked; a period (empty: everything); ESPI XML or CSV.

``GET /account/download/file`` (a GET, so nothing changes and no CSRF token is needed;
the session cookie is ``SameSite=Lax``) answers the file as an attachment:

- ESPI XML: the feed the API serves at ``Batch/RetailCustomer/{id}/UsagePoint`` for
  the same customer and period (:func:`gbconnect.api.export.export_xml`, the writer
  of ``gbconnect export``), valid against the ESPI 4.0 schemas;
- CSV: the gbconnect CSV of docs/csv.md (:func:`gbconnect.api.export.export_csv`),
  which ``gbconnect ingest`` reads back.

The file streams from a session of its own, in chunks, holding one of the
application's feed slots (``GBCONNECT_FEED_STREAMS``) like an API feed does
(:mod:`gbconnect.web.serving`): never built whole in memory.

Refusals (:mod:`gbconnect.portal.download_form`): a service that is not the customer's
is a 404 page, as for one that does not exist; a choice the customer can fix is the
form again, with a sentence and what they typed, and a 400; no customer signed in is a
redirect to the sign-in page, which comes back here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.api.export import export_csv, export_xml
from gbconnect.config import Settings
from gbconnect.i18n import gettext as _
from gbconnect.portal.consent import ServiceChoice, service_choices
from gbconnect.portal.download_form import (
    FORMATS,
    ChoiceError,
    DownloadChoice,
    Typed,
    UnknownService,
    read_choice,
    typed_of,
)
from gbconnect.portal.pages import error_page
from gbconnect.web.security import current_customer
from gbconnect.web.serving import FeedResponse, Prepared, Streaming, responder_of

FORM_PATH = "/account/download"
FILE_PATH = "/account/download/file"


@dataclass
class Account:
    """The signed-in customer as the page needs them."""

    customer_id: int
    username: str
    services: list[ServiceChoice]
    owned: list[int]


def _account(sessions: sessionmaker[Session], request: Request) -> Account | None:
    with sessions() as session:
        customer = current_customer(request, session)
        if customer is None:
            return None
        services = service_choices(session, customer)
        owned = sorted(up for s in services for up, _label in s.usage_points)
        return Account(customer.id, customer.username, services, owned)


def _login(request: Request) -> Response:
    """To the sign-in page, which brings the customer back to the form as it was."""
    back = FORM_PATH + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?next=" + quote(back, safe=""), status_code=303)


def _writer(settings: Settings, account: Account, choice: DownloadChoice) -> Prepared:
    """The export of ``choice``: gbconnect export's own writers, in a session given
    when the file streams."""
    ids, lo, hi = choice.usage_points, choice.lo, choice.hi

    def run(session: Session) -> Iterator[str]:
        if choice.fmt == "csv":
            return export_csv(session, account.customer_id, ids, lo, hi)
        return export_xml(session, settings, account.customer_id, ids, lo, hi)

    return Prepared(run)


async def _stream(
    request: Request, settings: Settings, account: Account, choice: DownloadChoice
) -> Response:
    responder = responder_of(request)
    borrower = object()
    await responder.streams.acquire_on_behalf_of(borrower)
    chunks = responder.chunks(_writer(settings, account, choice))
    try:
        first = await run_in_threadpool(next, chunks)
    except BaseException:
        await run_in_threadpool(chunks.close)
        responder.streams.release_on_behalf_of(borrower)
        raise
    headers = {
        "Content-Disposition": f'attachment; filename="{choice.filename(account.username)}"',
        "Cache-Control": "no-store",
    }
    chunk, done = first
    return FeedResponse(
        Streaming(chunks, chunk, headers, done),
        lambda: responder.streams.release_on_behalf_of(borrower),
        media_type=choice.media_type,
    )


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    """The routes of the Download My Data page (mounted with the other portal pages)."""
    router = APIRouter(include_in_schema=False)

    def form(
        request: Request,
        account: Account,
        typed: Typed,
        status: int = 200,
        error: ChoiceError | None = None,
    ) -> Response:
        checked = set(typed.services) if typed.services else {str(i) for i in account.owned}
        return templates.TemplateResponse(
            request,
            "download.html",
            {
                "settings": settings,
                "username": account.username,
                "services": account.services,
                "checked": checked,
                "typed": typed,
                "formats": [(key, label) for key, (label, _, _) in FORMATS.items()],
                "selected_format": typed.fmt if typed.fmt in FORMATS else "",
                "error": error,
                "action": FILE_PATH,
            },
            status_code=status,
        )

    def typed(request: Request) -> Typed:
        return typed_of(request.query_params, request.query_params.getlist("service"))

    @router.get(FORM_PATH, response_class=HTMLResponse)
    async def download_form(request: Request) -> Response:
        """The form; query parameters (from a link, or a refused download) fill it."""
        account = await run_in_threadpool(_account, sessions, request)
        if account is None:
            return _login(request)
        return form(request, account, typed(request))

    @router.get(FILE_PATH)
    async def download_file(request: Request) -> Response:
        """The file the form asked for, as an attachment (or the refusal)."""
        account = await run_in_threadpool(_account, sessions, request)
        if account is None:
            return _login(request)
        asked = typed(request)
        try:
            choice = read_choice(asked, account.owned, settings.zone)
        except UnknownService:
            return error_page(
                templates, request, settings, _("There is no such service on your account."), 404
            )
        except ChoiceError as refusal:
            return form(request, account, asked, 400, refusal)
        return await _stream(request, settings, account, choice)

    return router


__all__ = ["FILE_PATH", "FORM_PATH", "build_router"]
