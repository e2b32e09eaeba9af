"""Alembic environment: migrations target SQLModel's metadata on whichever engine the CLI hands over."""

from alembic import context
from sqlalchemy import Connection, text
from sqlmodel import SQLModel

import bot.ground.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.ground.db import make_engine

_MIGRATION_LOCK = 0x616C6C656172  # "allear": any fixed number shared by all processes


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two releases starting together must not both create the tables.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic was run without a database: use `allears db upgrade`")
    engine = make_engine(url)
    with engine.connect() as new_connection:
        _run(new_connection)
    engine.dispose()
