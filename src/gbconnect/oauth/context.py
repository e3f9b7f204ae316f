"""The database session of an Authlib call, and running such a call.

Authlib's core is synchronous and reaches our store through hooks that take no
session argument; :func:`in_session` runs a call in a worker thread's session and
makes it :func:`current_session` for the hooks (DESIGN.md: "read the body on the
event loop, run Authlib in the thread pool").
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

CURRENT_SESSION: ContextVar[Session] = ContextVar("gbconnect_oauth_session")


def current_session() -> Session:
    """The session of the Authlib call in progress."""
    return CURRENT_SESSION.get()


def in_session(sessions: sessionmaker[Session], fn: Callable[[Session], T]) -> Callable[[], T]:
    """``fn`` run with a new session current for Authlib, committing what it did when
    it returns (a failed code exchange may still have revoked tokens, RFC 6749 section
    4.1.2); an exception rolls everything back."""

    def run() -> T:
        with sessions() as session:
            marker = CURRENT_SESSION.set(session)
            try:
                result = fn(session)
                session.commit()
                return result
            finally:
                CURRENT_SESSION.reset(marker)

    return run


__all__ = ["CURRENT_SESSION", "current_session", "in_session"]
