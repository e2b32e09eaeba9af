"""The Alembic migrations build exactly the tables the models describe, on both databases."""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from bot.ground import migrate
from bot.ground.db import make_engine
from bot.ground.models import Mention


def test_the_migrated_schema_matches_the_models(engine):
    assert migrate.is_current(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(sqlite_engine):
    migrate.upgrade(sqlite_engine)
    assert migrate.is_current(sqlite_engine)


def test_the_newest_file_is_alembics_head_and_each_file_is_named_after_its_revision():
    """`migrate.head()` reads the file names, so that a start need not load Alembic: they must say what it says."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert script.get_heads() == [migrate.head()]
    for revision in script.walk_revisions():
        assert Path(revision.path).name.startswith(f"{revision.revision}_")


def test_a_database_nothing_has_migrated_is_not_current_and_has_no_revision(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert (migrate.current(engine), migrate.is_current(engine)) == (None, False)
    migrate.upgrade(engine, "0006")
    assert (migrate.current(engine), migrate.is_current(engine)) == ("0006", False)
    engine.dispose()


def test_a_process_that_finds_its_schema_current_never_loads_alembic(sqlite_engine):
    """Every start of `allears run` upgrades; on a current schema that is one query, not Alembic, Mako and Pygments."""
    code = (
        "import sys, bot.app.startup; from bot.ground import migrate; from bot.ground.db import make_engine;"
        " migrate.upgrade(make_engine(sys.argv[1])); print('alembic' in sys.modules, 'mako' in sys.modules)"
    )
    url = sqlite_engine.url.render_as_string(hide_password=False)
    loaded = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True).stdout
    assert loaded.split() == ["False", "False"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database nothing has migrated yet."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'older.db'}"
    return request.getfixturevalue("own_postgres_url")


def test_a_year_of_history_keeps_its_first_claims_and_resolves_after_the_upgrade(new_database_url):
    """A bot upgraded from 0006 measures the waits from the mention: the upgrade fills in what the events say."""
    engine = make_engine(new_database_url)
    migrate.upgrade(engine, "0006")
    with engine.begin() as connection:
        for mention_id in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO mention (id, source, source_kind, external_id, text, heard_at, polarity, sentiment,"
                    " category, urgency, needs_human, channel, status)"
                    " VALUES (:id, 'blog', 'rss', :external, 'Acme is down', :heard, -0.5, 'negative', 'complaint',"
                    " 'high', true, 'C0LISTEN', 'open')"
                ),
                {"id": mention_id, "external": f"post-{mention_id}", "heard": at(9)},
            )
        history = [
            (1, "claimed", "U0ANA", at(10)),
            (1, "unclaimed", "U0ANA", at(11)),
            (1, "claimed", "U0BEN", at(12)),
            (1, "resolved", "U0BEN", at(13)),
            (1, "reopened", "U0BEN", at(14)),
            (1, "resolved", "U0BEN", at(15)),
        ]
        for mention_id, kind, actor, moment in history:
            connection.execute(
                text("INSERT INTO event (mention_id, kind, actor, at, data) VALUES (:m, :kind, :actor, :at, '{}')"),
                {"m": mention_id, "kind": kind, "actor": actor, "at": moment},
            )
    migrate.upgrade(engine)
    with Session(engine) as session:
        ana_then_ben, untouched = session.get(Mention, 1), session.get(Mention, 2)
    engine.dispose()
    assert ana_then_ben and untouched
    assert (ana_then_ben.first_claimed_at, ana_then_ben.first_resolved_at) == (at(10), at(13))
    assert (untouched.first_claimed_at, untouched.first_resolved_at) == (None, None)


def at(hour: int) -> datetime:
    return datetime(2026, 11, 23, hour, tzinfo=UTC)
