"""gbconnect.client: a standalone Python SDK for Green Button Connect My Data third
parties (NAESB REQ.21 ESPI 4.0). It imports only the standard library, httpx and lxml.

Example::

    from gbconnect.client import DataCustodianClient, Endpoints, OAuthClient

    endpoints = Endpoints.discover("https://utility.example")
    oauth = OAuthClient(endpoints, "my-client-id", "my-secret",
                        redirect_uri="https://me.example/callback")
    request = oauth.authorization_url("FB=1_3_4_5_13_14")
    # ... send the customer to request.url; on the callback check the state, then:
    tokens = oauth.exchange_code(code, request.code_verifier)
    api = DataCustodianClient(endpoints, tokens, oauth=oauth, on_tokens=save)
    feed = api.subscription()          # bytes, or Pending (202: notified later)
"""

from __future__ import annotations

from gbconnect.client.api import ApiError, DataCustodianClient, Pending, PendingError
from gbconnect.client.batchlist import parse_batch_list
from gbconnect.client.export import to_csv, to_dataframe, to_rows
from gbconnect.client.oauth import (
    AuthorizationRequest,
    Endpoints,
    OAuthClient,
    OAuthError,
    TokenSet,
)
from gbconnect.client.parser import (
    CustomerRecord,
    FeedError,
    FeedStats,
    LocalTime,
    MeterReading,
    Reading,
    ReadingType,
    UsagePoint,
    UsageSummary,
    parse,
    readings,
)
from gbconnect.client.receiver import Notification, NotificationReceiver
from gbconnect.client.signature import verify_signature

__all__ = [
    "ApiError",
    "AuthorizationRequest",
    "CustomerRecord",
    "DataCustodianClient",
    "Endpoints",
    "FeedError",
    "FeedStats",
    "LocalTime",
    "MeterReading",
    "Notification",
    "NotificationReceiver",
    "OAuthClient",
    "OAuthError",
    "Pending",
    "PendingError",
    "Reading",
    "ReadingType",
    "TokenSet",
    "UsagePoint",
    "UsageSummary",
    "parse",
    "parse_batch_list",
    "readings",
    "to_csv",
    "to_dataframe",
    "to_rows",
    "verify_signature",
]
