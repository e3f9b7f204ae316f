"""The portal's languages: English, Spanish and Thai.

Every customer-facing sentence is an English message id translated through gettext
catalogs kept with Babel (``locales/<lang>/LC_MESSAGES/messages.po``; ``make
messages`` extracts and merges them, see docs/translations.md). The language of a
request is chosen once by :class:`gbconnect.i18n.middleware.LocaleMiddleware` (the
visitor's choice, remembered in a cookie, else their browser's ``Accept-Language``,
RFC 9110 section 12.5.4) and held in a context variable, so :func:`gettext` in Python
and ``_()`` / ``{% trans %}`` in templates read the same language.

Module-level sentences are marked with :func:`N_` (extracted, not translated) and
translated where they are shown, with :func:`gettext`.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

#: The languages of the portal, each named in itself (the language switch's labels).
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "th": "ไทย"}
#: The language of the message ids, and of a visitor who asks for none we have.
DEFAULT = "en"
CATALOGS = Path(__file__).parent / "locales"
DOMAIN = "messages"

_language: ContextVar[str] = ContextVar("gbconnect_language", default=DEFAULT)


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``language`` (read from its ``.po`` once per process;
    fuzzy and empty entries are left out, so they show the English message id)."""
    if language == DEFAULT or language not in LANGUAGES:
        return _gettext.NullTranslations()
    path = CATALOGS / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def current() -> str:
    """The language of the request being answered (``en`` outside a request)."""
    return _language.get()


@contextmanager
def use(language: str) -> Iterator[None]:
    """Answer in ``language`` inside the block (mail sent for another customer, tests)."""
    token = _language.set(language if language in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _language.reset(token)


def set_current(language: str) -> None:
    """Set the language of the current context (the middleware, once per request)."""
    _language.set(language if language in LANGUAGES else DEFAULT)


def gettext(message: str, **variables: object) -> str:
    """``message`` in the current language, then ``%(name)s`` filled from
    ``variables`` (the same convention as the templates' ``_()``)."""
    text = translations(_language.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """The singular or plural form for ``n`` in the current language; ``%(num)s`` is
    ``n``."""
    text = translations(_language.get()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (module constants)."""
    return message


_ = gettext

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "N_",
    "_",
    "current",
    "gettext",
    "ngettext",
    "set_current",
    "translations",
    "use",
]
