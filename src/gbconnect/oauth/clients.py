"""Third parties as OAuth clients: registering one and changing its status (REQ.21
ApplicationInformation, FB_3/FB_36/FB_44; STANDARD.md section 4).

:mod:`gbconnect.registration.services` owns the ApplicationInformation itself (its
validation, creation and updates); this module adds what touches credentials: the
registration access token issued with a registration, and the tokens and grants that
end when the utility holds or revokes a third party (through
:mod:`gbconnect.oauth.revocation`). The operator CLI (``gbconnect thirdparty ...``),
dynamic registration (RFC 7591) and the ESPI ``ApplicationInformation`` routes all
come here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gbconnect.audit import Actor, record
from gbconnect.config import Settings
from gbconnect.notify.events import ThirdPartyStatusChanged
from gbconnect.notify.outbox import publish
from gbconnect.oauth import models as om
from gbconnect.oauth import revocation
from gbconnect.oauth.secrets import digest, new_client_id, new_secret
from gbconnect.oauth.services import issue_token
from gbconnect.registration import models as rm
from gbconnect.registration.services import create_application
from gbconnect.resource import now

REGISTRATION_SCOPE = "FB=36_40"
"""The scope of a registration access token (STANDARD.md section 2)."""


@dataclass
class Registered:
    """What a registration returns once: the only time the secrets are readable."""

    application: rm.ApplicationInformation
    client_secret: str | None
    registration_access_token: str


def register(
    session: Session,
    settings: Settings,
    *,
    name: str,
    redirect_uris: list[str],
    notify_uri: str | None = None,
    scopes: list[str] | None = None,
    public: bool = False,
    approve: bool = False,
    grant_types: list[str] | None = None,
    **metadata: str | None,
) -> Registered:
    """Register a third party: its ApplicationInformation and client credentials
    (:func:`~gbconnect.registration.services.create_application`) and a registration
    access token (RFC 7591 section 3.2.1, REQ.21 FB_36). ``public`` clients get no
    secret and must use PKCE."""
    secret = None if public else new_secret()
    app = create_application(
        session,
        settings,
        client_id=new_client_id(),
        client_secret_hash=None if secret is None else digest(secret),
        name=name,
        redirect_uris=redirect_uris,
        notify_uri=notify_uri,
        scopes=scopes,
        approve=approve,
        grant_types=grant_types,
        **metadata,
    )
    registration_token, _ = issue_token(
        session,
        kind="access",
        token_class=om.REGISTRATION,
        application_id=app.id,
        authorization_id=None,
        scope=REGISTRATION_SCOPE,
        lifetime=None,
    )
    return Registered(app, secret, registration_token)


#: The audit log's name of each status the utility sets.
STATUS_ACTIONS = {
    rm.REVIEW: "application.in_review",
    rm.PRODUCTION: "application.approved",
    rm.ON_HOLD: "application.held",
    rm.REVOKED: "application.revoked",
}


def set_status(
    session: Session,
    app: rm.ApplicationInformation,
    status: int,
    reason: str | None = None,
    actor: Actor | None = None,
) -> None:
    """Approve (production), hold or revoke a third party (``dataCustodianApplicationStatus``).
    On hold its customer and client access tokens end at once
    (:func:`~gbconnect.oauth.revocation.hold_third_party`); revoked, every token ends
    and every grant it holds is revoked
    (:func:`~gbconnect.oauth.revocation.revoke_third_party`). A change of status is
    published (:class:`~gbconnect.notify.events.ThirdPartyStatusChanged`) and written
    to the audit log with ``reason``, which the third party is shown."""
    old = app.data_custodian_status
    app.data_custodian_status = status
    app.updated = now()
    if reason is not None:
        app.status_reason = reason.strip()[:512] or None
    if status == rm.ON_HOLD:
        revocation.hold_third_party(session, app)
    elif status == rm.REVOKED:
        revocation.revoke_third_party(session, app)
    session.flush()
    if status != old:
        publish(session, ThirdPartyStatusChanged(app.id, old, status))
        record(
            session,
            STATUS_ACTIONS[status],
            actor,
            ("application", app.id),
            {"client_id": app.client_id, "from": old, "to": status, "reason": reason},
        )


__all__ = ["REGISTRATION_SCOPE", "STATUS_ACTIONS", "Registered", "register", "set_status"]
