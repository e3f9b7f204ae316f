"""The one request path and the route declarations, part by part: plans called without
a web server, the ETag policy, who may call each route, and the error tree."""

from __future__ import annotations

import pytest
from lxml import etree
from starlette.requests import Request

from gbconnect.api import thirdparty, usage
from gbconnect.api.export import ExportError
from gbconnect.api.routes import build_router
from gbconnect.db.rowreader import DatabaseUnavailable
from gbconnect.errors import AccessError, InputError, UnavailableError
from gbconnect.oauth.guard import AccessDenied, Caller, NotFound
from gbconnect.usage.models import UsagePoint
from gbconnect.web.access import (
    ADMIN,
    CLIENT,
    CUSTOMER,
    REGISTRATION,
    UPLOAD,
    EspiRoute,
    EspiRoutes,
    allowed,
)
from gbconnect.web.errors import api_error
from gbconnect.web.query import FeedQuery, QueryError, parse_query
from gbconnect.web.serving import Call, document, validators, whole
from tests.factories.world import World


def _request(path: str = "/espi/x", query: bytes = b"") -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": path, "query_string": query, "headers": []}
    )


def test_every_espi_route_declares_its_token_classes(world: World) -> None:
    *routes, catch_all = build_router(world.settings).routes
    assert routes and all(isinstance(r, EspiRoute) for r in routes)
    assert not isinstance(catch_all, EspiRoute) and catch_all.path.endswith("/{rest:path}")
    classes = {CUSTOMER, CLIENT, REGISTRATION, ADMIN, UPLOAD}
    assert all(r.allow and r.allow <= classes for r in routes if isinstance(r, EspiRoute))
    first = routes[0]
    assert isinstance(first, EspiRoute)
    assert first.path.endswith("/IntervalBlock/{ibid:espiid}") and first.allow == {CUSTOMER}
    assert allowed(_request()) == frozenset()  # no route matched: no class admitted


def test_a_route_must_admit_a_token_class() -> None:
    with pytest.raises(ValueError, match="at least one token class"):
        EspiRoutes().add("GET", "/Nothing", lambda: None, allow=())


def test_plans_answer_without_a_web_server(world: World) -> None:
    with world.factory() as session:
        caller = Caller(0, ADMIN, None, None, session)
        call = Call(session, caller, FeedQuery(max_results=1), world.settings)
        point = session.get(UsagePoint, world.alice_points[0])
        assert point is not None and point.retail_customer_id is not None
        prepared = usage.customer_batch(call, point.retail_customer_id)
        assert prepared.modified is not None and prepared.body is None
        doc = etree.fromstring("".join(prepared(session)).encode())
        entries = doc.findall("{http://www.w3.org/2005/Atom}entry")
        assert len(entries) == 1  # max-results pages the entries of a Batch feed
        with pytest.raises(NotFound):
            usage.customer_batch(call, point.retail_customer_id, upid=world.bob_points[0])
        with pytest.raises(NotFound):
            usage.customer_batch(call, 10**9)


AUTH = b'<Authorization xmlns="http://naesb.org/espi"><status>%d</status></Authorization>'


def test_request_bodies_are_read_by_name() -> None:
    assert thirdparty.status_of(AUTH % 0) == 0
    assert thirdparty.status_of(AUTH % 9) is None
    assert thirdparty.status_of(b"<notxml") is None
    fields = thirdparty.application_fields(
        b'<ApplicationInformation xmlns="http://naesb.org/espi"><client_name>A</client_name>'
        b"<redirect_uri>https://a/1</redirect_uri><redirect_uri>https://a/2</redirect_uri>"
        b"</ApplicationInformation>"
    )
    assert fields == {"client_name": ["A"], "redirect_uri": ["https://a/1", "https://a/2"]}


def test_one_etag_policy() -> None:
    """URL, modified time and grant, plus the body of a small document in memory."""
    request = _request()
    one, other = whole("<a>1</a>", 100), whole("<a>2</a>", 100)
    one.grant_key = other.grant_key = "A:1:7:100:FB=4"
    tag = validators(request, one)["ETag"]
    assert tag.startswith('W/"') and validators(request, one)["ETag"] == tag
    assert validators(request, other)["ETag"] != tag  # same second, another body
    assert validators(_request(query=b"max-results=1"), one)["ETag"] != tag
    one.grant_key = "A:1:7:101:FB=4"
    assert validators(request, one)["ETag"] != tag  # the grant changed
    feed = document("https://x/espi/f", "f", lambda s: iter(()), 100)
    assert validators(request, feed)["Last-Modified"] == "Thu, 01 Jan 1970 00:01:40 GMT"
    assert validators(request, whole("<a/>")) == {}  # no modified time: no validators


def test_errors_are_leaves_of_the_tree() -> None:
    denied = AccessDenied(401, None, "an access token is required")
    assert isinstance(denied, AccessError) and denied.status == 401
    assert (
        denied.error == "unauthorized"
        and "error=" not in api_error(denied).headers["www-authenticate"]
    )
    assert NotFound().status == 404 and NotFound().description == "no such resource"
    with pytest.raises(QueryError, match="max-results") as bad:
        parse_query(_request(query=b"max-results=x").query_params)
    assert isinstance(bad.value, InputError) and isinstance(bad.value, ValueError)
    unavailable = DatabaseUnavailable("down")
    assert isinstance(unavailable, UnavailableError) and unavailable.status == 503
    answer = api_error(DatabaseUnavailable("connection to 10.0.0.5:5432 refused"))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert b"10.0.0.5" not in answer.body and b"the database is unavailable" in answer.body
    assert issubclass(ExportError, InputError)
