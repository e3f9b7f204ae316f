"""Browser-facing protections: the session's customer, CSRF tokens, login throttling.

- Sessions are Starlette's signed cookie (itsdangerous, keyed by GBCONNECT_SECRET_KEY),
  ``HttpOnly``, ``SameSite=Lax``, ``Secure`` in production.
- Every form carries a per-session CSRF token compared in constant time (OWASP
  synchronizer token pattern).
- Failed logins are counted per username and per client address in a sliding window;
  past the limit the login answers 429 until the window passes.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque

from sqlalchemy.orm import Session
from starlette.requests import Request

from gbconnect.customer.models import RetailCustomer

SESSION_CUSTOMER = "customer_id"
SESSION_CSRF = "csrf"


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


def current_customer(request: Request, session: Session) -> RetailCustomer | None:
    customer_id = request.session.get(SESSION_CUSTOMER)
    if not isinstance(customer_id, int):
        return None
    return session.get(RetailCustomer, customer_id)


def log_in(request: Request, customer: RetailCustomer) -> None:
    """Start a fresh session for ``customer`` (a new CSRF token against fixation)."""
    request.session.clear()
    request.session[SESSION_CUSTOMER] = customer.id
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a local path: no scheme, no host, no ``//`` (open-redirect guard)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


class LoginThrottle:
    """Failures per key in a sliding window (one process; behind several processes
    each counts its own, so the limit is per process)."""

    def __init__(self, attempts: int, window: int) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, at: float) -> deque[float]:
        q = self._failures[key]
        while q and q[0] <= at - self.window:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> bool:
        at = time.monotonic()
        with self._lock:
            return any(len(self._prune(k, at)) >= self.attempts for k in keys)

    def failed(self, *keys: str) -> None:
        at = time.monotonic()
        with self._lock:
            for k in keys:
                self._prune(k, at).append(at)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
