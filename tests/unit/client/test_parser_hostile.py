"""Hostile and broken input: the SDK parser raises FeedError with a clear message and
the line, never expands an entity, never reads a file or the network (DESIGN.md: a
hardened parser; issue 13, parser test d)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gbconnect.client import FeedError, parse, readings
from gbconnect.client.parser.hardened import parse_document
from tests.unit.client.feeds import block, feed, meter_reading, reading, reading_type, usage_point

T = 1704067200
GOOD = feed(usage_point(), meter_reading(), reading_type(), block(reading(T) * 3))

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>"""


def xxe(target: Path) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE f [<!ENTITY x SYSTEM "file://{target}">]>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></feed>'
    ).encode()


def test_entity_expansion_dtd_is_refused(tmp_path: Path) -> None:
    for doc in (LAUGHS, xxe(tmp_path / "secret")):
        with pytest.raises(FeedError, match="DTD") as info:
            list(parse(doc))
        assert info.value.line is not None


def test_a_dtd_after_a_long_comment_is_refused_too() -> None:
    doc = b"<!--" + b"x" * 70000 + b"-->" + LAUGHS.split(b"?>", 1)[1]
    with pytest.raises(FeedError, match="DTD"):
        list(parse(doc))


def test_an_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("TOP-SECRET")
    with pytest.raises(FeedError) as info:
        parse_document(xxe(secret))
    assert "TOP-SECRET" not in str(info.value)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b"", "empty document"),
        (b"   \n", "empty document"),
        (b"hello, world", "not an XML document"),
        (b"\x00\x01\x02binary", "not an XML document"),
        (b'{"json": true}', "not an XML document"),
    ],
)
def test_not_xml(doc: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message) as info:
        list(parse(doc))
    assert info.value.line == 1


def test_truncated_document_names_the_line() -> None:
    cut = GOOD[: len(GOOD) // 2].replace(b"><", b">\n<")
    with pytest.raises(FeedError, match="not well-formed XML") as info:
        list(readings(cut))
    assert info.value.line is not None and info.value.line > 1
    assert f"line {info.value.line}" in str(info.value)


def test_mismatched_tags_name_the_line() -> None:
    doc = b'<feed xmlns="http://www.w3.org/2005/Atom">\n<entry>\n</feed>'
    with pytest.raises(FeedError) as info:
        list(parse(doc))
    assert info.value.line == 3


def test_every_kind_of_source_parses_alike(tmp_path: Path) -> None:
    path = tmp_path / "f.xml"
    path.write_bytes(GOOD)
    chunks = [GOOD[i : i + 7] for i in range(0, len(GOOD), 7)]
    got = [
        list(readings(src))
        for src in (GOOD, bytearray(GOOD), path, str(path), io.BytesIO(GOOD), iter(chunks))
    ]
    assert all(g == got[0] for g in got) and len(got[0]) == 3


def test_a_missing_file_or_a_text_stream_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="cannot read"):
        list(parse(tmp_path / "absent.xml"))
    with pytest.raises(TypeError, match="binary mode"):
        list(parse(io.StringIO("<feed/>")))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cannot parse"):
        list(parse(42))  # type: ignore[arg-type]


def test_parse_document_errors() -> None:
    for doc, message in ((b"", "empty"), (b"nope", "not an XML"), (b"<a><b></a>", "well-formed")):
        with pytest.raises(FeedError, match=message):
            parse_document(doc)
