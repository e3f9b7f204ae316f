"""The customer's "My usage" page: their usage as charts, or the same numbers as tables.

``GET /account/usage`` for a signed-in customer (the session of
:mod:`gbconnect.portal.views`), with query parameters:

- ``service``: one of the customer's usage points (default: the first, by id); any
  other id, another customer's included, answers 404 as if it did not exist;
- ``from`` / ``to``: local dates (YYYY-MM-DD, both included; default: the last 30
  days of the service's data);
- ``step``: ``hour``, ``day`` or ``month`` (default by the period's length);
- ``view``: ``chart`` (default) or ``table``.

A bad value answers 400 with the page and a sentence saying what to change. The sums
are made by :mod:`gbconnect.usage.aggregate`, the charts by
:mod:`gbconnect.portal.usage_charts`: the page needs no script.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.config import Settings
from gbconnect.errors import InputError
from gbconnect.i18n import N_
from gbconnect.i18n import gettext as _
from gbconnect.portal.pages import error_page
from gbconnect.portal.usage_charts import (
    bills_chart,
    bucket_names,
    number,
    period_text,
    usage_charts,
)
from gbconnect.usage import aggregate
from gbconnect.usage.models import UsagePoint
from gbconnect.usage.points import customer_usage_points
from gbconnect.web.security import csrf_token, current_customer

#: Days shown when the query names no period.
DEFAULT_DAYS = 30
#: The longest period of each step, in days (a year of hours is 8,784 points).
MAX_DAYS = {"hour": 366, "day": 3 * 366, "month": 10 * 366}
VIEWS = ("chart", "table")
#: The refusal of a period too long for its step.
TOO_LONG = {
    "hour": N_(
        "An hourly view covers at most %(num)s days: choose a shorter period or a longer step."
    ),
    "day": N_(
        "A daily view covers at most %(num)s days: choose a shorter period or a longer step."
    ),
    "month": N_(
        "A monthly view covers at most %(num)s days: choose a shorter period or a longer step."
    ),
}
#: Years a date may name (a year before must still be a date).
YEARS = (1971, 2999)
SERVICE_NAMES = {0: N_("Electricity"), 1: N_("Gas"), 2: N_("Water")}


class UsageQueryError(InputError):
    """A query parameter of the usage page that cannot be used (400)."""


@dataclass(frozen=True, slots=True)
class UsageQuery:
    """The page's query, checked: ``service`` is None for the default one."""

    service: int | None
    first: date | None
    last: date | None
    step: str | None
    view: str


def _date(name: str, text: str | None) -> date | None:
    if text is None or text == "":
        return None
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        unread = (
            N_("The start date “%(text)s” is not a date: write it as YYYY-MM-DD.")
            if name == "start"
            else N_("The end date “%(text)s” is not a date: write it as YYYY-MM-DD.")
        )
        raise UsageQueryError(_(unread, text=text[:40])) from None
    if not YEARS[0] <= value.year <= YEARS[1]:
        outside = (
            N_("Choose a start date between %(first)s and %(last)s.")
            if name == "start"
            else N_("Choose an end date between %(first)s and %(last)s.")
        )
        raise UsageQueryError(_(outside, first=YEARS[0], last=YEARS[1]))
    return value


def parse_query(params: Any) -> UsageQuery:
    """The checked query of the page; :class:`UsageQueryError` names a bad value."""
    service: int | None = None
    raw = params.get("service")
    if raw not in (None, ""):
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or int(raw) > 2**63 - 1:
            raise UsageQueryError(_("The service is not one of yours: choose it from the list."))
        service = int(raw)
    first = _date("start", params.get("from"))
    last = _date("end", params.get("to"))
    if first is not None and last is not None and last < first:
        raise UsageQueryError(_("The end date is before the start date: swap them."))
    step = params.get("step") or None
    if step is not None and step not in aggregate.STEPS:
        raise UsageQueryError(_("Choose a step of hour, day or month."))
    view = params.get("view") or "chart"
    if view not in VIEWS:
        raise UsageQueryError(_("Choose the chart view or the table view."))
    return UsageQuery(service, first, last, step, view)


def default_step(days: int, finest: int) -> str:
    """Hours for a few days, days up to three months, months beyond; never finer than
    the service's finest channel (``finest`` seconds)."""
    step = "hour" if days <= 3 else "day" if days <= 92 else "month"
    if finest >= 86400 and step == "hour":
        step = "day"
    return step


def resolve_period(
    query: UsageQuery, data: tuple[int, int] | None, settings: Settings
) -> tuple[date, date]:
    """The local days shown: the query's, completed by the last 30 days of data."""
    zone = settings.zone
    if query.first is not None and query.last is not None:
        return query.first, query.last
    if query.first is not None:
        return query.first, query.first + timedelta(days=DEFAULT_DAYS - 1)
    if query.last is not None:
        return query.last - timedelta(days=DEFAULT_DAYS - 1), query.last
    if data is None:
        today = datetime.now(zone).date()
    else:
        today = datetime.fromtimestamp(data[1] - 1, zone).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def table_rows(usage: aggregate.Usage) -> list[tuple[str, str, list[str]]]:
    """The table view's rows: each bucket's label (as ``<time datetime>``), its name
    in the language's words and its figures, formatted (each measure, then the same
    bucket a year before)."""
    columns: list[list[str]] = []
    for s in usage.series:
        columns.append([number(v) for v in s.values])
        columns.append([number(v) for v in s.last_year])
    names = bucket_names(usage.labels, usage.step, short=False)
    return [(label, names[i], [c[i] for c in columns]) for i, label in enumerate(usage.labels)]


def _service_name(up: UsagePoint) -> str:
    return _(SERVICE_NAMES.get(up.service_kind, N_("Service")))


def _service_label(up: UsagePoint) -> str:
    title = up.title or _("Service %(id)s", id=up.id)
    return f"{_service_name(up)}: {title}"


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    """The routes of the usage page."""
    router = APIRouter(include_in_schema=False)

    @router.get("/account/usage", response_class=HTMLResponse)
    def usage_page(request: Request) -> Response:
        """The signed-in customer's usage of one service over a period."""
        with sessions() as session:
            customer = current_customer(request, session)
            if customer is None:
                here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(here, safe='')}", status_code=303)
            points = customer_usage_points(session, customer.id)
            context: dict[str, Any] = {
                "settings": settings,
                "customer": customer,
                "csrf": csrf_token(request),
                "services": [{"id": up.id, "label": _service_label(up)} for up in points],
                "steps": aggregate.STEPS,
                "error": None,
                "usage": None,
                "form": {
                    k: request.query_params.get(k, "")
                    for k in ("service", "from", "to", "step", "view")
                },
            }

            def page(status: int = 200) -> Response:
                return templates.TemplateResponse(
                    request, "usage.html", context, status_code=status
                )

            try:
                query = parse_query(request.query_params)
            except UsageQueryError as exc:
                context["error"] = str(exc)
                return page(400)
            context["view"] = query.view
            if not points:
                return page()
            owned = {up.id: up for up in points}
            if query.service is not None and query.service not in owned:
                return error_page(templates, request, settings, _("There is no such service."), 404)
            up = owned[query.service] if query.service is not None else points[0]
            channels = aggregate.channels_of(session, up.id)
            data = aggregate.data_range(session, channels)
            first, last = resolve_period(query, data, settings)
            days = (last - first).days + 1
            finest = min((c.interval for c in channels if c.interval), default=0)
            step = query.step or default_step(days, finest)
            context["form"].update(
                service=str(up.id), step=step, view=query.view, **{"from": str(first)}, to=str(last)
            )
            context["service"] = {"id": up.id, "label": _service_label(up)}
            if days > MAX_DAYS[step]:
                context["error"] = _(TOO_LONG[step], num=MAX_DAYS[step])
                return page(400)
            if data is None:
                return page()
            usage = aggregate.usage_of(session, up.id, first, last, step, settings.zone, channels)
            context["usage"] = usage
            context["number"] = number
            context["period"] = period_text(usage.first, usage.last)
            if query.view == "chart":
                context["charts"] = usage_charts(usage, _service_name(up))
                context["bills_chart"] = bills_chart(usage.bills)
            else:
                context["rows"] = table_rows(usage)
            base = {"service": up.id, "from": first, "to": last, "step": step}
            context["chart_url"] = "/account/usage?" + urlencode({**base, "view": "chart"})
            context["table_url"] = "/account/usage?" + urlencode({**base, "view": "table"})
            return page()

    return router


__all__ = [
    "UsageQuery",
    "UsageQueryError",
    "build_router",
    "default_step",
    "parse_query",
    "table_rows",
]
