"""What the consent page shows and how the customer's choices narrow the scope.

The requested scope is explained in data groups a customer understands; unticking a
group removes its function blocks (REQ.21 section 5 numbering, STANDARD.md section 5;
the groups and what each block means are :mod:`gbconnect.espi.blocks`).
The customer may narrow (groups, services, history, end date) and never widen:
:func:`narrowed_scope` only ever removes. The page offers only the services the
scope can carry (a gas usage point only with FB_10, :func:`gbconnect.espi.blocks.
blocks_for_service`), and :func:`read_decision` reads the submitted form: every
field checked, every refusal a sentence for the customer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.customer.models import CustomerAgreement, RetailCustomer, agreement_usage_point
from gbconnect.espi import blocks as fb
from gbconnect.espi import scope as espi_scope
from gbconnect.espi.blocks import DataGroup
from gbconnect.i18n import gettext as _
from gbconnect.i18n import ngettext
from gbconnect.oauth.services import GrantError
from gbconnect.portal.home import usage_point_label
from gbconnect.usage.points import customer_usage_points

GROUPS = fb.DATA_GROUPS


def groups_of(scope: espi_scope.Scope) -> list[DataGroup]:
    """The data groups a scope asks for."""
    blocks = scope.function_blocks
    return [g for g in GROUPS if g.blocks & blocks]


def interval_labels(scope: espi_scope.Scope) -> list[str]:
    out = []
    for value in scope.get("IntervalDuration") or ():
        v = value.lower()
        if v.isdigit():
            seconds = int(v)
            if seconds == 86400:
                out.append(_("daily"))
            elif seconds % 86400 == 0:
                out.append(_("every %(num)s days", num=seconds // 86400))
            elif seconds == 3600:
                out.append(_("hourly"))
            elif seconds % 3600 == 0:
                out.append(_("every %(num)s hours", num=seconds // 3600))
            else:
                out.append(_("every %(num)s minutes", num=seconds // 60))
        else:
            out.append(v)
    return out


def months_label(months: int) -> str:
    """A number of months in words ("1 month", "13 months")."""
    return ngettext("%(num)s month", "%(num)s months", months)


def history_choices(scope: espi_scope.Scope) -> list[tuple[int, str]]:
    """(HistoryLength value, label) from the requested one down, never longer."""
    asked = scope.history_length
    if asked is None:
        return []
    in_seconds = asked > espi_scope.HISTORY_SECONDS_THRESHOLD
    months = round(asked / espi_scope.MONTH_SECONDS) if in_seconds else asked
    choices = [(asked, months_label(months))]
    for m in (12, 6, 3, 1):
        if m < months:
            value = m * espi_scope.MONTH_SECONDS if in_seconds else m
            choices.append((value, months_label(m)))
    return choices


def narrowed_scope(
    scope: espi_scope.Scope, kept_groups: set[str], history: int | None
) -> espi_scope.Scope:
    """The granted scope: unticked groups' blocks removed (with the metering blocks
    once no usage is left), history shortened."""
    removed: set[int] = set()
    for g in groups_of(scope):
        if g.key not in kept_groups:
            removed |= g.blocks
    blocks = set(scope.function_blocks) - removed
    if not blocks & fb.USAGE_BLOCKS:
        blocks -= fb.METERING_BLOCKS
    if not blocks & fb.DATA_BLOCKS:
        raise GrantError(_("choose at least one kind of data to share"))
    allowed_history = {value for value, _label in history_choices(scope)}
    if history is not None and history not in allowed_history:
        raise GrantError(_("choose one of the offered history lengths"))
    return espi_scope.narrow(scope, function_blocks=blocks, history=history)


@dataclass
class ServiceChoice:
    """A service agreement (or "other services") and its usage points."""

    label: str
    usage_points: list[tuple[int, str]]


def carried_by(scope: espi_scope.Scope, service_kind: int) -> bool:
    """A usage point of ``service_kind`` can be shared under ``scope``: one of the
    scope's blocks carries that commodity (FB_4-9 electricity, FB_10 gas, FB_11
    water, FB_1 any other; :func:`gbconnect.espi.blocks.blocks_for_service`, as the
    grant reads it)."""
    return not fb.blocks_for_service(service_kind).isdisjoint(scope.function_blocks)


def service_choices(
    session: Session, customer: RetailCustomer, scope: espi_scope.Scope | None = None
) -> list[ServiceChoice]:
    """The customer's usage points grouped by service agreement (PG&E's Service IDs);
    with ``scope``, only those it can carry (:func:`carried_by`)."""
    ups = [
        up
        for up in customer_usage_points(session, customer.id)
        if scope is None or carried_by(scope, up.service_kind)
    ]
    labels = {up.id: usage_point_label(up) for up in ups}
    agreements = list(
        session.scalars(
            select(CustomerAgreement)
            .where(CustomerAgreement.retail_customer_id == customer.id)
            .order_by(CustomerAgreement.id)
        )
    )
    links = session.execute(
        select(
            agreement_usage_point.c.customer_agreement_id, agreement_usage_point.c.usage_point_id
        ).where(agreement_usage_point.c.customer_agreement_id.in_([a.id for a in agreements]))
    ).all()
    placed: set[int] = set()
    out = []
    for a in agreements:
        ids = [u for aid, u in links if aid == a.id and u in labels]
        if ids:
            name = a.name or a.title or _("Service agreement")
            if a.agreement_id and a.agreement_id not in name:
                name += " (" + _("service ID %(id)s", id=a.agreement_id) + ")"
            out.append(ServiceChoice(name, [(u, labels[u]) for u in ids]))
            placed.update(ids)
    rest = [(up.id, labels[up.id]) for up in ups if up.id not in placed]
    if rest:
        out.append(ServiceChoice(_("Other services"), rest))
    return out


def end_of_day(day: date, zone: tzinfo) -> int:
    """The exclusive end of ``day`` in ``zone``: the next midnight there, in epoch
    seconds. An authorization "until 30 June" is stored with this end (REQ.21 FB_3
    ``authorizedPeriod``: start plus duration), so that all of 30 June, in the
    utility's zone, is included; :func:`last_included_day` reads it back."""
    return int(datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).timestamp())


def last_included_day(end: int, zone: tzinfo) -> date:
    """The day an authorization ending (exclusively) at ``end`` was chosen to last
    until: the day of the second before ``end`` in ``zone`` (30 June for an end at
    midnight between 30 June and 1 July), the inverse of :func:`end_of_day`."""
    return datetime.fromtimestamp(end - 1, zone).date()


def parse_end(kind: str | None, text: str | None, today: date, zone: tzinfo = UTC) -> int | None:
    """The authorization's end: None for "until I revoke", else the end of the chosen
    day in ``zone`` (the utility's, :func:`end_of_day`) for a date after ``today``
    (today in that zone)."""
    if kind in (None, "", "revoke"):
        return None
    if kind != "date":
        raise GrantError(_("choose when the authorization ends"))
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        raise GrantError(_("the end date must be a date (YYYY-MM-DD)")) from None
    if day <= today:
        raise GrantError(_("the end date must be after today"))
    if day.year > today.year + 100:
        raise GrantError(_("the end date is too far away"))
    return end_of_day(day, zone)


def default_end(scope: espi_scope.Scope) -> str | None:
    """The third party's PreferredAuthEndDate as a date, for the form's default."""
    preferred = scope.number("PreferredAuthEndDate")
    if preferred is None:
        return None
    try:
        return datetime.fromtimestamp(preferred, UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return None


SINGLE_FIELDS = ("decision", "history", "end", "end_date", "csrf")
"""Fields the consent form sends once; a repeated one is a forged form."""

MAX_SERVICES = 1000
"""More service choices than any customer has (the form is refused beyond)."""

_ID_MAX = 2**63 - 1


@dataclass(frozen=True)
class Decision:
    """What the customer approved on the consent page."""

    scope: espi_scope.Scope
    usage_point_ids: list[int]
    end: int | None


def read_decision(
    fields: Mapping[str, Sequence[str]],
    requested: espi_scope.Scope,
    today: date,
    zone: tzinfo = UTC,
) -> Decision:
    """The approval in the submitted consent form (each field with all its values):
    the granted scope (:func:`narrowed_scope`), the chosen usage points and the end
    (:func:`parse_end`, in ``zone``). A field that is not what the page offers raises
    :class:`~gbconnect.oauth.services.GrantError` with a sentence for the customer;
    whether the usage points are the customer's is the grant's check."""
    for name in SINGLE_FIELDS:
        if len(fields.get(name, ())) > 1:
            raise GrantError(_("the form was sent with a repeated answer; go back and try again"))

    def one(name: str) -> str:
        values = fields.get(name, ())
        return values[0].strip() if values else ""

    history_text = one("history")
    history: int | None = None
    if history_text:
        offered = {str(value): value for value, _label in history_choices(requested)}
        if history_text not in offered:
            raise GrantError(_("choose one of the offered history lengths"))
        history = offered[history_text]
    # A kind of data the page did not offer (the scope does not ask for it) is left
    # out: narrowing never widens. A name that is no kind of data at all is refused.
    kept = set(fields.get("group", ()))
    if not kept <= {g.key for g in fb.DATA_GROUPS}:
        raise GrantError(_("choose among the kinds of data offered"))
    kept &= {g.key for g in groups_of(requested)}
    chosen = list(fields.get("service", ()))
    if len(chosen) > MAX_SERVICES:
        raise GrantError(_("too many services were chosen; go back and try again"))
    ids = []
    for text in chosen:
        if not (text.isascii() and text.isdigit()) or int(text) > _ID_MAX:
            raise GrantError(_("a chosen service is not one of yours"))
        ids.append(int(text))
    granted = narrowed_scope(requested, kept, history)
    end = parse_end(one("end") or None, one("end_date"), today, zone)
    return Decision(granted, list(dict.fromkeys(ids)), end)
