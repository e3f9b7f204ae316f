"""The API tests use the OAuth tests' world (a customer with data, a third party)."""

from tests.oauth.conftest import world

__all__ = ["world"]
