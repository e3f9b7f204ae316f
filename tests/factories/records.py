"""customer.xsd records of a retail customer (REQ.21 FB_51 Retail Customer): Customer,
CustomerAccount, CustomerAgreement, ServiceLocation and Meter."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gbconnect.customer import models as cm


def add_customer_records(
    session: Session, owner_id: int, up_id: int, name: str = "Alice Doe"
) -> cm.Customer:
    """The records of one usage point: customer, account, agreement, service location
    (with an address stored the way the generator stores it) and meter."""
    customer = cm.Customer(
        retail_customer_id=owner_id,
        kind="residential",
        name=name,
        details={"customerName": name, "kind": "residential"},
    )
    session.add(customer)
    session.flush()
    account = cm.CustomerAccount(
        retail_customer_id=owner_id,
        customer_id=customer.id,
        account_id="4455",
        title="Account 4455",
        details={"accountId": "4455", "billingCycle": "7"},
    )
    session.add(account)
    session.flush()
    agreement = cm.CustomerAgreement(
        retail_customer_id=owner_id,
        customer_account_id=account.id,
        agreement_id="SA-1",
        name="Electric service SA-1",
        sign_date=1600000000,
    )
    session.add(agreement)
    session.flush()
    session.execute(
        cm.agreement_usage_point.insert(),
        [{"customer_agreement_id": agreement.id, "usage_point_id": up_id}],
    )
    location = cm.ServiceLocation(
        retail_customer_id=owner_id,
        customer_agreement_id=agreement.id,
        address="1 Main St",
        details={
            "mainAddress": {
                "streetDetail": {"addressGeneral": "1 Main St"},
                "townDetail": {"name": "Oakland", "stateOrProvince": "CA", "code": "94612"},
            }
        },
    )
    session.add(location)
    session.flush()
    session.add(
        cm.Meter(
            retail_customer_id=owner_id,
            service_location_id=location.id,
            usage_point_id=up_id,
            serial_number="M-001",
            form_number="2S",
        )
    )
    session.flush()
    return customer
