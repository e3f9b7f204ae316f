"""The streaming, hardened Green Button parser of the SDK."""

from __future__ import annotations

from gbconnect.client.parser.errors import FeedError

__all__ = ["FeedError"]
