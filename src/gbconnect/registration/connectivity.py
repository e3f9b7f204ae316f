"""Whether an application's connectivity test (PG&E, STANDARD.md section 7) still holds:
it was passed with certain redirect, notify and user portal screen URIs, and a change
of any of them -- on the third-party portal or through RFC 7592 -- clears the pass.

The test itself runs on the third-party portal (gbconnect.thirdparty_portal.connectivity);
what a pass is kept as lives here, beside the ApplicationInformation it belongs to, so
that :func:`gbconnect.registration.services.update_application` can clear it.
"""

from __future__ import annotations

import hashlib
import json

from gbconnect.registration import models as rm

#: thirdPartyApplicationStatus (espi.xsd): 1 development, 2 review/test -- "awaiting
#: approval" once the connectivity test is passed.
DEVELOPMENT, AWAITING_APPROVAL = 1, 2


def fingerprint(app: rm.ApplicationInformation) -> str:
    """SHA-256 of what the connectivity test was passed with: the redirect URIs, the
    notify URI and the user portal screen URI."""
    data = json.dumps(
        [sorted(app.redirect_uris), app.notify_uri or "", app.portal_uri or ""],
        separators=(",", ":"),
    )
    return hashlib.sha256(data.encode()).hexdigest()


def is_passed(app: rm.ApplicationInformation) -> bool:
    """Passed, with the URIs it still has."""
    return app.connectivity_passed_at is not None and (
        app.connectivity_fingerprint == fingerprint(app)
    )


def clear_if_changed(app: rm.ApplicationInformation) -> bool:
    """After a change: a pass whose URIs changed is cleared (the test must be passed
    again) and "awaiting approval" goes back to development; whether it was cleared."""
    if app.connectivity_passed_at is None or app.connectivity_fingerprint == fingerprint(app):
        return False
    app.connectivity_passed_at = None
    app.connectivity_fingerprint = None
    if app.third_party_status == AWAITING_APPROVAL:
        app.third_party_status = DEVELOPMENT
    return True


__all__ = ["AWAITING_APPROVAL", "DEVELOPMENT", "clear_if_changed", "fingerprint", "is_passed"]
