"""The Alembic migrations build exactly the tables the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from bot import migrate


def test_the_migrated_schema_matches_the_models(engine):
    assert migrate.is_current(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(sqlite_engine):
    migrate.upgrade(sqlite_engine)
    assert migrate.is_current(sqlite_engine)
