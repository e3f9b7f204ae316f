"""The portal's templates speak the request's language.

Jinja2's i18n extension with "new style" gettext: ``{{ _("Hello %(name)s", name=n) }}``
formats after translating and escapes the variables, and ``{% trans %}`` blocks are
trimmed (whitespace between words collapsed) both here and when Babel extracts them
(``babel.cfg``). Filters write dates, numbers and money the language's way
(:mod:`gbconnect.i18n.formats`).
"""

from __future__ import annotations

from fastapi.templating import Jinja2Templates

from gbconnect.i18n import LANGUAGES, current, formats, gettext, ngettext


def install(templates: Jinja2Templates) -> Jinja2Templates:
    """Add translation and locale formatting to ``templates``' environment."""
    env = templates.env
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: gettext(message),
        ngettext=lambda singular, plural, n: ngettext(singular, plural, n),
        newstyle=True,
    )
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["current_language"] = current
    env.filters["day"] = formats.day
    env.filters["short_day"] = formats.short_day
    env.filters["moment"] = formats.moment
    env.filters["month"] = formats.month
    env.filters["number"] = formats.number
    env.filters["money"] = formats.money
    return templates
