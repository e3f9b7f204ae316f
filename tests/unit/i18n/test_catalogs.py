"""The Spanish and Thai catalogs are complete and faithful to the source.

Every message the code and the templates mark for translation (extracted afresh here,
with the project's ``babel.cfg``) has a translation in each catalog, not fuzzy, with
the same ``%(name)s`` placeholders and the same HTML tags as the English; a message id
missing from a catalog (code changed, ``make messages`` not run) fails too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from gbconnect.i18n import CATALOGS, DEFAULT, LANGUAGES

ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TAG = re.compile(r"</?([a-z]+)\b")
TRANSLATED = [lang for lang in LANGUAGES if lang != DEFAULT]


def _extracted() -> dict[str, tuple[str, ...]]:
    """msgid (or its singular) -> all its forms, from the source as it is now."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    out: dict[str, tuple[str, ...]] = {}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        forms = (message,) if isinstance(message, str) else tuple(message)
        out[forms[0]] = forms
    return out


EXTRACTED = _extracted()


def _catalog(language: str) -> Catalog:
    with (CATALOGS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def test_the_source_marks_the_portals_messages() -> None:
    assert len(EXTRACTED) > 300
    assert "Until I take it back" in EXTRACTED  # the consent page
    assert "Electricity usage, interval by interval" in EXTRACTED  # espi.blocks


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str) -> None:
    catalog = _catalog(language)
    missing, fuzzy = [], []
    for msgid in EXTRACTED:
        entry = catalog.get(msgid)
        strings = entry.string if entry is not None else None
        values = (strings,) if isinstance(strings, str) else tuple(strings or ())
        if entry is None or not values or not all(values):
            missing.append(msgid)
        elif entry.fuzzy:
            fuzzy.append(msgid)
    assert not missing, f"{len(missing)} untranslated in {language}: {missing[:10]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {language}: {fuzzy[:10]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_placeholders_and_tags(language: str) -> None:
    catalog = _catalog(language)
    wrong = []
    for msgid, forms in EXTRACTED.items():
        entry = catalog.get(msgid)
        if entry is None:
            continue
        strings = entry.string
        values = (strings,) if isinstance(strings, str) else tuple(strings)
        names = set(PLACEHOLDER.findall(forms[-1]))
        tags = sorted(TAG.findall(forms[0]))
        for value in values:
            if not value:
                continue
            # A plural form may leave the number out ("un mes"); nothing else may be.
            if (
                set(PLACEHOLDER.findall(value)) - names
                or (names - {"num"} - set(PLACEHOLDER.findall(value)))
                or sorted(TAG.findall(value)) != tags
            ):
                wrong.append((msgid, value))
            elif re.search(r"%(?!\(\w+\)s|%)", value):
                wrong.append((msgid, value))  # a bare % breaks the formatting
    assert not wrong, f"{language}: {wrong[:5]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogs_hold_nothing_stale(language: str) -> None:
    """Entries no longer in the source are dropped by ``make messages``."""
    stale = [m.id for m in _catalog(language) if m.id and m.id not in EXTRACTED]
    stale = [s for s in stale if (s if isinstance(s, str) else s[0]) not in EXTRACTED]
    assert not stale, stale[:10]
