"""Atom text escaping (REQ.21 FB_1: every text of an entry is XML character data)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from gbconnect.espi.atom import UnwritableText, escape

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@given(st.text(st.characters(exclude_categories=["Cs"])))
def test_escape_writes_any_allowed_text_or_refuses(text: str) -> None:
    if _FORBIDDEN.search(text):
        with pytest.raises(UnwritableText):
            escape(text)
        return
    parsed = etree.fromstring(f"<t>{escape(text)}</t>".encode())
    # An XML parser reads line ends as "\n" (XML 1.0 section 2.11); all else comes back.
    assert (parsed.text or "") == text.replace("\r\n", "\n").replace("\r", "\n")


def test_plain_texts_are_returned_as_they_are() -> None:
    href = "https://utility.example/DataCustodian/espi/1_1/resource/UsagePoint/4503599627370497"
    assert escape(href) == href
    assert escape(42) == "42"
    assert escape('a&b<c>"d') == "a&amp;b&lt;c&gt;&quot;d"
