"""Bulk requests (REQ.21 FB_35 Batch/Bulk; PG&E's Batch/BulkRetailCustomerInfo): a
third party's bulk id, given to it in its ApplicationInformation
(``dataCustodianBulkRequestURI``), names everything its client token may read."""

from __future__ import annotations

from gbconnect.oauth.guard import NotFound
from gbconnect.registration import models as rm
from gbconnect.web.serving import Call


def own_bulk(call: Call, bulk_id: int) -> rm.ApplicationInformation:
    """The calling third party, if ``bulk_id`` is its own (404 otherwise)."""
    app = call.session.get(rm.ApplicationInformation, call.caller.application_id)
    if app is None or app.bulk_id != bulk_id:
        raise NotFound()
    return app
