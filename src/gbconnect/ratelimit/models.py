"""The ``rate_counter`` table: the counters every API process shares on PostgreSQL
(:mod:`gbconnect.ratelimit.store`)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from gbconnect.db import Base


class RateCounter(Base):
    """Hits of one key (a client id's hourly limit, a sign-in pair...) in one window or
    bucket starting at ``start`` (epoch seconds); deletable once ``expires`` passes."""

    __tablename__ = "rate_counter"
    __table_args__ = (
        CheckConstraint("count >= 0", name="count_not_negative"),
        Index("ix_rate_counter_expires", "expires"),
    )

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(BigInteger)
    expires: Mapped[int] = mapped_column(BigInteger)
