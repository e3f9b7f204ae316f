"""Usage models (REQ.21 espi.xsd): UsagePoint and the resources beneath it.

Interval data is stored by block, not by reading (DESIGN.md): one row per
MeterReading and IntervalBlock, its readings packed by :mod:`gbconnect.usage.blocks`.
Structured values that are only ever read back whole (SummaryMeasurement, LineItem,
ServiceDeliveryPoint, ...) are JSON in document order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gbconnect.db import Base
from gbconnect.resource import ResourceMixin


class _Owned(ResourceMixin):
    retail_customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("retail_customer.id", ondelete="CASCADE"), index=True
    )


class LocalTimeParameters(_Owned, Base):
    """espi.xsd TimeConfiguration, published as LocalTimeParameters (FB_1)."""

    __tablename__ = "local_time_parameters"
    __table_args__ = (UniqueConstraint("retail_customer_id", "source_key"),)

    #: DstRuleType: 8 hex digits (REQ.21 section 6.3.1.5).
    dst_end_rule: Mapped[str | None] = mapped_column(String(8))
    dst_offset: Mapped[int | None] = mapped_column(BigInteger)
    dst_start_rule: Mapped[str | None] = mapped_column(String(8))
    tz_offset: Mapped[int | None] = mapped_column(BigInteger)


class UsagePoint(_Owned, Base):
    """espi.xsd UsagePoint: a metered service (electricity, gas, water, ...)."""

    __tablename__ = "usage_point"
    __table_args__ = (
        UniqueConstraint("retail_customer_id", "source_key"),
        CheckConstraint("service_kind >= 0", name="service_kind"),
    )

    #: ServiceCategory/kind (ServiceKind: 0 electricity, 1 gas, 2 water, ...).
    service_kind: Mapped[int] = mapped_column(Integer)
    status: Mapped[int | None] = mapped_column(SmallInteger)
    #: HexBinary16 as written (4 hex digits).
    role_flags: Mapped[str | None] = mapped_column(String(8))
    service_delivery_point: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The remaining optional elements of espi.xsd UsagePoint, in schema order.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    local_time_parameters_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("local_time_parameters.id", ondelete="SET NULL")
    )

    meter_readings: Mapped[list[MeterReading]] = relationship(
        back_populates="usage_point", cascade="all, delete-orphan", passive_deletes=True
    )
    local_time_parameters: Mapped[LocalTimeParameters | None] = relationship()


class ReadingType(_Owned, Base):
    """espi.xsd ReadingType: every element of the schema, one column each (FB_4)."""

    __tablename__ = "reading_type"
    __table_args__ = (UniqueConstraint("retail_customer_id", "source_key"),)

    accumulation_behaviour: Mapped[int | None] = mapped_column(Integer)
    commodity: Mapped[int | None] = mapped_column(Integer)
    consumption_tier: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[int | None] = mapped_column(Integer)
    data_qualifier: Mapped[int | None] = mapped_column(Integer)
    default_quality: Mapped[int | None] = mapped_column(Integer)
    flow_direction: Mapped[int | None] = mapped_column(Integer)
    interval_length: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[int | None] = mapped_column(Integer)
    phase: Mapped[int | None] = mapped_column(Integer)
    power_of_ten_multiplier: Mapped[int | None] = mapped_column(Integer)
    time_attribute: Mapped[int | None] = mapped_column(Integer)
    tou: Mapped[int | None] = mapped_column(Integer)
    uom: Mapped[int | None] = mapped_column(Integer)
    cpp: Mapped[int | None] = mapped_column(Integer)
    interharmonic_numerator: Mapped[int | None] = mapped_column(BigInteger)
    interharmonic_denominator: Mapped[int | None] = mapped_column(BigInteger)
    measuring_period: Mapped[int | None] = mapped_column(Integer)
    argument_numerator: Mapped[int | None] = mapped_column(BigInteger)
    argument_denominator: Mapped[int | None] = mapped_column(BigInteger)


class MeterReading(ResourceMixin, Base):
    """espi.xsd MeterReading: one channel of a UsagePoint, typed by its ReadingType."""

    __tablename__ = "meter_reading"
    __table_args__ = (UniqueConstraint("usage_point_id", "source_key"),)

    usage_point_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("usage_point.id", ondelete="CASCADE"), index=True
    )
    reading_type_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("reading_type.id", ondelete="SET NULL")
    )
    #: Longest stored block, so that an overlap search stays an index range scan.
    max_block_duration: Mapped[int] = mapped_column(BigInteger, default=0)

    usage_point: Mapped[UsagePoint] = relationship(back_populates="meter_readings")
    reading_type: Mapped[ReadingType | None] = relationship()


class IntervalBlock(Base):
    """espi.xsd IntervalBlock, readings packed (see :mod:`gbconnect.usage.blocks`)."""

    __tablename__ = "interval_block"
    __table_args__ = (
        UniqueConstraint("meter_reading_id", "start"),
        CheckConstraint("duration >= 0", name="duration"),
        CheckConstraint("reading_count >= 0", name="reading_count"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    meter_reading_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("meter_reading.id", ondelete="CASCADE")
    )
    #: The block's ``interval``: start (seconds since 1970 UTC) and duration (seconds).
    start: Mapped[int] = mapped_column(BigInteger)
    duration: Mapped[int] = mapped_column(BigInteger)
    reading_count: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    published: Mapped[int] = mapped_column(BigInteger)
    updated: Mapped[int] = mapped_column(BigInteger)


class UsageSummary(ResourceMixin, Base):
    """espi.xsd UsageSummary (older name ElectricPowerUsageSummary), FB_15/16/26/27/28."""

    __tablename__ = "usage_summary"
    __table_args__ = (UniqueConstraint("usage_point_id", "source_key"),)

    usage_point_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("usage_point.id", ondelete="CASCADE"), index=True
    )
    billing_period_start: Mapped[int | None] = mapped_column(BigInteger)
    billing_period_duration: Mapped[int | None] = mapped_column(BigInteger)
    bill_last_period: Mapped[int | None] = mapped_column(BigInteger)
    bill_to_date: Mapped[int | None] = mapped_column(BigInteger)
    cost_additional_last_period: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[int | None] = mapped_column(Integer)
    quality_of_reading: Mapped[int | None] = mapped_column(Integer)
    status_timestamp: Mapped[int | None] = mapped_column(BigInteger)
    commodity: Mapped[int | None] = mapped_column(Integer)
    tariff_profile: Mapped[str | None] = mapped_column(String(256))
    read_cycle: Mapped[str | None] = mapped_column(String(256))
    #: SummaryMeasurement elements by name (overallConsumptionLastPeriod, peakDemand, ...).
    measurements: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: costAdditionalDetailLastPeriod line items, in order.
    line_items: Mapped[list[Any] | None] = mapped_column(JSON)
    #: ratchetDemandPeriod, tariffRiderRefs, billingChargeSource, extensions.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ElectricPowerQualitySummary(ResourceMixin, Base):
    """espi.xsd ElectricPowerQualitySummary (FB_17)."""

    __tablename__ = "electric_power_quality_summary"
    __table_args__ = (UniqueConstraint("usage_point_id", "source_key"),)

    usage_point_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("usage_point.id", ondelete="CASCADE"), index=True
    )
    flicker_plt: Mapped[int | None] = mapped_column(BigInteger)
    flicker_pst: Mapped[int | None] = mapped_column(BigInteger)
    harmonic_voltage: Mapped[int | None] = mapped_column(BigInteger)
    long_interruptions: Mapped[int | None] = mapped_column(BigInteger)
    mains_voltage: Mapped[int | None] = mapped_column(BigInteger)
    measurement_protocol: Mapped[int | None] = mapped_column(Integer)
    power_frequency: Mapped[int | None] = mapped_column(BigInteger)
    rapid_voltage_changes: Mapped[int | None] = mapped_column(BigInteger)
    short_interruptions: Mapped[int | None] = mapped_column(BigInteger)
    summary_interval_start: Mapped[int | None] = mapped_column(BigInteger)
    summary_interval_duration: Mapped[int | None] = mapped_column(BigInteger)
    supply_voltage_dips: Mapped[int | None] = mapped_column(BigInteger)
    supply_voltage_imbalance: Mapped[int | None] = mapped_column(BigInteger)
    supply_voltage_variations: Mapped[int | None] = mapped_column(BigInteger)
    temp_overvoltage: Mapped[int | None] = mapped_column(BigInteger)
