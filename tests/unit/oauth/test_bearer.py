"""The one Bearer-header parser (RFC 6750 section 2.1)."""

from __future__ import annotations

import pytest

from gbconnect.oauth.bearer import MAX_TOKEN_LENGTH, bearer_token


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc-DEF_123.~+/", "abc-DEF_123.~+/"),
        ("bearer abc==", "abc=="),  # the scheme is case-insensitive (RFC 7235 section 2.1)
        ("Bearer   abc  ", "abc"),
        (None, None),
        ("", None),
        ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer a b", None),
        ("Bearer a,b", None),
        ("Bearer " + "a" * MAX_TOKEN_LENGTH, "a" * MAX_TOKEN_LENGTH),
        ("Bearer " + "a" * (MAX_TOKEN_LENGTH + 1), None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
