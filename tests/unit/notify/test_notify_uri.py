"""The notify URI guard refuses hosts of the Data Custodian's own network (SSRF) and
anything but an absolute http(s) URI (STANDARD.md section 3, GBA PSH001)."""

from __future__ import annotations

import pytest

from gbconnect.errors import InputError
from gbconnect.notify.delivery import NotifyUriError, check_notify_uri, outcome_of

PRIVATE = [
    "http://127.0.0.1:8080/notify",
    "http://localhost/notify",
    "https://10.1.2.3/notify",
    "http://192.168.0.10/notify",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]:9000/notify",
    "http://0.0.0.0/notify",
    "http://[::ffff:127.0.0.1]/notify",
]


@pytest.mark.parametrize("uri", PRIVATE)
def test_private_hosts_are_refused_without_allow_private(uri: str) -> None:
    with pytest.raises(NotifyUriError, match="only public hosts"):
        check_notify_uri(uri, allow_private=False)


@pytest.mark.parametrize("uri", PRIVATE)
def test_private_hosts_are_accepted_with_allow_private(uri: str) -> None:
    assert check_notify_uri(uri, allow_private=True) == uri


@pytest.mark.parametrize(
    "uri", ["ftp://93.184.216.34/notify", "/notify", "notify", "//93.184.216.34/x", "http:///x"]
)
@pytest.mark.parametrize("allow_private", [False, True])
def test_non_http_and_relative_uris_are_refused(uri: str, allow_private: bool) -> None:
    with pytest.raises(NotifyUriError):
        check_notify_uri(uri, allow_private=allow_private)


def test_a_public_ip_literal_is_accepted() -> None:
    uri = "https://93.184.216.34/espi/notify"
    assert check_notify_uri(uri, allow_private=False) == uri


def test_a_malformed_port_is_refused() -> None:
    with pytest.raises(NotifyUriError, match="malformed"):
        check_notify_uri("http://93.184.216.34:99999/notify", allow_private=False)


def test_the_error_is_an_input_error() -> None:
    with pytest.raises(InputError):
        check_notify_uri("ftp://x/", allow_private=False)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (301, "retry"),
        (302, "retry"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (503, "retry"),
        (400, "dead"),
        (401, "dead"),
        (404, "dead"),
        (410, "dead"),
    ],
)
def test_outcome_of_each_status(status: int, outcome: str) -> None:
    assert outcome_of(status) == outcome


def test_a_notify_uri_is_pinned_to_the_address_it_was_checked_at() -> None:
    """The POST connects to the address checked, with the registered Host and TLS
    server name, so a DNS answer that changes in between is not used (rebinding)."""
    from gbconnect.notify.delivery import resolve_notify_uri

    t = resolve_notify_uri("http://localhost:8123/notify?x=1", allow_private=True)
    assert t.url == "http://127.0.0.1:8123/notify?x=1"
    assert t.host == "localhost:8123" and t.sni is None
    t = resolve_notify_uri("https://localhost/n", allow_private=True)
    assert t.url == "https://127.0.0.1/n" and t.host == "localhost" and t.sni == "localhost"
    t = resolve_notify_uri("https://93.184.215.14:8443/n", allow_private=False)
    assert t.url == "https://93.184.215.14:8443/n" and t.sni is None
    t = resolve_notify_uri("http://[2606:4700::1]/n", allow_private=False)
    assert t.url == "http://[2606:4700::1]/n" and t.host == "[2606:4700::1]"


def test_a_pinned_uri_is_still_refused_when_private() -> None:
    from gbconnect.notify.delivery import resolve_notify_uri

    with pytest.raises(NotifyUriError, match="loopback"):
        resolve_notify_uri("http://localhost:8123/notify", allow_private=False)
    with pytest.raises(NotifyUriError, match="does not resolve"):
        resolve_notify_uri("http://no-such-host.invalid/n", allow_private=False)
