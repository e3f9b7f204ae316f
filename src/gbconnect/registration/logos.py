"""Third parties' logos, kept and served by the utility.

The customer's list of companies shows each one's logo (STANDARD.md section 7: the
list shows what the third party's ApplicationInformation says of it), and the pages
load nothing from another server (their ``Content-Security-Policy`` allows images
from ``'self'`` only). So a logo is copied here once and served from
``/companies/{id}/logo`` (:mod:`gbconnect.portal.share`):

- fetched from the ApplicationInformation's ``logo_uri`` by the worker
  (:func:`refresh_logos`, hourly; a logo older than :data:`MAX_AGE` or whose
  ``logo_uri`` changed is fetched again), or by ``gbconnect thirdparty logo --fetch``;
- or set by the utility from a file: ``gbconnect thirdparty logo CLIENT_ID --file F``.

Only PNG, JPEG, GIF and WebP are kept, recognised by their bytes (not by the
``Content-Type`` the other server sends), at most :data:`MAX_BYTES`; SVG is refused (it
can hold script). Fetching goes to the address that was checked, as notifications do
(:func:`gbconnect.notify.delivery.resolve_notify_uri`: no private address outside
development, no redirect followed), with short timeouts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.config import Settings
from gbconnect.db import session_scope
from gbconnect.notify.delivery import NotifyUriError, resolve_notify_uri
from gbconnect.registration import models as rm

#: The largest logo kept, in bytes.
MAX_BYTES = 256 * 1024
#: Seconds before a fetched logo is fetched again (a failed fetch is tried again too).
MAX_AGE = 86400.0
#: A file set by hand is never replaced by a fetch.
FROM_FILE = "file"

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class LogoError(ValueError):
    """A logo that cannot be kept, with the reason."""


@dataclass(frozen=True)
class Logo:
    data: bytes
    content_type: str


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` from its first bytes; None when it is not one that
    is kept."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check(data: bytes) -> Logo:
    """``data`` as a logo (raises :class:`LogoError` naming what is wrong)."""
    if not data:
        raise LogoError("the logo is empty")
    if len(data) > MAX_BYTES:
        raise LogoError(f"the logo is larger than {MAX_BYTES // 1024} KB")
    kind = sniff(data)
    if kind is None:
        raise LogoError("the logo is not a PNG, JPEG, GIF or WebP image")
    return Logo(data, kind)


def fetch(uri: str, allow_private: bool, timeout: float = 10.0) -> Logo:
    """GET ``uri`` and check what it holds (raises :class:`LogoError`)."""
    try:
        target = resolve_notify_uri(uri, allow_private)
    except NotifyUriError as exc:
        raise LogoError(str(exc).replace("notify URI", "logo URI")) from None
    limit = httpx.Timeout(timeout, connect=min(timeout, 5.0))
    body = bytearray()
    try:
        with (
            httpx.Client(follow_redirects=False, trust_env=False) as http,
            http.stream(
                "GET",
                target.url,
                headers={"Host": target.host, "Accept": "image/png,image/jpeg,image/*;q=0.8"},
                timeout=limit,
                extensions={"sni_hostname": target.sni} if target.sni else None,
            ) as response,
        ):
            if response.status_code != 200:
                raise LogoError(f"the logo URI answered HTTP {response.status_code}")
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise LogoError(f"the logo is larger than {MAX_BYTES // 1024} KB")
    except httpx.HTTPError as exc:
        raise LogoError(f"the logo could not be fetched ({type(exc).__name__})") from None
    return check(bytes(body))


def store(
    session: Session,
    app: rm.ApplicationInformation,
    logo: Logo | None,
    source: str,
    error: object | None = None,
) -> rm.ApplicationLogo:
    """Keep ``logo`` (or the failure ``error``) for ``app``; a failed fetch keeps the
    logo fetched before."""
    row = session.get(rm.ApplicationLogo, app.id)
    if row is None:
        row = rm.ApplicationLogo(application_id=app.id, source=source, checked_at=0.0)
        session.add(row)
    row.checked_at = time.time()
    row.error = None if error is None else str(error)[:512]
    if logo is not None:
        row.data, row.content_type, row.source = logo.data, logo.content_type, source
    elif row.data is None:
        row.source = source
    session.flush()
    return row


def due(session: Session, at: float) -> list[rm.ApplicationInformation]:
    """Approved applications with a ``logo_uri`` whose logo is missing, stale, or from
    another URI (a logo set from a file is left alone)."""
    stale = at - MAX_AGE
    rows = session.execute(
        select(rm.ApplicationInformation, rm.ApplicationLogo)
        .outerjoin(
            rm.ApplicationLogo,
            rm.ApplicationLogo.application_id == rm.ApplicationInformation.id,
        )
        .where(
            rm.ApplicationInformation.logo_uri.is_not(None),
            rm.ApplicationInformation.data_custodian_status == rm.PRODUCTION,
            or_(
                rm.ApplicationLogo.application_id.is_(None),
                rm.ApplicationLogo.checked_at < stale,
                rm.ApplicationLogo.source != rm.ApplicationInformation.logo_uri,
            ),
        )
    ).all()
    return [app for app, logo in rows if logo is None or logo.source != FROM_FILE]


def refresh_logos(factory: sessionmaker[Session], settings: Settings, now: float) -> int:
    """Fetch every logo :func:`due` (a worker hook); how many were tried. Each fetch
    runs outside any transaction and is stored in one of its own."""
    with session_scope(factory) as session:
        todo = [(app.id, app.logo_uri or "") for app in due(session, now)]
    for app_id, uri in todo:
        logo: Logo | None = None
        error: Exception | None = None
        try:
            logo = fetch(uri, settings.notify_private_allowed)
        except LogoError as exc:
            error = exc
        with session_scope(factory) as session:
            app = session.get(rm.ApplicationInformation, app_id)
            if app is not None and app.logo_uri == uri:
                store(session, app, logo, uri, error)
    return len(todo)


__all__ = [
    "FROM_FILE",
    "MAX_AGE",
    "MAX_BYTES",
    "Logo",
    "LogoError",
    "check",
    "due",
    "fetch",
    "refresh_logos",
    "sniff",
    "store",
]
