"""``gbconnect`` (the command line) with the "My usage" page served: ``python -m
tests.e2e.usage_server serve --port P``.

Until ``gbconnect.app.create_app`` includes :mod:`gbconnect.portal.usage_page`
itself, this wraps it to add the page's routes; once it does, this adds nothing and
is ``gbconnect serve`` as shipped.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from gbconnect import app as app_module
from gbconnect.portal import usage_page

_create_app = app_module.create_app


def create_app(*args: Any, **kwargs: Any) -> FastAPI:
    """``create_app`` with the usage page's routes."""
    app = _create_app(*args, **kwargs)
    if not any(getattr(r, "path", None) == "/account/usage" for r in app.routes):
        app.include_router(
            usage_page.build_router(app.state.settings, app.state.sessions, app_module.TEMPLATES)
        )
    return app


if __name__ == "__main__":
    app_module.create_app = create_app  # type: ignore[assignment]
    from gbconnect.cli.main import main

    main()
