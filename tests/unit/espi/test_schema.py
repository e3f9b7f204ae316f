"""The element tables of gbconnect.espi.schema follow espi.xsd and customer.xsd:
every element they name exists in its type's sequence, in the schema's order (the
writers rely on it; STANDARD.md: ``xs:sequence`` order is strict)."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from gbconnect.espi import schema
from tests.shared import schemas_dir

XS = "{http://www.w3.org/2001/XMLSchema}"


def _sequences(name: str) -> dict[str, list[str]]:
    """Complex type -> its flattened element sequence, base types first."""
    doc = etree.parse(str(schemas_dir() / name))
    types: dict[str, Any] = {t.get("name"): t for t in doc.iter(XS + "complexType")}

    def flat(type_name: str) -> list[str]:
        node = types[type_name]
        out: list[str] = []
        ext = node.find(f".//{XS}extension")
        if ext is not None:
            base = str(ext.get("base")).split(":")[-1]
            if base in types:
                out += flat(base)
            node = ext
        seq = node.find(XS + "sequence")
        if seq is not None:
            out += [str(e.get("name")) for e in seq.findall(XS + "element")]
        return out

    return {t: flat(t) for t in types}


ESPI = _sequences("espi.xsd")
CUSTOMER = _sequences("customer.xsd")


def _in_schema_order(names: list[str], sequence: list[str]) -> None:
    missing = [n for n in names if n not in sequence]
    assert not missing, f"not in the schema: {missing}"
    positions = [sequence.index(n) for n in names]
    assert positions == sorted(positions), f"out of order: {names}"


@pytest.mark.parametrize(
    ("type_name", "fields"),
    [
        ("UsagePoint", schema.USAGE_POINT),
        ("ReadingType", schema.READING_TYPE),
        ("TimeConfiguration", schema.LOCAL_TIME_PARAMETERS),
        ("UsageSummary", schema.USAGE_SUMMARY),
        ("ElectricPowerQualitySummary", schema.QUALITY_SUMMARY),
    ],
)
def test_espi_resource_tables_follow_espi_xsd(
    type_name: str, fields: tuple[schema.Field, ...]
) -> None:
    _in_schema_order([f.element for f in fields], ESPI[type_name])


@pytest.mark.parametrize(
    ("vocabulary", "sequences"),
    [(schema.ESPI_TYPES, ESPI), (schema.CUSTOMER_TYPES, CUSTOMER)],
)
def test_nested_structure_orders_follow_the_schema(
    vocabulary: schema.Vocabulary, sequences: dict[str, list[str]]
) -> None:
    for type_name, order in vocabulary.order.items():
        _in_schema_order(list(order), sequences[type_name])


def test_customer_columns_name_elements_of_their_resource() -> None:
    for kind, fields in schema.CUSTOMER_COLUMNS.items():
        for f in fields:
            assert f.element in schema.CUSTOMER_TYPES.order[kind]
            assert f.element in CUSTOMER[kind]


def test_stored_structures_are_written_in_schema_order() -> None:
    stored = {"value": "5", "uom": "72", "powerOfTenMultiplier": "0", "extra": "x"}
    assert schema.stored_xml(schema.ESPI_TYPES, "peakDemand", stored) == (
        "<peakDemand><powerOfTenMultiplier>0</powerOfTenMultiplier><uom>72</uom>"
        "<value>5</value><extra>x</extra></peakDemand>"
    )
    items = [{"note": "a", "amount": "1"}, {"amount": "2"}]
    assert schema.stored_xml(schema.ESPI_TYPES, "costAdditionalDetailLastPeriod", items) == (
        "<costAdditionalDetailLastPeriod><amount>1</amount><note>a</note>"
        "</costAdditionalDetailLastPeriod>"
        "<costAdditionalDetailLastPeriod><amount>2</amount></costAdditionalDetailLastPeriod>"
    )
