"""The sample third party's settings (``gbconnect sample-thirdparty`` options)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SampleConfig:
    """What the sample app needs to know.

    ``data_custodian`` is the utility's base URL (its RFC 8414 metadata is read from
    there); ``public_url`` is where browsers and the utility reach this app (the
    redirect URI is ``{public_url}/callback``, the notify URI ``{public_url}/notify``);
    ``notify_secret`` the HMAC key the utility signs notifications with (REQ.21 FB_39
    has none; gbconnect's ``gbconnect notify secret CLIENT_ID`` prints it); ``scope``
    the ESPI scope asked for (default: the utility's ``scopes_supported[0]``);
    ``data_dir`` holds the app's SQLite file; ``verify`` is True (the system's trust)
    or a CA file; ``cert`` the client certificate for a utility that asks for mutual
    TLS (RFC 8705; PG&E): one PEM file, or (certificate, key)."""

    data_custodian: str
    client_id: str
    client_secret: str | None
    public_url: str
    data_dir: Path
    notify_secret: str | None = None
    scope: str | None = None
    verify: bool | str = True
    cert: str | tuple[str, str] | None = None

    @property
    def redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + "/callback"

    @property
    def notify_uri(self) -> str:
        return self.public_url.rstrip("/") + "/notify"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


__all__ = ["SampleConfig"]
