"""The resources third parties read most, on the row path (issue: performance).

The IntervalBlock entry was the first route answered without an ORM session and
without a worker thread (:meth:`gbconnect.web.serving.Responder.serve_row`): the
token and the resource are read as one row (:mod:`gbconnect.db.rowreader`; on
PostgreSQL, the reads of one event-loop turn as one statement). This module gives the
other routes a third party calls the same path, each as a select read with the token
and a render that checks the grant on the row and writes the same bytes as the
session path (:mod:`gbconnect.api.usage` and the modules it names; a test holds the
documents byte-identical):

* the Subscription tree of a customer token (REQ.21 section 1; FB_1, FB_4, FB_15):
  the UsagePoint, MeterReading and UsageSummary entries, and the IntervalBlock feed
  when it holds at most :data:`FEED_ROWS` blocks (one day, a month: what a poller
  asks for), read as a second statement after the token's row; a larger feed is
  streamed by the session path;
* a ReadingType (FB_4) for a customer token, its visibility read as a second
  statement; the admin's token takes the session path;
* the Authorization (GBA FND004) for a client token; the admin's takes the session
  path;
* a CustomerAccount (customer.xsd, FB_51) for a customer token.

Every refusal is the session path's: 404 for what the grant does not show or what
does not exist, alike.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, select

from gbconnect.api import documents, feeds
from gbconnect.api.feeds import root_paths, subscription_paths
from gbconnect.config import Settings
from gbconnect.customer import models as cm
from gbconnect.db.rowreader import RowReader, Rows
from gbconnect.oauth import models as om
from gbconnect.oauth.guard import Caller, NotFound, with_token
from gbconnect.oauth.scoping import Grant, grant_of_view, own_subscription
from gbconnect.registration import models as rm
from gbconnect.usage import models as um
from gbconnect.web.query import FeedQuery
from gbconnect.web.serving import Prepared, listed, single

#: The most blocks an IntervalBlock feed answers on the row path (a month of daily
#: blocks and more); a feed with more is streamed by the session path.
FEED_ROWS = 64
#: Bounds standing for "no bound" in the feed's statement (one statement for every
#: combination of published-min/max and updated-min/max).
_LOW, _HIGH = -(1 << 62), 1 << 62

_SUP = om.subscription_usage_point
_UP = um.UsagePoint.__table__
_LTP = um.LocalTimeParameters.__table__
_MR = um.MeterReading.__table__
_US = um.UsageSummary.__table__
_RT = um.ReadingType.__table__
_IB = um.IntervalBlock.__table__
_AUTH = om.Authorization.__table__
_SUB = om.Subscription.__table__
_APP = rm.ApplicationInformation.__table__
_ACCOUNT = cm.CustomerAccount.__table__
_AGREEMENT = cm.CustomerAgreement.__table__
_AUP = cm.agreement_usage_point


def _in_subscription(statement: Any) -> Any:
    """``statement`` (selecting from the usage point) limited to usage point ``up`` of
    Subscription ``sid``."""
    return statement.join(_SUP, _SUP.c.usage_point_id == _UP.c.id).where(
        _UP.c.id == bindparam("up"), _SUP.c.subscription_id == bindparam("sid")
    )


#: A usage point of a Subscription, and whether its LocalTimeParameters name a zone.
USAGE_POINT = with_token(
    _in_subscription(
        select(*_UP.c, _LTP.c.tz_offset.label("zone_offset")).select_from(
            _UP.outerjoin(_LTP, _LTP.c.id == _UP.c.local_time_parameters_id)
        )
    )
)
#: A MeterReading of a usage point of a Subscription, with the point's commodity.
METER_READING = with_token(
    _in_subscription(
        select(*_MR.c, _UP.c.service_kind)
        .select_from(_MR.join(_UP, _UP.c.id == _MR.c.usage_point_id))
        .where(_MR.c.id == bindparam("mr"))
    )
)
#: A UsageSummary of a usage point of a Subscription, with the point's commodity.
USAGE_SUMMARY = with_token(
    _in_subscription(
        select(*_US.c, _UP.c.service_kind)
        .select_from(_US.join(_UP, _UP.c.id == _US.c.usage_point_id))
        .where(_US.c.id == bindparam("us"))
    )
)
#: The blocks of a MeterReading in a window, by start (the session path's
#: :func:`gbconnect.api.feeds.block_rows` as one statement), at most FEED_ROWS + 1.
BLOCKS = Rows(
    select(_IB.c.id, _IB.c.start, _IB.c.duration, _IB.c.data, _IB.c.published, _IB.c.updated)
    .where(
        _IB.c.meter_reading_id == bindparam("mr"),
        _IB.c.start + _IB.c.duration > bindparam("lo"),
        _IB.c.start < bindparam("hi"),
        _IB.c.updated >= bindparam("updated_min"),
        _IB.c.updated <= bindparam("updated_max"),
    )
    .order_by(_IB.c.start)
    .limit(FEED_ROWS + 1)
)
#: A ReadingType (its visibility depends on the token's Subscription: read next).
READING_TYPE = with_token(select(*_RT.c).where(_RT.c.id == bindparam("rt")))
#: The commodities of the usage points of Subscription ``sid`` whose MeterReadings
#: have ReadingType ``rt``.
READING_TYPE_KINDS = Rows(
    select(_UP.c.service_kind)
    .distinct()
    .select_from(
        _MR.join(_UP, _UP.c.id == _MR.c.usage_point_id).join(
            _SUP, _SUP.c.usage_point_id == _UP.c.id
        )
    )
    .where(_MR.c.reading_type_id == bindparam("rt"), _SUP.c.subscription_id == bindparam("sid"))
)
#: An Authorization with its third party's Bulk id and its Subscription (columns
#: prefixed ``auth_``: the token's row has a ``token_class`` of its own).
AUTHORIZATION = with_token(
    select(
        *(c.label(f"auth_{c.key}") for c in _AUTH.c),
        _APP.c.bulk_id.label("auth_bulk_id"),
        _SUB.c.id.label("auth_subscription_id"),
    )
    .select_from(
        _AUTH.join(_APP, _APP.c.id == _AUTH.c.application_id).outerjoin(
            _SUB, _SUB.c.authorization_id == _AUTH.c.id
        )
    )
    .where(_AUTH.c.id == bindparam("auth"))
)
#: A CustomerAccount.
CUSTOMER_ACCOUNT = with_token(select(*_ACCOUNT.c).where(_ACCOUNT.c.id == bindparam("rid")))
#: The commodities of the usage points of Subscription ``sid`` that the agreements of
#: CustomerAccount ``rid`` cover.
ACCOUNT_KINDS = Rows(
    select(_UP.c.service_kind)
    .distinct()
    .select_from(
        _AGREEMENT.join(_AUP, _AUP.c.customer_agreement_id == _AGREEMENT.c.id)
        .join(_SUP, _SUP.c.usage_point_id == _AUP.c.usage_point_id)
        .join(_UP, _UP.c.id == _AUP.c.usage_point_id)
    )
    .where(
        _AGREEMENT.c.customer_account_id == bindparam("rid"),
        _SUP.c.subscription_id == bindparam("sid"),
    )
)


def _point_grant(caller: Caller, sid: int, row: Any) -> Grant:
    """The grant over the row's usage point: 404 unless the row was found and the
    grant shows its commodity (:func:`gbconnect.api.usage.point_in`)."""
    grant = own_subscription(caller, sid)
    if row.id is None or not grant.service(row.service_kind):
        raise NotFound()
    return grant


def usage_point(settings: Settings, sid: int, caller: Caller, row: Any) -> Prepared:
    grant = own_subscription(caller, sid)
    if row.id is None or not grant.service(row.service_kind):
        raise NotFound()
    paths = subscription_paths(settings, sid)
    text = feeds.usage_point_entry(row, grant, paths, zone_known=row.zone_offset is not None)
    return single(text, row.updated)


def meter_reading(settings: Settings, sid: int, upid: int, caller: Caller, row: Any) -> Prepared:
    grant = _point_grant(caller, sid, row)
    if not grant.intervals:
        raise NotFound()
    text = feeds.meter_reading_entry(row, upid, subscription_paths(settings, sid))
    return single(text, row.updated)


def usage_summary(
    settings: Settings, sid: int, upid: int, caller: Caller, row: Any, query: FeedQuery
) -> Prepared:
    grant = _point_grant(caller, sid, row)
    lo, hi = feeds.window(grant, query)
    if not grant.summaries or not feeds.in_window(row.billing_period_start, lo, hi):
        raise NotFound()
    text = feeds.summary_entry(row, upid, grant, subscription_paths(settings, sid))
    return single(text, row.updated)


async def block_feed(
    reader: RowReader,
    settings: Settings,
    sid: int,
    upid: int,
    caller: Caller,
    row: Any,
    query: FeedQuery,
) -> Prepared:
    """The IntervalBlock feed (QRY001: published-min/max select readings by their own
    time period), its MeterReading checked with the token's row; a Prepared without
    a body when it holds more than FEED_ROWS blocks (the session path streams it)."""
    grant = _point_grant(caller, sid, row)
    if not grant.intervals:
        raise NotFound()
    lo, hi = feeds.window(grant, query)
    blocks = await reader.all(
        BLOCKS,
        {
            "mr": row.id,
            "lo": _LOW if lo is None else lo,
            "hi": _HIGH if hi is None else hi,
            "updated_min": _LOW if query.updated_min is None else query.updated_min,
            "updated_max": _HIGH if query.updated_max is None else query.updated_max,
        },
    )
    if len(blocks) > FEED_ROWS:
        return Prepared(lambda session: iter(()))
    paths = subscription_paths(settings, sid)
    texts = [
        t
        for t in (
            feeds.block_entry(b, upid, row.id, grant, paths, lo, hi)  # type: ignore[arg-type]
            for b in blocks
        )
        if t is not None
    ]
    feed = listed(paths.blocks(upid, row.id), "IntervalBlock", texts, query, row.updated)
    return Prepared(feed.run, feed.modified, body="".join(feed.run(None)).encode())  # type: ignore[arg-type]


async def reading_type(reader: RowReader, settings: Settings, caller: Caller, row: Any) -> Prepared:
    """A ReadingType a customer token sees: one of a MeterReading of a usage point of
    its Subscription whose commodity the grant shows (the session path's
    :func:`gbconnect.api.usage.visible_reading_types`)."""
    view = caller.grant
    if row.id is None or view is None or view.subscription_id is None:
        raise NotFound()
    grant = grant_of_view(view)
    if not grant.intervals:
        raise NotFound()
    kinds = await reader.all(READING_TYPE_KINDS, {"rt": row.id, "sid": view.subscription_id})
    if not any(grant.service(k.service_kind) for k in kinds):
        raise NotFound()
    return single(feeds.reading_type_entry(row, grant, root_paths(settings)), row.updated)


def authorization(settings: Settings, caller: Caller, row: Any) -> Prepared:
    """The Authorization of a client token's own third party (GBA FND004)."""
    if row.auth_id is None or row.auth_application_id != caller.application_id:
        raise NotFound()
    auth = SimpleNamespace(**{c.key: getattr(row, f"auth_{c.key}") for c in _AUTH.c})
    text = documents.authorization_entry(
        settings,
        auth,
        bulk_id=row.auth_bulk_id if row.auth_token_class == om.CLIENT else None,
        subscription_id=row.auth_subscription_id,
    )
    return single(text, row.auth_updated)


async def customer_account(
    reader: RowReader, sid: int, caller: Caller, row: Any, write: Callable[[Any], str]
) -> Prepared:
    """A CustomerAccount behind Subscription ``sid``, its entry by ``write``: one
    whose agreements cover a usage point of the Subscription whose commodity the grant
    shows, under a retail-customer scope (:func:`gbconnect.api.customer.records_of`)."""
    grant = own_subscription(caller, sid)
    if not grant.customer_data or row.id is None:
        raise NotFound()
    kinds = await reader.all(ACCOUNT_KINDS, {"rid": row.id, "sid": sid})
    if not any(grant.service(k.service_kind) for k in kinds):
        raise NotFound()
    return single(write(row), row.updated)
