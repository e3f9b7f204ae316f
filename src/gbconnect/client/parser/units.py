"""Unit names of the ESPI ``UnitSymbolKind`` codes a Green Button feed uses (REQ.21
espi.xsd; ``code-tables.json`` holds the full table: the SDK embeds the codes it needs
so that it stands alone). Money (uom 80) is written ``$``: ESPI's generic money unit,
the currency being the ReadingType's ``currency`` (ISO 4217, 840 = USD)."""

from __future__ import annotations

UNITS: dict[int, str] = {
    0: "",
    2: "m",
    5: "A",
    6: "K",
    23: "degC",
    27: "s",
    29: "V",
    31: "J",
    33: "Hz",
    38: "W",
    41: "m2",
    42: "m3",
    61: "VA",
    63: "VAr",
    65: "cosTheta",
    71: "VAh",
    72: "Wh",
    73: "VArh",
    80: "$",
    106: "Ah",
    111: "count",
    119: "ft3",
    120: "ft3compensated",
    125: "m3PerH",
    128: "usGal",
    130: "imperialGal",
    132: "btu",
    133: "btuPerH",
    134: "litre",
    159: "min",
    160: "h",
    166: "m3uncompensated",
    167: "m3compensated",
    169: "therm",
}


def unit_name(uom: int | None) -> str:
    """The unit of ``uom``; ``""`` when absent, ``"uom<code>"`` for a code not listed
    here (every code list accepts any UInt16)."""
    if uom is None:
        return ""
    return UNITS.get(uom, f"uom{uom}")
