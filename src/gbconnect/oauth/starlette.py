"""Our Starlette adapter for Authlib's OAuth 2.0 core (DESIGN.md).

Authlib ships server glue for Flask and Django only. This module gives it what it
needs from a Starlette request: the body is read on the event loop (form fields and
query parameters, with their repeated values for RFC 6749 section 3.1's "MUST NOT
be included more than once" checks), then Authlib runs, synchronously, in the
thread pool. The URI Authlib sees is built on the configured public base URL, so a
server behind a TLS-terminating proxy still checks transport security right.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import JsonPayload, JsonRequest, OAuth2Payload, OAuth2Request
from starlette.requests import Request

from gbconnect.errors import InputError

MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 1000


class FormTooLarge(InputError):
    """A form body larger than :data:`MAX_FORM_BYTES`, not UTF-8, or of more than
    :data:`MAX_FORM_FIELDS` fields
    (400 ``invalid_request``, RFC 6749 section 5.2)."""

    def __init__(
        self, message: str = "the form could not be read (too large, too many fields or not UTF-8)"
    ) -> None:
        super().__init__(message)


class StarlettePayload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._data: dict[str, str] = {}
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in fields:
            self._data.setdefault(key, value)
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class StarletteOAuth2Request(OAuth2Request):  # type: ignore[misc]
    """An Authlib request made from a Starlette request whose body was read."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        query: list[tuple[str, str]],
        form: list[tuple[str, str]],
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._args = dict(query)
        self._form = dict(form)
        self.payload = StarlettePayload(query + form)
        #: What the customer chose on the consent page (set by the consent view).
        self.consent: Any = None
        #: RFC 8705 ``x5t#S256`` of the client certificate presented at the token
        #: endpoint (set by its route; gbconnect.oauth.mtls).
        self.client_thumbprint: str | None = None

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class StarletteJsonPayload(JsonPayload):  # type: ignore[misc]
    def __init__(self, data: Any) -> None:
        self._data = data

    @property
    def data(self) -> Any:
        return self._data


class StarletteJsonRequest(JsonRequest):  # type: ignore[misc]
    def __init__(self, method: str, uri: str, headers: Mapping[str, str], data: Any) -> None:
        super().__init__(method, uri, headers)
        self.payload = StarletteJsonPayload(data)
        #: The client_id of an RFC 7592 configuration URI.
        self.client_id_in_path: str = ""
        self.credential: Any = None
        self.client: Any = None


def public_uri(request: Request, base_url: str) -> str:
    """The request's URI on the public base URL."""
    uri = base_url.rstrip("/") + request.url.path
    if request.url.query:
        uri += "?" + request.url.query
    return uri


async def read_form(request: Request) -> list[tuple[str, str]]:
    """The urlencoded form fields of a POST (none for other methods or types)."""
    if request.method != "POST":
        return []
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return []
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise FormTooLarge
    try:
        text = body.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise FormTooLarge from None


async def oauth_request(request: Request, base_url: str) -> StarletteOAuth2Request:
    """Read ``request`` on the event loop and make Authlib's request of it."""
    form = await read_form(request)
    return StarletteOAuth2Request(
        request.method,
        public_uri(request, base_url),
        request.headers,
        list(request.query_params.multi_items()),
        form,
    )
