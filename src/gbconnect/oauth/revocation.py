"""Revocation (RFC 7009; REQ.21 FB_3 Authorization status 0): the one place that ends
grants and tokens.

Every way a grant or a token ends goes through here, so that each ends the same way
and tells the notification seam once:

==============================================  =========================================
who / what                                      function
==============================================  =========================================
the customer (portal ``/account``)              :func:`revoke_authorization`, by "customer"
the third party (``DELETE``/``PUT`` with        :func:`revoke_authorization`, by
status 0 on ``Authorization``, MGA001/MGA002)   "third party"
the operator (``gbconnect authorization         :func:`revoke_authorization`, by
revoke``) and the data custodian admin          "data custodian"
a new grant replacing the old one               :func:`revoke_authorization`, by "replaced"
the authorized period ends                      :func:`expire_authorizations`
a third party on hold / revoked                 :func:`hold_third_party`,
(``gbconnect thirdparty hold|revoke``,          :func:`revoke_third_party`
``DELETE ApplicationInformation``, RFC 7592)
a token, by the third party (RFC 7009)          :func:`revoke_token`
a refresh token used (rotation, RFC 9700        :func:`retire_refresh_token`
section 4.14.2)
a rotated refresh token used again (reuse,      :func:`revoke_token_family`
RFC 9700 section 4.14.2)
an authorization code used twice (RFC 6749      :func:`revoke_code_tokens`
section 4.1.2)
a single-use credential spent (RFC 7591         :func:`end_token`
initial access token; RFC 7592 registration
access token)
==============================================  =========================================

Revoking an Authorization sets espi.xsd status 0 and ends every token of it at once,
so that the next API call with any of them fails (REQ.21 FB_3); it publishes
:class:`~gbconnect.notify.events.AuthorizationRevoked`. Expiry keeps status 1 (espi.xsd
has no "expired" status), ends the tokens, records the end in ``revoked_at`` /
``revoked_by = "expired"`` so that it is done once, and publishes
:class:`~gbconnect.notify.events.AuthorizationExpired`. Ending a token alone changes no
Authorization and publishes nothing (RFC 7009 section 2.1: revoking a token need not
revoke the grant).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from gbconnect.audit import Actor, record
from gbconnect.notify.events import AuthorizationExpired, AuthorizationRevoked
from gbconnect.notify.outbox import publish
from gbconnect.oauth import models as om
from gbconnect.registration import models as rm
from gbconnect.resource import now

EXPIRED = "expired"
"""``revoked_by`` of an Authorization whose authorized period ended."""


def end_tokens(session: Session, *conditions: ColumnElement[bool], at: int | None = None) -> None:
    """End every live token matching ``conditions`` (all of them when none is given)."""
    session.execute(
        update(om.Token)
        .where(om.Token.revoked_at.is_(None), *conditions)
        .values(revoked_at=now() if at is None else at)
    )


def end_token(session: Session, row: om.Token, at: int | None = None) -> None:
    """End one token (kept, to be recognised if it comes back)."""
    row.revoked_at = row.revoked_at or (now() if at is None else at)
    session.flush()


def revoke_authorization(
    session: Session,
    auth: om.Authorization,
    by: str,
    at: int | None = None,
    actor: Actor | None = None,
) -> bool:
    """Revoke a grant at once: status 0 and every token of it dead (REQ.21 FB_3).
    ``by`` is recorded in ``revoked_by``, and the revocation in the audit log (by
    ``actor``, who acted from where). False (and nothing done) when it is not active
    any more (already revoked, or denied)."""
    if auth.status != om.ACTIVE:
        return False
    t = now() if at is None else at
    auth.status = om.REVOKED
    auth.revoked_at = t
    auth.revoked_by = by
    auth.updated = t
    end_tokens(session, om.Token.authorization_id == auth.id, at=t)
    session.flush()
    publish(session, AuthorizationRevoked(auth.id, auth.application_id, by))
    record(
        session,
        "authorization.revoked",
        actor,
        ("authorization", auth.id),
        {"by": by, "application_id": auth.application_id, "customer": auth.retail_customer_id},
    )
    return True


def expire_authorizations(session: Session, at: int) -> int:
    """End the grants whose ``authorizedPeriod`` is over at ``at`` and their tokens;
    returns how many. Access checks already refuse them (:meth:`Authorization.is_active`);
    ending the tokens makes introspection and listings agree."""
    ended = list(
        session.scalars(
            select(om.Authorization).where(
                om.Authorization.status == om.ACTIVE,
                om.Authorization.revoked_at.is_(None),
                om.Authorization.authorized_duration.is_not(None),
                om.Authorization.authorized_start + om.Authorization.authorized_duration <= at,
            )
        )
    )
    for auth in ended:
        auth.revoked_at = at
        auth.revoked_by = EXPIRED
        end_tokens(session, om.Token.authorization_id == auth.id, at=at)
        publish(session, AuthorizationExpired(auth.id, auth.application_id))
        record(session, "authorization.expired", None, ("authorization", auth.id))
    session.flush()
    return len(ended)


def revoke_token(session: Session, row: om.Token) -> None:
    """RFC 7009 section 2.1: the token ends; a refresh token takes the access tokens of
    its grant with it. The Authorization itself stays active."""
    t = now()
    end_token(session, row, t)
    if row.kind == "refresh" and row.authorization_id is not None:
        end_tokens(session, om.Token.authorization_id == row.authorization_id, at=t)
    session.flush()


def retire_refresh_token(session: Session, row: om.Token) -> None:
    """Refresh-token rotation (RFC 9700 section 4.14.2): the used refresh token dies at
    once; access tokens issued before live until they expire (GBA OAD013)."""
    end_token(session, row)


def revoke_token_family(session: Session, row: om.Token) -> None:
    """A refresh token that was already rotated (or revoked) comes back: it may have
    leaked, and the server cannot tell the legitimate client from the attacker, so
    every access and refresh token of the family ends at once (RFC 9700 section
    4.14.2). The family is every token issued from the same original grant: the
    tokens of the same Authorization.

    The Authorization itself stays active: the customer's consent was not stolen, only
    a credential of the third party. The third party must send the customer through
    ``/oauth/authorize`` again to get new tokens (the customer's ``/account`` page
    still lists the grant, and may revoke it)."""
    if row.authorization_id is None:
        end_token(session, row)
        return
    end_tokens(session, om.Token.authorization_id == row.authorization_id)
    session.flush()


def revoke_code_tokens(session: Session, code_id: int) -> None:
    """An authorization code presented twice: what it issued is revoked (RFC 6749
    section 4.1.2)."""
    end_tokens(session, om.Token.code_id == code_id)
    session.flush()


def hold_third_party(session: Session, app: rm.ApplicationInformation) -> None:
    """A third party on hold: its customer and client access tokens end at once; its
    grants and registration access token stay (it may be approved again)."""
    end_tokens(
        session,
        om.Token.application_id == app.id,
        om.Token.token_class.in_([om.CUSTOMER, om.CLIENT]),
    )
    session.flush()


def revoke_third_party(session: Session, app: rm.ApplicationInformation) -> None:
    """A revoked third party: every token of it ends and every grant it holds is
    revoked by the data custodian."""
    t = now()
    end_tokens(session, om.Token.application_id == app.id, at=t)
    for auth in session.scalars(
        select(om.Authorization)
        .where(om.Authorization.application_id == app.id, om.Authorization.status == om.ACTIVE)
        .order_by(om.Authorization.id)
    ):
        revoke_authorization(session, auth, "data custodian", at=t)
    session.flush()


__all__ = [
    "EXPIRED",
    "end_token",
    "end_tokens",
    "expire_authorizations",
    "hold_third_party",
    "retire_refresh_token",
    "revoke_authorization",
    "revoke_code_tokens",
    "revoke_third_party",
    "revoke_token",
    "revoke_token_family",
]
