"""Alembic environment: runs against the engine handed over by :func:`gbconnect.db.upgrade`."""

from __future__ import annotations

from alembic import context

from gbconnect import models  # noqa: F401  (registers every table)
from gbconnect.db import Base, make_engine

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: read the settings
    from gbconnect.config import get_settings

    engine = make_engine(get_settings().sqlalchemy_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
