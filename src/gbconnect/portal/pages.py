"""What every portal page shares: the template context and the error page."""

from __future__ import annotations

from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from gbconnect.config import Settings


def error_page(
    templates: Jinja2Templates,
    request: Request,
    settings: Settings,
    message: str,
    status: int,
    **context: Any,
) -> Response:
    """``error.html`` with ``message``, under the utility's name."""
    return templates.TemplateResponse(
        request,
        "error.html",
        {"settings": settings, "message": message, **context},
        status_code=status,
    )


__all__ = ["error_page"]
