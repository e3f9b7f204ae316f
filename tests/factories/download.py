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


#: Python arguments that run ``gbconnect`` with the Download My Data page mounted
#: (``tests.serverproc.serving(..., launcher=SERVE_WITH_DOWNLOAD)``); the repository
#: root must be on the child's ``PYTHONPATH``.
SERVE_WITH_DOWNLOAD = ("-c", "from tests.factories.download import main; main()")


def main() -> None:
    """``gbconnect`` whose applications serve the Download My Data page: the real
    command line, ``create_app`` wrapped by :func:`ensure_download_routes`."""
    import gbconnect.app
    from gbconnect.cli import main as cli

    create = gbconnect.app.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = create(*args, **kwargs)
        ensure_download_routes(app)
        return app

    gbconnect.app.create_app = create_app
    cli()
