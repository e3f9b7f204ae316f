"""UsageSummary (REQ.21 FB_15/FB_16) and customer.xsd records (FB_51-71) as the SDK
parser gives them."""

from __future__ import annotations

from gbconnect.client import CustomerRecord, UsageSummary, parse
from tests.unit.client.feeds import BASE, ESPI, UP, entry, feed

CUSTOMER = "http://naesb.org/espi/customer"


def test_usage_summary_money_and_consumption() -> None:
    body = (
        f'<UsageSummary xmlns="{ESPI}"><billingPeriod><duration>2592000</duration>'
        "<start>1704067200</start></billingPeriod><billLastPeriod>8812000</billLastPeriod>"
        "<currency>840</currency><overallConsumptionLastPeriod><powerOfTenMultiplier>3"
        "</powerOfTenMultiplier><uom>72</uom><value>612</value></overallConsumptionLastPeriod>"
        "<qualityOfReading>14</qualityOfReading><statusTimeStamp>1706659200</statusTimeStamp>"
        "</UsageSummary>"
    )
    doc = feed(entry(f"{UP}/UsageSummary/1", f"{UP}/UsageSummary", body))
    (s,) = [i for i in parse(doc) if isinstance(i, UsageSummary)]
    assert s.usage_point == UP and s.billing_period_start == 1704067200
    assert s.billing_period_duration == 2592000 and s.bill_last_period == 88.12
    assert s.overall_consumption_last_period == 612000.0 and s.unit == "Wh"
    assert s.currency == 840 and s.quality_of_reading == 14
    assert s.status_timestamp == 1706659200 and s.fields["billLastPeriod"] == "8812000"


def test_older_electric_power_usage_summary_name() -> None:
    body = (
        f'<ElectricPowerUsageSummary xmlns="{ESPI}"><billLastPeriod>100000</billLastPeriod>'
        "</ElectricPowerUsageSummary>"
    )
    doc = feed(entry(f"{UP}/ElectricPowerUsageSummary/1", f"{UP}/ElectricPowerUsageSummary", body))
    (s,) = [i for i in parse(doc) if isinstance(i, UsageSummary)]
    assert s.usage_point == UP and s.bill_last_period == 1.0 and s.unit == ""


def test_customer_records_flatten_their_leaves() -> None:
    location = (
        f'<cust:ServiceLocation xmlns:cust="{CUSTOMER}"><cust:mainAddress><cust:streetDetail>'
        "<cust:number>12</cust:number><cust:name>Main</cust:name></cust:streetDetail>"
        "<cust:townDetail><cust:name>Oakland</cust:name></cust:townDetail></cust:mainAddress>"
        "<cust:phone1><cust:localNumber>555</cust:localNumber></cust:phone1>"
        "<cust:phone1><cust:localNumber>556</cust:localNumber></cust:phone1>"
        "</cust:ServiceLocation>"
    )
    customer = f'<Customer xmlns="{CUSTOMER}"><name>Alice</name><kind>residential</kind></Customer>'
    href = f"{BASE}/RetailCustomer/9/Customer/1"
    doc = feed(
        entry(href, f"{BASE}/RetailCustomer/9/Customer", customer, title="Alice"),
        entry(f"{href}/ServiceLocation/4", f"{href}/ServiceLocation", location),
    )
    first, second = [i for i in parse(doc) if isinstance(i, CustomerRecord)]
    assert (first.kind, first.href, first.title) == ("Customer", href, "Alice")
    assert first.fields == {"name": "Alice", "kind": "residential"}
    assert second.kind == "ServiceLocation"
    assert second.fields == {
        "mainAddress.streetDetail.number": "12",
        "mainAddress.streetDetail.name": "Main",
        "mainAddress.townDetail.name": "Oakland",
        "phone1.localNumber": "555",
        "phone1.localNumber[2]": "556",
    }
