"""The ESPI BatchList (REQ.21 FB_39, espi.xsd BatchListType): written valid against
espi.xsd, read back with the hardened parser, every URI escaped, bad input refused."""

from __future__ import annotations

from functools import cache

import pytest
from lxml import etree

from gbconnect.errors import InputError
from gbconnect.espi.batchlist import BatchListError, batch_list, read_batch_list
from gbconnect.espi.validate import SchemaSet
from tests.shared import schemas_dir

URIS = [
    "https://dc.example.com/espi/1_1/resource/Batch/Bulk/123",
    "https://dc.example.com/espi/1_1/resource/Batch/Subscription/5/UsagePoint/7",
]


@cache
def _espi_schema() -> etree.XMLSchema:
    return SchemaSet(schemas_dir()).schema


def _assert_valid(body: bytes) -> None:
    schema = _espi_schema()
    doc = etree.fromstring(body)
    assert schema.validate(doc), schema.error_log


def test_round_trip_keeps_uris_in_order() -> None:
    assert read_batch_list(batch_list(URIS)) == URIS


def test_written_document_shape() -> None:
    body = batch_list(URIS[:1])
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = etree.fromstring(body)
    assert root.tag == "{http://naesb.org/espi}BatchList"
    assert [c.tag for c in root] == ["{http://naesb.org/espi}resources"]
    assert root[0].text == URIS[0]


def test_written_document_validates_against_espi_xsd() -> None:
    _assert_valid(batch_list(URIS))
    _assert_valid(batch_list([*URIS, "http://x.example/a?b=1&c=ü"]))


def test_ampersand_and_non_ascii_are_escaped_and_read_back() -> None:
    uri = "https://dc.example.com/espi/Batch/Bulk/1?published-min=2026&käse=ü&x=<>"
    body = batch_list([uri])
    assert b"&amp;" in body and b"&lt;" in body and "ü".encode() in body
    assert b"?published-min=2026&k" not in body
    assert read_batch_list(body) == [uri]
    _assert_valid(body)


def test_reads_prefixed_namespace_comments_and_whitespace() -> None:
    body = (
        b"<?xml version='1.0'?><!-- notice -->\n<e:BatchList xmlns:e='http://naesb.org/espi'>\n"
        b"  <e:resources> https://a.example/1 </e:resources><!-- c -->\n"
        b"  <e:resources>http://b.example/2</e:resources>\n</e:BatchList>"
    )
    assert read_batch_list(body) == ["https://a.example/1", "http://b.example/2"]


@pytest.mark.parametrize(
    "uris",
    [
        [],
        ["/espi/Batch/Bulk/1"],
        ["ftp://a.example/1"],
        ["urn:uuid:0e7b0f1a-0000-0000-0000-000000000000"],
        ["https:///no-host"],
        ["https://a.example/with space"],
        ["https://a.example/\x01"],
        [URIS[0], "mailto:x@example.com"],
    ],
)
def test_write_refuses_no_uri_or_a_non_absolute_http_uri(uris: list[str]) -> None:
    with pytest.raises(BatchListError):
        batch_list(uris)


def test_write_refuses_a_single_string() -> None:
    with pytest.raises(BatchListError):
        batch_list(URIS[0])


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<BatchList xmlns='http://naesb.org/espi'><resources>https://a.example/1",
        b"<BatchList><resources>https://a.example/1</resources></BatchList>",
        b"<feed xmlns='http://www.w3.org/2005/Atom'/>",
        b"<BatchList xmlns='http://naesb.org/espi'/>",
        b"<BatchList xmlns='http://naesb.org/espi'><resources/></BatchList>",
        b"<BatchList xmlns='http://naesb.org/espi'><resources>/rel</resources></BatchList>",
        b"<BatchList xmlns='http://naesb.org/espi'><other>https://a.example/</other></BatchList>",
        b"<BatchList xmlns='http://naesb.org/espi'><resources><b/></resources></BatchList>",
        b"<!DOCTYPE x [<!ENTITY e 'https://a.example/'>]>"
        b"<BatchList xmlns='http://naesb.org/espi'><resources>&e;</resources></BatchList>",
        b"<?xml version='1.0'?><!DOCTYPE BatchList SYSTEM 'http://evil.example/x.dtd'>"
        b"<BatchList xmlns='http://naesb.org/espi'/>",
    ],
)
def test_read_refuses_malformed_or_non_batchlist_bodies(body: bytes) -> None:
    with pytest.raises(BatchListError):
        read_batch_list(body)


def test_read_refuses_an_oversized_body() -> None:
    with pytest.raises(BatchListError):
        read_batch_list(b" " * (1024 * 1024 + 1))


def test_refusals_are_input_errors() -> None:
    assert issubclass(BatchListError, InputError)
    assert BatchListError.status == 400
