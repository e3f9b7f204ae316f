"""The sign-in throttle and the client's address (gbconnect.web.security): a guesser
is slowed, the customer is never locked out, X-Forwarded-For counts only from a
trusted proxy."""

from __future__ import annotations

from ipaddress import ip_network

from starlette.requests import Request

from gbconnect.web.security import LoginThrottle, client_address

PROXIES = [ip_network("10.0.0.0/8"), ip_network("127.0.0.1")]


def request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "headers": headers, "client": (peer, 1234)})


def test_forwarded_for_is_ignored_without_trusted_proxies() -> None:
    assert client_address(request("127.0.0.1", "6.6.6.6"), []) == "127.0.0.1"


def test_forwarded_for_is_ignored_from_an_untrusted_peer() -> None:
    assert client_address(request("203.0.113.9", "6.6.6.6"), PROXIES) == "203.0.113.9"


def test_forwarded_for_names_the_address_before_the_first_trusted_hop() -> None:
    # The client wrote "6.6.6.6" itself; the proxies appended 198.51.100.7 and 10.1.1.1.
    forged = request("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.1.1")
    assert client_address(forged, PROXIES) == "198.51.100.7"
    assert client_address(request("10.2.2.2", "198.51.100.7"), PROXIES) == "198.51.100.7"
    assert client_address(request("10.2.2.2", "junk, 10.3.3.3"), PROXIES) == "10.3.3.3"


def test_wrong_passwords_lock_only_the_pair_not_the_customer() -> None:
    throttle = LoginThrottle(attempts=5, window=900, delay_unit=0.01, max_delay=0.05)
    for _ in range(5):
        throttle.failed("alice", "6.6.6.6")
    assert throttle.blocked("alice", "6.6.6.6")
    assert not throttle.blocked("Alice", "198.51.100.7")
    assert not throttle.blocked("bob", "6.6.6.6")


def test_an_address_or_username_past_the_limit_is_slowed_with_growing_delays() -> None:
    throttle = LoginThrottle(attempts=3, window=900, delay_unit=1.0, max_delay=8.0)
    for n in range(3):
        throttle.failed(f"user{n}", "6.6.6.6")
    first = throttle.delay("someone", "6.6.6.6")
    throttle.failed("user9", "6.6.6.6")
    second = throttle.delay("someone", "6.6.6.6")
    assert 0 < first < second
    for _ in range(20):
        throttle.failed("user9", "6.6.6.6")
    assert throttle.delay("someone", "6.6.6.6") == 8.0
    assert throttle.delay("someone", "198.51.100.7") == 0.0


def test_success_clears_its_pair_only() -> None:
    throttle = LoginThrottle(attempts=2, window=900, delay_unit=1.0)
    throttle.failed("mallory", "6.6.6.6")
    throttle.failed("mallory", "6.6.6.6")
    throttle.succeeded("mallory", "6.6.6.6")
    assert not throttle.blocked("mallory", "6.6.6.6")
    assert throttle.delay("alice", "6.6.6.6") > 0
