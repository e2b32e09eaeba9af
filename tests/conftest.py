"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and a clock-free factory for mentions."""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from bot.app.standin.slack import FakeSlack
from bot.ground import migrate
from bot.ground.db import make_engine
from tests.apiserver import ApiServer
from tests.botprocess import BotProcess, config_toml
from tests.databases import new_postgres_database
from tests.feedserver import FeedServer


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real feeds, tweets and API recordings in `../shared/data`, beside the project: tests reach it only
    through this fixture, which says where it looked when the data is missing."""
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (shared / "README.md").is_file():
        pytest.fail(f"the shared data is missing: expected it in {shared} (see the README's test section)")
    return shared


@pytest.fixture(scope="session")
def recordings(shared_data: Path) -> Path:
    """Real answers of the services' APIs (Reddit, Hacker News, Mastodon, Bluesky, GitHub), as recorded."""
    return shared_data / "api"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One database for the storage tests of this run; each test empties it first."""
    with new_postgres_database() as url:
        yield url


@pytest.fixture
def own_postgres_url() -> Iterator[str]:
    """A database of the test's own, for a bot process that migrates it itself."""
    with new_postgres_database() as url:
        yield url


_OWNED_SEQUENCES = text(
    "SELECT sequence.relname FROM pg_class sequence"
    " JOIN pg_depend owned ON owned.objid = sequence.oid AND owned.deptype IN ('a', 'i')"
    " JOIN pg_class owner ON owner.oid = owned.refobjid"
    " WHERE sequence.relkind = 'S' AND owner.relname = ANY(:tables) ORDER BY sequence.relname"
)


@pytest.fixture(scope="session")
def _postgres_engine(postgres_url: str) -> Iterator[tuple[Engine, str]]:
    """The engine, and the statements that empty its tables and restart their ids. DELETE, not TRUNCATE: TRUNCATE
    gives each table, index and sequence a new file, a third of a second a test on a busy machine, where deleting
    the few rows a test leaves takes 20 to 50 ms."""
    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]  # those that refer to others first
    with engine.connect() as connection:
        sequences = connection.execute(_OWNED_SEQUENCES, {"tables": tables}).scalars().all()
    deletes = [f'DELETE FROM "{table}"' for table in tables]
    emptying = "; ".join(deletes + [f'ALTER SEQUENCE "{sequence}" RESTART' for sequence in sequences])
    yield engine, emptying
    engine.dispose()


@pytest.fixture
def postgres_engine(_postgres_engine: tuple[Engine, str]) -> Engine:
    """The run's PostgreSQL database, migrated and emptied for this test, its ids starting at 1 again."""
    engine, emptying = _postgres_engine
    with engine.begin() as connection:
        connection.exec_driver_sql(emptying)
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated, empty database: every storage test runs on both back ends."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], str]:
    """Puts a migrated, empty SQLite database at a path and gives its URL. The run migrates one and copies it:
    each migration is a transaction of its own, and their syncs to disk cost a fresh database seconds."""
    template = tmp_path_factory.mktemp("migrated") / "allears.db"
    engine = make_engine(f"sqlite:///{template}")
    migrate.upgrade(engine)
    engine.dispose()

    def copy(path: Path) -> str:
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"

    return copy


@pytest.fixture
def sqlite_engine(tmp_path: Path, migrated_sqlite: Callable[[Path], str]) -> Iterator[Engine]:
    engine = make_engine(migrated_sqlite(tmp_path / "allears.db"))
    yield engine
    engine.dispose()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    slack = FakeSlack(channels={"C0LISTEN", "C0URGENT", "C0SUPPORT", "C0PRODUCT"}).start()
    yield slack
    slack.stop()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def bot(tmp_path: Path, fake_slack: FakeSlack, feeds: FeedServer) -> Iterator[BotProcess]:
    """`allears run` on SQLite, polling the local feed every second; started by the test."""
    process = BotProcess(
        tmp_path,
        slack_api_url=fake_slack.api_url,
        database_url=f"sqlite:///{tmp_path / 'allears.db'}",
        config=config_toml(feeds.url("/acme.xml")),
    )
    yield process
    process.stop()


@pytest.fixture(scope="session")
def _api_server() -> Iterator[ApiServer]:
    server = ApiServer().start()
    yield server
    server.stop()


@pytest.fixture
def api(_api_server: ApiServer) -> ApiServer:
    """A local stand-in for a source's API, emptied for the test (one server for the run is faster)."""
    _api_server.reset()
    return _api_server


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One client for the run: each new one loads the CA bundle, a twentieth of a second."""
    with httpx.Client() as client:
        yield client
