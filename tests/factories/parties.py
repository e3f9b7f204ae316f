"""Third parties: an approved ApplicationInformation with client credentials and a
registration access token (REQ.21 FB_33/FB_34 registration)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from gbconnect.config import Settings
from gbconnect.oauth.clients import Registered, register

REDIRECT = "https://thirdparty.example/callback"
NOTIFY = "https://thirdparty.example/notify"
SCOPE = (
    "FB=1_3_4_5_10_13_14_15_17_39_51_57;IntervalDuration=900_3600;BlockDuration=daily;"
    "HistoryLength=13"
)


def make_third_party(
    session: Session,
    settings: Settings,
    *,
    name: str = "Solar Helper",
    redirect_uris: Sequence[str] = (REDIRECT,),
    notify_uri: str | None = NOTIFY,
    scopes: Sequence[str] = (SCOPE,),
    approve: bool = True,
    public: bool = False,
) -> Registered:
    """A registered (and, unless told otherwise, approved) third party; the result
    holds its client secret and registration token, readable only now."""
    return register(
        session,
        settings,
        name=name,
        redirect_uris=list(redirect_uris),
        notify_uri=notify_uri,
        scopes=list(scopes),
        approve=approve,
        public=public,
    )
