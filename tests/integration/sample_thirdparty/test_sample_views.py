"""The sample third party's error paths (gbconnect.sample_thirdparty.views), the app
in process (Starlette's TestClient) against a real ``gbconnect serve`` on SQLite:
forged or missing state (RFC 6749 section 10.12), the customer declining (section
4.1.2.1 ``access_denied``), missing parameters, a code the utility refuses, a portal
link for another application, an unreachable utility, and notifications that are
unsigned, forged or not a BatchList (REQ.21 FB_39)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from gbconnect.notify.signing import signature_headers
from gbconnect.sample_thirdparty.config import SampleConfig
from gbconnect.sample_thirdparty.views import make_app
from tests.clirun import run_cli
from tests.serverproc import free_port, serving

SAMPLE = "http://127.0.0.1:8001"
KEY = "a notification signing key of the test"
BATCH_LIST = (
    b'<BatchList xmlns="http://naesb.org/espi"><resources>'
    b"http://127.0.0.1:1/DataCustodian/espi/1_1/resource/Batch/Bulk/1</resources></BatchList>"
)


@pytest.fixture(scope="module")
def utility(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """A served utility with the sample app registered: (base, client id, secret)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('utility') / 'u.db'}"
    assert run_cli(url, "init").returncode == 0
    done = run_cli(
        url,
        "thirdparty",
        "register",
        "--name",
        "Sample Energy Insights",
        "--redirect-uri",
        f"{SAMPLE}/callback",
        "--approve",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    registered = json.loads(done.stdout)
    with serving(url) as served:
        yield served.base, registered["client_id"], registered["client_secret"]


def _client(utility: str, client_id: str, secret: str, data_dir: Path) -> TestClient:
    config = SampleConfig(
        data_custodian=utility,
        client_id=client_id,
        client_secret=secret,
        public_url=SAMPLE,
        data_dir=data_dir,
        notify_secret=KEY,
    )
    return TestClient(make_app(config), base_url=SAMPLE, follow_redirects=False)


@pytest.fixture
def sample(utility: tuple[str, str, str], tmp_path: Path) -> Iterator[TestClient]:
    with _client(*utility, tmp_path) as client:
        yield client


def _started(sample: TestClient) -> dict[str, str]:
    """``/connect``: the authorization request's parameters."""
    r = sample.get("/connect")
    assert r.status_code == 303
    return {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}


def test_connect_asks_with_pkce_state_and_the_utility_scope(
    sample: TestClient, utility: tuple[str, str, str]
) -> None:
    asked = _started(sample)
    assert asked["client_id"] == utility[1]
    assert asked["redirect_uri"] == f"{SAMPLE}/callback"
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["state"] and asked["scope"].startswith("FB=")


def test_callback_without_a_started_connection_is_400(sample: TestClient) -> None:
    r = sample.get("/callback", params={"state": "x", "code": "y"})
    assert r.status_code == 400
    assert "could not be verified" in r.text


def test_callback_with_a_forged_state_is_400(sample: TestClient) -> None:
    _started(sample)
    r = sample.get("/callback", params={"state": "forged", "code": "y"})
    assert r.status_code == 400 and "missing or wrong state" in r.text
    # The real state is spent too: a second try with it starts over.
    assert sample.get("/callback", params={"state": "forged"}).status_code == 400


def test_callback_without_state_is_400(sample: TestClient) -> None:
    _started(sample)
    assert sample.get("/callback", params={"code": "y"}).status_code == 400


def test_oad002_customer_declines_friendly_page(sample: TestClient) -> None:
    state = _started(sample)["state"]
    r = sample.get("/callback", params={"state": state, "error": "access_denied"})
    assert r.status_code == 200
    assert "You declined to share your data" in r.text


def test_callback_other_error_is_400_naming_it(sample: TestClient) -> None:
    state = _started(sample)["state"]
    r = sample.get("/callback", params={"state": state, "error": "invalid_scope"})
    assert r.status_code == 400 and "invalid_scope" in r.text


def test_callback_without_code_is_400(sample: TestClient) -> None:
    state = _started(sample)["state"]
    r = sample.get("/callback", params={"state": state})
    assert r.status_code == 400 and "no authorization code" in r.text


def test_callback_with_a_code_the_utility_refuses_is_400(sample: TestClient) -> None:
    state = _started(sample)["state"]
    r = sample.get("/callback", params={"state": state, "code": "not-a-code"})
    assert r.status_code == 400
    assert "invalid_grant" in r.text
    assert sample.get("/usage").text.count("not-connected") == 1


def test_start_with_the_utility_scope(sample: TestClient, utility: tuple[str, str, str]) -> None:
    scope = "FB=1_3_4_5_13_14;IntervalDuration=900;BlockDuration=daily;HistoryLength=3"
    r = sample.get("/start", params={"scope": scope, "ThirdPartyID": utility[1]})
    assert r.status_code == 303
    asked = parse_qs(urlsplit(r.headers["location"]).query)
    assert asked["scope"] == [scope]


def test_start_for_another_application_is_400(sample: TestClient) -> None:
    r = sample.get("/start", params={"scope": "FB=1_3", "ThirdPartyID": "someone-else"})
    assert r.status_code == 400 and "another application" in r.text


@pytest.mark.parametrize("scope", ["", "FB=1 3", "FB=\x01", "F" * 2001])
def test_start_with_a_malformed_scope_is_400(sample: TestClient, scope: str) -> None:
    r = sample.get("/start", params={"scope": scope})
    assert r.status_code == 400 and "not valid" in r.text


def test_connect_to_an_unreachable_utility_is_502(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with _client(dead, "id", "secret", tmp_path) as client:
        r = client.get("/connect")
    assert r.status_code == 502 and "cannot be reached" in r.text
    assert "secret" not in r.text


def test_usage_without_connection_says_so(sample: TestClient) -> None:
    r = sample.get("/usage")
    assert r.status_code == 200 and 'id="not-connected"' in r.text


def test_disconnect_only_by_post_and_without_connection_goes_home(sample: TestClient) -> None:
    assert sample.get("/disconnect").status_code == 405
    r = sample.post("/disconnect")
    assert r.status_code == 303 and r.headers["location"] == "/"


def _signed(body: bytes, key: str = KEY, at: int | None = None) -> dict[str, str]:
    return signature_headers(key.encode(), body, at or int(time.time()))


def test_notification_with_a_forged_signature_is_401(sample: TestClient) -> None:
    r = sample.post("/notify", content=BATCH_LIST, headers=_signed(BATCH_LIST, "not the key"))
    assert r.status_code == 401
    assert 'id="none"' in sample.get("/notifications").text


def test_notification_unsigned_is_401(sample: TestClient) -> None:
    assert sample.post("/notify", content=BATCH_LIST).status_code == 401


def test_notification_replayed_later_is_401(sample: TestClient) -> None:
    old = _signed(BATCH_LIST, at=int(time.time()) - 3600)
    assert sample.post("/notify", content=BATCH_LIST, headers=old).status_code == 401


def test_notification_not_a_batch_list_is_400(sample: TestClient) -> None:
    body = b"<feed xmlns='http://www.w3.org/2005/Atom'/>"
    assert sample.post("/notify", content=body, headers=_signed(body)).status_code == 400


def test_notification_get_is_405(sample: TestClient) -> None:
    assert sample.get("/notify").status_code == 405


def test_a_signed_notification_is_logged_and_its_failure_shown(sample: TestClient) -> None:
    r = sample.post("/notify", content=BATCH_LIST, headers=_signed(BATCH_LIST))
    assert r.status_code == 200
    deadline = time.monotonic() + 30
    while "received; fetching" in (page := sample.get("/notifications").text):
        assert time.monotonic() < deadline, "the notification was never handled"
        time.sleep(0.1)
    # The named Bulk is at a dead address: the failure is a sentence, not a traceback.
    assert "Batch/Bulk/1" in page
    assert "Traceback" not in page


def _as_connected(sample: TestClient, utility: str) -> str:
    """This browser connected, with tokens the utility never issued; the session id
    (Starlette's session cookie is signed, not encrypted: its first part is base64 JSON)."""
    sample.get("/connect")
    data = sample.cookies["sample_session"].split(".")[0]
    sid = str(json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))["sid"])
    tokens = {
        "access_token": "not-issued",
        "token_type": "Bearer",
        "expires_at": time.time() + 3600,
        "refresh_token": "not-issued-either",
        "scope": "FB=1_3_4_5_13_14",
        "resource_uri": f"{utility}/DataCustodian/espi/1_1/resource/Batch/Subscription/1",
        "authorization_uri": None,
        "customer_resource_uri": None,
        "raw": {},
    }
    store = sample.app.state.sample.store  # type: ignore[attr-defined]
    store.save_tokens(sid, tokens, "1")
    return sid


def test_usage_with_tokens_the_utility_refuses_says_so(
    sample: TestClient, utility: tuple[str, str, str]
) -> None:
    _as_connected(sample, utility[0])
    r = sample.get("/usage")
    assert r.status_code == 200
    assert 'id="notice"' in r.text and "no longer lets us read this" in r.text
    assert "not-issued" not in r.text


def test_disconnect_revokes_at_the_utility_and_forgets(
    sample: TestClient, utility: tuple[str, str, str]
) -> None:
    sid = _as_connected(sample, utility[0])
    r = sample.post("/disconnect")
    assert r.status_code == 200 and "tokens are revoked" in r.text
    assert sample.app.state.sample.store.tokens(sid) is None  # type: ignore[attr-defined]
    assert 'id="not-connected"' in sample.get("/usage").text


def test_disconnect_when_the_utility_cannot_be_told(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with _client(dead, "id", "secret", tmp_path) as client:
        client.cookies.clear()
        sid = _as_connected(client, dead)
        r = client.post("/disconnect")
        assert r.status_code == 200 and "could not be told" in r.text
        assert client.app.state.sample.store.tokens(sid) is None  # type: ignore[attr-defined]


def test_a_callback_replayed_is_400(sample: TestClient) -> None:
    state = _started(sample)["state"]
    first = sample.get("/callback", params={"state": state, "error": "access_denied"})
    assert first.status_code == 200
    again = sample.get("/callback", params={"state": state, "error": "access_denied"})
    assert again.status_code == 400


def test_a_notification_repeated_under_its_idempotency_key_is_logged_once(
    sample: TestClient,
) -> None:
    headers = {**_signed(BATCH_LIST), "Idempotency-Key": "once"}
    assert sample.post("/notify", content=BATCH_LIST, headers=headers).status_code == 200
    assert sample.post("/notify", content=BATCH_LIST, headers=headers).status_code == 200
    assert sample.get("/notifications").text.count('class="notification"') == 1
