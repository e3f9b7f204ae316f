"""OAD001-016: OAuth 2.0 (RFC 6749) at the Data Custodian (STANDARD.md sections 2 and
6). The negative requests are sent raw (httpx), so that what is malformed is exactly
what the case says."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from gbconnect.conformance.cases import case, refused
from gbconnect.conformance.context import Context
from gbconnect.conformance.outcome import NotApplicable

#: Keys every customer token response carries (RFC 6749 5.1 and ESPI's additions).
CUSTOMER_KEYS = (
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "scope",
    "resourceURI",
    "authorizationURI",
)
CLIENT_KEYS = (
    "access_token",
    "token_type",
    "expires_in",
    "scope",
    "resourceURI",
    "authorizationURI",
)


def _basic(user: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def _client(ctx: Context) -> dict[str, str]:
    return _basic(ctx.options.client_id, ctx.options.client_secret)


def _token_error(
    ctx: Context,
    data: dict[str, str],
    headers: dict[str, str],
    statuses: tuple[int, ...],
    errors: tuple[str, ...],
    what: str,
    label: str = "client credentials",
) -> str:
    r = ctx.send("POST", ctx.endpoints.token, data=data, headers=headers, label=label, note=what)
    try:
        error = r.json().get("error")
    except ValueError:
        error = None
    if r.status_code not in statuses or error not in errors:
        raise ctx.fail(
            f"{what}: answered {r.status_code} {error!r}, not {'/'.join(map(str, statuses))} "
            f"{' or '.join(errors)} (RFC 6749 5.2)"
        )
    if "access_token" in r.text:
        raise ctx.fail(f"{what}: the error answer carries an access token")
    return f"{what}: {r.status_code} {error}"


@case("OAD001", "Malformed authorize requests are refused")
def oad001(ctx: Context) -> str:
    redirect = ctx.redirect_uri()
    good = {
        "response_type": "code",
        "client_id": ctx.options.client_id,
        "redirect_uri": redirect,
        "scope": ctx.scope(),
        "state": "conformance",
    }
    seen: list[str] = []
    # A wrong client or redirect URI must never redirect (RFC 6749 4.1.2.1).
    for what, params in (
        ("unknown client_id", {**good, "client_id": "no-such-client-000000"}),
        ("unregistered redirect_uri", {**good, "redirect_uri": "https://attacker.invalid/cb"}),
        ("no client_id", {k: v for k, v in good.items() if k != "client_id"}),
    ):
        r = ctx.send("GET", f"{ctx.endpoints.authorization}?{urlencode(params)}", note=what)
        where = r.headers.get("location", "")
        if r.status_code in (301, 302, 303, 307, 308) and "attacker.invalid" in where:
            raise ctx.fail(f"{what}: the browser was redirected to {where}")
        if r.status_code in (301, 302, 303, 307, 308) and "code=" in where:
            raise ctx.fail(f"{what}: a code was issued ({where})")
        if r.status_code == 200 and ("password" in r.text.lower() and what != "no client_id"):
            raise ctx.fail(f"{what}: answered 200 with a sign-in page instead of an error")
        if r.status_code >= 500:
            raise ctx.fail(f"{what}: answered {r.status_code}")
        seen.append(f"{what}: {r.status_code}")
    # A bad response_type goes back to the (valid) client with an error.
    for what, params in (
        ("response_type=token", {**good, "response_type": "token"}),
        ("no response_type", {k: v for k, v in good.items() if k != "response_type"}),
    ):
        r = ctx.send("GET", f"{ctx.endpoints.authorization}?{urlencode(params)}", note=what)
        where = r.headers.get("location", "")
        query = parse_qs(urlsplit(where).query)
        if r.status_code in (302, 303) and where.startswith(redirect):
            if "error" not in query or "code" in query:
                raise ctx.fail(f"{what}: redirected without an error: {where}")
        elif r.status_code not in (400, 401, 403):
            raise ctx.fail(f"{what}: answered {r.status_code}, not an error")
        seen.append(f"{what}: {r.status_code} {query.get('error', [''])[0]}".rstrip())
    return "; ".join(seen)


@case("OAD002", "The customer denies: the client gets access_denied", phase="destructive")
def oad002(ctx: Context) -> str:
    from gbconnect.conformance.browser import authorize_in_browser

    o = ctx.options
    if not (o.customer_username and o.customer_password):
        raise NotApplicable("no test customer given (--customer-username/--customer-password)")
    redirect = ctx.redirect_uri()
    request = ctx.oauth.authorization_url(ctx.scope(), redirect_uri=redirect)
    landed = authorize_in_browser(
        request.url,
        redirect,
        o.customer_username,
        o.customer_password,
        approve=False,
        chromium=o.chromium,
    )
    query = {k: v[0] for k, v in parse_qs(urlsplit(landed).query).items()}
    if query.get("error") != "access_denied" or "code" in query:
        raise ctx.fail(f"after the customer denied, the redirect was {landed}")
    if query.get("state") != request.state:
        raise ctx.fail("the denial did not carry the state back")
    return "redirected with error=access_denied and the state"


@case("OAD003", "Malformed token requests are refused")
def oad003(ctx: Context) -> str:
    h = _client(ctx)
    return "; ".join(
        (
            _token_error(
                ctx, {}, h, (400,), ("invalid_request", "unsupported_grant_type"), "no grant_type"
            ),
            _token_error(
                ctx,
                {"grant_type": "password", "username": "x", "password": "y"},
                h,
                (400,),
                ("unsupported_grant_type", "unauthorized_client"),
                "grant_type=password",
            ),
            _token_error(
                ctx,
                {"grant_type": "authorization_code"},
                h,
                (400,),
                ("invalid_request", "invalid_grant"),
                "authorization_code without a code",
            ),
            _token_error(
                ctx,
                {
                    "grant_type": "authorization_code",
                    "code": "forged-code-0000000",
                    "redirect_uri": "https://x.invalid/cb",
                },
                h,
                (400,),
                ("invalid_grant",),
                "a forged code",
            ),
        )
    )


@case("OAD004", "A bad Authorization header at the token endpoint is refused")
def oad004(ctx: Context) -> str:
    data = {"grant_type": "client_credentials"}
    cid = ctx.options.client_id
    return "; ".join(
        (
            _token_error(
                ctx,
                data,
                _basic(cid, "wrong-secret"),
                (401,),
                ("invalid_client",),
                "a wrong secret",
                "Basic (wrong secret)",
            ),
            _token_error(
                ctx,
                data,
                {"Authorization": "Basic %%%not-base64"},
                (400, 401),
                ("invalid_client", "invalid_request"),
                "a malformed Basic header",
                "Basic (malformed)",
            ),
            _token_error(
                ctx,
                data,
                {"Authorization": f"Bearer {ctx.options.client_secret}"},
                (400, 401),
                ("invalid_client", "invalid_request"),
                "the secret sent as a Bearer token",
                "Bearer (secret)",
            ),
            _token_error(
                ctx,
                data,
                {},
                (400, 401),
                ("invalid_client", "invalid_request"),
                "no client authentication",
                "none",
            ),
        )
    )


@case("OAD005", "A reused authorization code is rejected", phase="destructive")
def oad005(ctx: Context) -> str:
    grant = ctx.new_grant()
    data = {
        "grant_type": "authorization_code",
        "code": grant.code,
        "redirect_uri": grant.redirect_uri,
        "code_verifier": grant.code_verifier,
    }
    seen = _token_error(ctx, data, _client(ctx), (400,), ("invalid_grant",), "the code again")
    # RFC 6749 4.1.2: the tokens issued for the code SHOULD be revoked (not required).
    r = ctx.send(
        "GET",
        str(grant.tokens.resource_uri),
        token=grant.tokens.access_token,
        label="A token of the reused code",
    )
    revoked = "revoked" if r.status_code in (401, 403) else f"still answer {r.status_code}"
    return f"{seen}; the tokens issued for that code {revoked}"


@case("OAD006", "A successful token request (authorization_code) is well formed")
def oad006(ctx: Context) -> str:
    raw = ctx.grant().tokens.raw
    missing = [k for k in CUSTOMER_KEYS if k not in raw]
    if missing:
        raise ctx.fail(f"the token response lacks {', '.join(missing)}: keys {sorted(raw)}")
    if raw["token_type"] != "Bearer":
        raise ctx.fail(f"token_type is {raw['token_type']!r}, not 'Bearer'")
    return f"keys {', '.join(CUSTOMER_KEYS)} present; token_type Bearer"


@case("OAD007", "ApplicationInformation refuses C, A and no token")
def oad007(ctx: Context) -> str:
    return refused(ctx, ctx.application_information_url(), ("C", "A", None))


def _authorization_entry(ctx: Context) -> str:
    uri = ctx.client_tokens().authorization_uri
    if not uri:
        raise ctx.fail("the client token response has no authorizationURI")
    return uri


@case("OAD008", "An Authorization entry refuses R, A and no token")
def oad008(ctx: Context) -> str:
    return refused(ctx, _authorization_entry(ctx), ("R", "A", None))


@case("OAD009", "The Authorization feed refuses R, A and no token")
def oad009(ctx: Context) -> str:
    return refused(ctx, ctx.endpoints.resource("Authorization"), ("R", "A", None))


@case("OAD010", "Batch/Subscription refuses R, C and no token")
def oad010(ctx: Context) -> str:
    uri = ctx.customer_tokens().resource_uri
    if not uri:
        raise ctx.fail("the customer token response has no resourceURI")
    return refused(ctx, uri, ("R", "C", None))


@case("OAD011", "ReadServiceStatus refuses R, A and no token")
def oad011(ctx: Context) -> str:
    return refused(ctx, ctx.endpoints.resource("ReadServiceStatus"), ("R", "A", None))


@case("OAD012", "Malformed refresh requests are refused")
def oad012(ctx: Context) -> str:
    ctx.grant()
    h = _client(ctx)
    return "; ".join(
        (
            _token_error(
                ctx,
                {"grant_type": "refresh_token"},
                h,
                (400,),
                ("invalid_request", "invalid_grant"),
                "no refresh_token",
            ),
            _token_error(
                ctx,
                {"grant_type": "refresh_token", "refresh_token": "forged-0000000000"},
                h,
                (400,),
                ("invalid_grant",),
                "a forged refresh_token",
            ),
            _token_error(
                ctx,
                {
                    "grant_type": "refresh_token",
                    "refresh_token": ctx.customer_tokens().refresh_token or "x",
                },
                _basic(ctx.options.client_id, "wrong-secret"),
                (401,),
                ("invalid_client",),
                "the right refresh_token with a wrong secret",
                "Basic (wrong secret)",
            ),
        )
    )


@case(
    "OAD013",
    "A valid refresh gives a working token; the old refresh token dies",
    phase="destructive",
)
def oad013(ctx: Context) -> str:
    # Its own grant: a Data Custodian may end the whole token family when the old
    # refresh token comes back (OAuth 2.0 Security BCP 4.14.2), as gbconnect does.
    grant = ctx.new_grant()
    old = grant.tokens
    if not old.refresh_token:
        raise ctx.fail("the customer token came without a refresh_token")
    grant.tokens = ctx.oauth.refresh(old)
    new = grant.tokens
    if not new.access_token or new.access_token == old.access_token:
        raise ctx.fail("the refresh gave no new access token")
    r = ctx.send(
        "GET",
        str(new.resource_uri or old.resource_uri),
        token=new.access_token,
        label="A token (refreshed)",
    )
    if r.status_code not in (200, 202):
        raise ctx.fail(f"the refreshed token read its resourceURI with {r.status_code}")
    said = "rotated" if new.refresh_token != old.refresh_token else "kept"
    if new.refresh_token != old.refresh_token:
        _token_error(
            ctx,
            {"grant_type": "refresh_token", "refresh_token": old.refresh_token},
            _client(ctx),
            (400,),
            ("invalid_grant",),
            "the old refresh_token",
        )
    return f"new access token works ({r.status_code}); refresh token {said}"


@case("OAD014", "Malformed client_credentials refused; grant_types registered")
def oad014(ctx: Context) -> str:
    seen = [
        _token_error(
            ctx,
            {"grant_type": "client_credentials"},
            _basic("no-such-client-000000", "x"),
            (401,),
            ("invalid_client",),
            "an unknown client",
            "Basic (unknown client)",
        ),
        _token_error(
            ctx,
            {"grant_type": "client_credentials", "scope": "FB=1_2_3_999"},
            _client(ctx),
            (400,),
            ("invalid_scope",),
            "a scope never registered",
        ),
    ]
    if ctx.options.registration_token:
        grants = ctx.registration().get("grant_types") or []
        if "client_credentials" not in grants:
            raise ctx.fail(f"the registration's grant_types {grants} lack client_credentials")
        seen.append(f"grant_types {grants}")
    return "; ".join(seen)


@case("OAD015", "The client_credentials response is well formed")
def oad015(ctx: Context) -> str:
    raw = ctx.client_tokens().raw
    missing = [k for k in CLIENT_KEYS if k not in raw]
    if missing:
        raise ctx.fail(f"the client token response lacks {', '.join(missing)}")
    if raw["token_type"] != "Bearer":
        raise ctx.fail(f"token_type is {raw['token_type']!r}, not 'Bearer'")
    if "refresh_token" in raw:
        raise ctx.fail("a client_credentials response carries a refresh_token (RFC 6749 4.4.3)")
    return f"keys {', '.join(CLIENT_KEYS)} present; no refresh_token"


#: OAD016 waits for a token to expire only when it lives at most this long.
EXPIRY_WAIT = 65


@case("OAD016", "An expired access token is rejected")
def oad016(ctx: Context) -> str:
    tokens = ctx.oauth.client_credentials()
    lifetime = tokens.raw.get("expires_in")
    if not isinstance(lifetime, int) or lifetime > EXPIRY_WAIT:
        raise NotApplicable(
            f"client tokens live {lifetime} s: longer than this run waits ({EXPIRY_WAIT} s)"
        )
    time.sleep(lifetime + 2)
    url = ctx.endpoints.resource("ReadServiceStatus")
    r = ctx.send("GET", url, token=tokens.access_token, label="C token (expired)")
    if r.status_code != 401:
        raise ctx.fail(f"an expired token answered {r.status_code}, not 401")
    return f"expired after {lifetime} s: 401"
