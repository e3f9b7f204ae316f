"""What the portal tests share: reading the page's CSRF token, a grant made through
the real flow and its ids, and bearer headers."""

from __future__ import annotations

import re

from tests.factories.world import World


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def auth_id(tokens: dict[str, object]) -> int:
    return int(str(tokens["authorizationURI"]).rsplit("/", 1)[1])


def subscription_id(tokens: dict[str, object]) -> int:
    return int(str(tokens["resourceURI"]).rsplit("/", 1)[1])


def section(html: str, state: str) -> str:
    """The part of "My authorizations" that lists the grants in ``state``."""
    start = html.index(f'<section id="{state}"')
    return html[start : html.index("</section>", start)]


def grant_ids(html: str, state: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-id="(\d+)"', section(html, state))]


def page_csrf(world: World, path: str = "/account") -> str:
    return csrf_of(world.client.get(path).text)
