"""Browser-facing protections: the session's customer, CSRF tokens, login throttling.

- Sessions are Starlette's signed cookie (itsdangerous, keyed by GBCONNECT_SECRET_KEY),
  ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when the public base URL is https.
- Every form carries a per-session CSRF token compared in constant time (OWASP
  synchronizer token pattern).
- Failed logins slow the guesser, never lock the customer out (:class:`LoginThrottle`,
  counted in the database's rate-limit store, shared by every process);
  the client's address is the peer's, or ``X-Forwarded-For``'s from a trusted proxy
  only (:func:`client_address`).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from sqlalchemy.orm import Session
from starlette.requests import Request

from gbconnect.customer.models import RetailCustomer
from gbconnect.ratelimit.store import MemoryStore, Store
from gbconnect.ratelimit.throttle import Throttle

SESSION_CUSTOMER = "customer_id"
SESSION_CSRF = "csrf"
SESSION_EPOCH = "epoch"
#: Set in a guest session (gbconnect.portal.guest): account number and a texted code,
#: good for the consent page only.
SESSION_GUEST = "guest"
#: When the guest session began (epoch seconds), and the seconds it lasts.
SESSION_GUEST_AT = "guest_at"
GUEST_LIFETIME = 1800


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.session.get(SESSION_CSRF)
    if not isinstance(expected, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def current_customer(
    request: Request, session: Session, *, allow_guest: bool = False
) -> RetailCustomer | None:
    """The signed-in customer; None when signed out or when the session began before
    the account's last "sign out everywhere" or password reset (its epoch). A guest
    session counts only where ``allow_guest`` (the consent page), for
    :data:`GUEST_LIFETIME` seconds."""
    if is_guest(request) and not (allow_guest and _guest_fresh(request)):
        return None
    customer_id = request.session.get(SESSION_CUSTOMER)
    if not isinstance(customer_id, int):
        return None
    customer = session.get(RetailCustomer, customer_id)
    if customer is None or request.session.get(SESSION_EPOCH, 0) != customer.session_epoch:
        return None
    return customer


def is_guest(request: Request) -> bool:
    """The session is a guest's (gbconnect.portal.guest)."""
    return request.session.get(SESSION_GUEST) is True


def _guest_fresh(request: Request) -> bool:
    began = request.session.get(SESSION_GUEST_AT)
    return isinstance(began, int | float) and time.time() - began < GUEST_LIFETIME


def log_in(request: Request, customer: RetailCustomer) -> None:
    """Start a fresh session for ``customer`` (a new CSRF token against fixation)."""
    request.session.clear()
    request.session[SESSION_CUSTOMER] = customer.id
    request.session[SESSION_EPOCH] = customer.session_epoch
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a local path: no scheme, no host, no ``//`` (open-redirect guard)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _ip(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


def client_address(request: Request, trusted: Sequence[IPv4Network | IPv6Network]) -> str:
    """The client's address: the connection's peer, unless the peer is a trusted proxy
    (GBCONNECT_TRUSTED_PROXIES); then ``X-Forwarded-For`` is read from the right, hop
    by hop while the hop just read is trusted, and the client is the address just
    before the first trusted hop (RFC 7239 section 5.2's order: each proxy appends the
    address it received from). A value the client wrote itself is never believed."""
    address = request.client.host if request.client else ""
    if not trusted:
        return address or "unknown"
    hops = [h for v in request.headers.getlist("x-forwarded-for") for h in v.split(",")]
    for hop in reversed(hops):
        ip = _ip(address)
        if ip is None or not any(ip in net for net in trusted):
            break
        if _ip(hop) is None:
            break
        address = hop.strip()
    return address or "unknown"


class LoginThrottle:
    """Slows a password guesser without locking the customer out (OWASP Authentication
    Cheat Sheet, "Protect against automated attacks"). Failed sign-ins are counted in
    a sliding window of ``window`` seconds, per (username, address) pair, per address
    and per username:

    - a pair with ``attempts`` failures is refused (429) until the window passes: that
      address may not guess that account any more, while the customer signs in from
      anywhere else;
    - an address or a username past ``attempts`` failures (guessing many accounts
      from one address, or one account from many addresses) makes every further
      attempt from that address or for that username wait, the wait doubling with
      each failure up to ``max_delay`` seconds; the right password still works after
      the wait, for every customer behind that address;
    - a successful sign-in clears its pair only (a valid account of the guesser's own
      does not reset the address).

    The failures are counted in ``store`` (:mod:`gbconnect.ratelimit`; the
    application passes its database's store, so that every process on PostgreSQL
    shares the counts), in a sliding window of buckets
    (:mod:`gbconnect.ratelimit.windows`: a failure is forgotten between ``window``
    and ``1.1 * window`` seconds after it); without one, in this process's memory.
    Each call is a store call: on PostgreSQL, one statement (call from a worker
    thread).
    """

    def __init__(
        self,
        attempts: int,
        window: int,
        delay_unit: float = 0.5,
        max_delay: float = 8.0,
        store: Store | None = None,
    ) -> None:
        self.attempts = attempts
        self.window = window
        self.delay_unit = delay_unit
        self.max_delay = max_delay
        self._throttle = Throttle(store if store is not None else MemoryStore())

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str, str]:
        user = username.strip().lower()
        return f"login:pair:{user}\n{address}", f"login:ip:{address}", f"login:user:{user}"

    def blocked(self, username: str, address: str) -> bool:
        """The pair has used up its attempts in the window."""
        pair, _, _ = self._keys(username, address)
        return self._throttle.count(pair, self.window) >= self.attempts

    def delay(self, username: str, address: str) -> float:
        """Seconds this attempt waits before the password is checked."""
        _, ip, user = self._keys(username, address)
        counts = (self._throttle.count(k, self.window) for k in (ip, user))
        excess = max(counts) - self.attempts
        if excess < 0:
            return 0.0
        return float(min(self.delay_unit * 2 ** min(excess, 32), self.max_delay))

    def failed(self, username: str, address: str) -> None:
        for key in self._keys(username, address):
            self._throttle.add(key, self.window)

    def succeeded(self, username: str, address: str) -> None:
        pair, _, _ = self._keys(username, address)
        self._throttle.clear(pair)
