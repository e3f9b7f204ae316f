"""DownloadSampleData shows every data block the server offers by default (REQ.21
section 5), schema-valid, and the generator's other blocks besides."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from gbconnect.config import Settings
from tests.factories.world import World
from tests.integration.oauth.test_espi_access import NS, bearer, valid

C = {"c": "http://naesb.org/espi/customer", **NS}

Doc = etree._Element


def _has(path: str) -> Callable[[Doc], bool]:
    return lambda doc: doc.find(path, C) is not None


def _reading_type(**wanted: int) -> Callable[[Doc], bool]:
    """A ReadingType with these element values, and IntervalBlocks in its MeterReading."""

    def check(doc: Doc) -> bool:
        for rt in doc.iterfind(".//e:ReadingType", C):
            if all(rt.findtext(f"e:{k}", namespaces=C) == str(v) for k, v in wanted.items()):
                return True
        return False

    return check


#: What shows each data block (STANDARD.md section 5).
CHECKS: dict[int, Callable[[Doc], bool]] = {
    1: _has(".//e:LocalTimeParameters/e:dstStartRule"),
    4: _has(".//e:IntervalBlock/e:IntervalReading"),
    5: _reading_type(accumulationBehaviour=4, commodity=1, flowDirection=1, kind=12, uom=72),
    6: _reading_type(kind=37, uom=38),
    7: _reading_type(commodity=1, flowDirection=4),
    8: _reading_type(commodity=1, flowDirection=19),
    9: _reading_type(accumulationBehaviour=1),
    10: _reading_type(commodity=7),
    12: _has(".//e:IntervalReading/e:cost"),
    15: _has(".//e:UsageSummary/e:overallConsumptionLastPeriod"),
    16: _has(".//e:UsageSummary/e:billLastPeriod"),
    17: _has(".//e:ElectricPowerQualitySummary/e:summaryInterval"),
    26: _has(".//e:UsageSummary/e:costAdditionalDetailLastPeriod"),
    27: lambda doc: all(
        doc.find(f".//e:UsageSummary/e:{name}", C) is not None
        for name in ("peakDemand", "ratchetDemand", "previousDayOverallConsumption")
    ),
    28: _has(".//e:UsageSummary/e:billToDate"),
    51: _has(".//c:Customer/c:customerName"),
    53: _has(".//c:Customer"),
    57: lambda doc: all(
        doc.find(path, C) is not None
        for path in (".//c:CustomerAccount/c:accountId", ".//c:CustomerAgreement/c:agreementId")
    ),
    58: _has(".//c:ServiceLocation/c:mainAddress"),
    60: _has(".//c:Meter/c:serialNumber"),
}


def _sample(world: World) -> Doc:
    r = world.client.get(world.url("/DownloadSampleData"), headers=bearer(world.client_token()))
    assert r.status_code == 200
    return valid(r.content)


def test_sample_data_shows_every_offered_block(world: World) -> None:
    doc = _sample(world)
    offered = Settings.model_fields["function_blocks"].default
    blocks = {int(b) for b in offered.split("_")}
    missing = [n for n in sorted(blocks & set(CHECKS)) if not CHECKS[n](doc)]
    assert not missing, f"offered blocks absent from the sample: {missing}"


def test_sample_data_shows_every_generated_block(world: World) -> None:
    doc = _sample(world)
    missing = [n for n, check in CHECKS.items() if not check(doc)]
    assert not missing, f"blocks absent from the sample: {missing}"


def test_sample_usage_points_link_their_local_time_parameters(world: World) -> None:
    doc = _sample(world)
    selves = set(
        doc.xpath(
            "a:entry[a:content/e:LocalTimeParameters]/a:link[@rel='self']/@href", namespaces=C
        )
    )
    points = doc.xpath("a:entry[a:content/e:UsagePoint]", namespaces=C)
    assert points and selves
    for point in points:
        related = set(point.xpath("a:link[@rel='related']/@href", namespaces=NS))
        assert related & selves


def test_sample_agreement_has_a_demand_response_enrolment(world: World) -> None:
    doc = _sample(world)
    program = doc.find(".//c:CustomerAgreement/c:DemandResponseProgram", C)
    assert program is not None
    assert program.findtext("c:enrollmentStatus", namespaces=C) == "enrolled"
    assert program.findtext("c:programDate/c:programDateDescription", namespaces=C)
