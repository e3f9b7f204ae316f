"""The Download My Data routes on an application (tests only).

``gbconnect.app`` mounts the portal's routers; until it mounts
:mod:`gbconnect.portal.download`, the tests add its router themselves, once: when the
application already serves ``/account/download`` this does nothing.
"""

from __future__ import annotations

from typing import Any

from gbconnect.portal.download import FORM_PATH, build_router


def ensure_download_routes(app: Any) -> None:
    """Mount the Download My Data router on ``app`` (a ``create_app`` application)
    unless it already serves the page."""
    if any(getattr(route, "path", None) == FORM_PATH for route in app.routes):
        return
    from gbconnect.app import TEMPLATES

    app.include_router(build_router(app.state.settings, app.state.sessions, TEMPLATES))
