"""Third-party applications (REQ.21 ApplicationInformation, FB_3/36/44): validating,
creating, finding and updating them.

A client secret is returned once, at creation, and stored as a hash only (FB_13).
What touches tokens (the registration access token issued with a registration, the
tokens and grants that end when a third party is held or revoked) is in
:mod:`gbconnect.oauth.clients`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.config import Settings
from gbconnect.espi import scope as espi_scope
from gbconnect.espi.blocks import not_offered
from gbconnect.espi.schema import INT64_MAX
from gbconnect.notify.events import ApplicationChanged
from gbconnect.notify.outbox import publish
from gbconnect.registration import models as rm
from gbconnect.registration.connectivity import clear_if_changed
from gbconnect.registration.errors import RegistrationError
from gbconnect.resource import now


def check_redirect_uri(uri: str, settings: Settings) -> str:
    """An absolute http(s) URI without fragment (RFC 6749 section 3.1.2); https
    in production unless it is a loopback address (RFC 8252 section 7.3)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise RegistrationError(
            f"redirect URI {uri!r} is not a URI", "invalid_redirect_uri"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegistrationError(
            f"redirect URI {uri!r} must be an absolute http(s) URI", "invalid_redirect_uri"
        )
    if parts.fragment:
        raise RegistrationError(
            f"redirect URI {uri!r} must not have a fragment", "invalid_redirect_uri"
        )
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if settings.env == "production" and parts.scheme != "https" and not loopback:
        raise RegistrationError(f"redirect URI {uri!r} must use https", "invalid_redirect_uri")
    return uri


def check_scope(text: str, settings: Settings) -> str:
    """A registrable scope: readable, and inside the function blocks offered
    (:func:`gbconnect.espi.blocks.not_offered`); returned in canonical spelling."""

    try:
        parsed = espi_scope.parse(text)
    except espi_scope.ScopeError as exc:
        raise RegistrationError(f"scope {text!r}: {exc}") from None
    extra = not_offered(parsed.function_blocks, settings.supported_blocks)
    if extra:
        raise RegistrationError(
            f"scope asks for function blocks this utility does not offer: {extra}"
        )
    return str(parsed)


#: espi.xsd String256: the longest ``thirdPartyApplicationDescription``.
DESCRIPTION_MAX = 256


def check_description(text: object) -> str | None:
    """A ``thirdPartyApplicationDescription``: plain text of at most
    :data:`DESCRIPTION_MAX` characters without control characters; None when empty."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise RegistrationError("thirdPartyApplicationDescription must be a string")
    value = " ".join(text.split())
    if len(value) > DESCRIPTION_MAX:
        raise RegistrationError(
            f"thirdPartyApplicationDescription is at most {DESCRIPTION_MAX} characters"
        )
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise RegistrationError("thirdPartyApplicationDescription holds a control character")
    return value or None


def create_application(
    session: Session,
    settings: Settings,
    *,
    client_id: str,
    client_secret_hash: str | None,
    name: str,
    redirect_uris: list[str],
    notify_uri: str | None = None,
    scopes: list[str] | None = None,
    approve: bool = False,
    grant_types: list[str] | None = None,
    **metadata: str | None,
) -> rm.ApplicationInformation:
    """Check a third party's metadata and create its ApplicationInformation with the
    credentials given (RFC 7591 section 2; REQ.21 FB_36). Without a secret hash the
    client is public: it authenticates with PKCE only (RFC 8252 section 8.4) and may
    not use client_credentials."""
    public = client_secret_hash is None
    if not name.strip():
        raise RegistrationError("the application needs a name")
    if not redirect_uris:
        raise RegistrationError("at least one redirect URI is needed", "invalid_redirect_uri")
    uris = [check_redirect_uri(u, settings) for u in redirect_uris]
    if notify_uri:
        check_redirect_uri(notify_uri, settings)
    checked = [check_scope(s, settings) for s in (scopes or [settings.default_scope])]
    if grant_types is None:
        grant_types = ["authorization_code", "refresh_token"]
        if not public:
            grant_types.append("client_credentials")
    unknown = set(grant_types) - {"authorization_code", "refresh_token", "client_credentials"}
    if unknown:
        raise RegistrationError(f"grant types not supported: {sorted(unknown)}")
    if public and "client_credentials" in grant_types:
        raise RegistrationError("a public client cannot use client_credentials")
    if "description" in metadata:
        metadata["description"] = check_description(metadata["description"])
    t = now()
    app = rm.ApplicationInformation(
        client_id=client_id,
        client_secret_hash=client_secret_hash,
        client_id_issued_at=t,
        client_name=name.strip(),
        title=name.strip(),
        redirect_uris=uris,
        notify_uri=notify_uri,
        scopes=checked,
        grant_types=grant_types,
        response_types=["code"],
        token_endpoint_auth_method="none" if public else "client_secret_basic",
        data_custodian_status=rm.PRODUCTION if approve else rm.REVIEW,
        third_party_status=1,
        published=t,
        updated=t,
        **{k: v for k, v in metadata.items() if v is not None},
    )
    session.add(app)
    session.flush()
    return app


def find_application(session: Session, key: str) -> rm.ApplicationInformation | None:
    """By client_id, or by ApplicationInformation id when ``key`` is all digits (an id
    beyond what the store holds, 2^63 - 1, is no application: not a database error)."""
    app = session.scalars(
        select(rm.ApplicationInformation).where(rm.ApplicationInformation.client_id == key)
    ).one_or_none()
    if app is None and key.isascii() and key.isdigit() and int(key) <= INT64_MAX:
        app = session.get(rm.ApplicationInformation, int(key))
    return app


#: ApplicationInformation fields a third party may change (MGT001, RFC 7592 2.2).
UPDATABLE = {
    "client_name": "client_name",
    "thirdPartyNotifyUri": "notify_uri",
    "logo_uri": "logo_uri",
    "client_uri": "client_uri",
    "tos_uri": "tos_uri",
    "policy_uri": "policy_uri",
    "software_version": "software_version",
    "thirdPartyUserPortalScreenURI": "portal_uri",
    "thirdPartyApplicationDescription": "description",
}


def update_application(
    session: Session,
    settings: Settings,
    app: rm.ApplicationInformation,
    fields: dict[str, list[str]],
    by: str = "third party",
) -> None:
    """Apply a third party's changes (element name -> values). Identity (client_id),
    credentials and status set by the utility cannot be changed this way; a scope
    may only be narrowed. ``by`` says who changed it, for the notification."""
    frozen = {
        "client_id",
        "client_secret",
        "dataCustodianId",
        "dataCustodianApplicationStatus",
        "registration_access_token",
        "client_id_issued_at",
    }
    for name, values in fields.items():
        if name in frozen and values and values[0] != _current(app, name):
            raise RegistrationError(f"{name} cannot be changed", "invalid_client_metadata")
    for name, attr in UPDATABLE.items():
        if name in fields:
            value = fields[name][0].strip() if fields[name] else ""
            if name == "client_name" and not value:
                raise RegistrationError("client_name cannot be empty")
            if name == "thirdPartyApplicationDescription":
                value = check_description(value) or ""
            if (
                name
                in (
                    "thirdPartyNotifyUri",
                    "logo_uri",
                    "client_uri",
                    "tos_uri",
                    "policy_uri",
                    "thirdPartyUserPortalScreenURI",
                )
                and value
            ):
                check_redirect_uri(value, settings)
            setattr(app, attr, value if name == "client_name" else (value or None))
    if "client_name" in fields:
        app.title = app.client_name
    if "redirect_uri" in fields:
        uris = [u.strip() for u in fields["redirect_uri"] if u.strip()]
        if not uris:
            raise RegistrationError("at least one redirect URI is needed", "invalid_redirect_uri")
        app.redirect_uris = [check_redirect_uri(u, settings) for u in uris]
    if "contacts" in fields:
        app.contacts = [c.strip() for c in fields["contacts"] if c.strip()] or None
    if "thirdPartyApplicationStatus" in fields:
        value = fields["thirdPartyApplicationStatus"][0].strip()
        if value not in ("1", "2", "3", "4"):
            raise RegistrationError("thirdPartyApplicationStatus must be 1, 2, 3 or 4")
        app.third_party_status = int(value)
    if "scope" in fields:
        wanted = [check_scope(s, settings) for s in fields["scope"] if s.strip()]
        registered = [espi_scope.parse(s) for s in app.scopes]
        for text in wanted:
            if not any(espi_scope.parse(text).within(r) for r in registered):
                raise RegistrationError(f"scope {text!r} is wider than the one registered")
        if wanted:
            app.scopes = wanted
    app.updated = now()
    # PG&E's connectivity test was passed with the old URIs: passed again, not kept.
    clear_if_changed(app)
    session.flush()
    # GBA PSH001: the third party is notified of its changed ApplicationInformation.
    publish(session, ApplicationChanged(app.id, by))


def _current(app: rm.ApplicationInformation, name: str) -> str:
    return {
        "client_id": app.client_id,
        "client_id_issued_at": str(app.client_id_issued_at),
        "dataCustodianApplicationStatus": str(app.data_custodian_status),
    }.get(name, "")
