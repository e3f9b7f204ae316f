"""The API tests use the OAuth tests' world (a customer with data, a third party)."""

from tests.factories.world import world

__all__ = ["world"]
