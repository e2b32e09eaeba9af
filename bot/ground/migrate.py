"""Schema migrations (Alembic), run by `allears db upgrade` and by the single-process `allears run`.

Every process asks at start whether the schema is current, and it almost always is: that question is answered
from the version table and the migration files' names, so Alembic (and the Mako and Pygments it imports, a
tenth of a start's imports) is loaded only when there is something to migrate."""

from importlib.resources import files
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

VERSION_TABLE = "alembic_version"
"""Alembic's own default, where it records the revision a database is at."""


def head() -> str:
    """The newest migration's revision. Each file in `versions/` is named after its revision (`0018_….py` holds
    revision "0018"), and the chain is one line; tests/test_migrations.py holds both to Alembic's reading."""
    names = [entry.name for entry in files("bot.ground.migrations.versions").iterdir()]
    return max(name.split("_", 1)[0] for name in names if name[:4].isdigit() and name.endswith(".py"))


def current(engine: Engine) -> str | None:
    """The revision the database is at; None for a database nothing has migrated."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def is_current(engine: Engine) -> bool:
    return current(engine) == head()


def alembic_config() -> "AlembicConfig":
    """Alembic's view of the migrations, for upgrading and for the tests that hold `head()` to it."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", "bot.ground:migrations")
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head" and is_current(engine):
        return
    from alembic import command

    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()
