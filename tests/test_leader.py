"""Leader election among processes on PostgreSQL, and the single-process lock on SQLite."""

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.ground.db import make_engine
from bot.ground.errors import UserError
from bot.ground.leader import LeaderScheduler, hold_single_process_lock
from tests.waiting import eventually


class Jobs:
    """Stands in for the scheduler: records its terms."""

    def __init__(self) -> None:
        self.running = False

    def start(self) -> None:
        self.running = True

    def shutdown(self, wait: bool = True) -> None:
        self.running = False


class Candidate:
    def __init__(self, engine: Engine, key: int) -> None:
        self.terms: list[Jobs] = []
        self.scheduler = LeaderScheduler(engine, self._build, retry_every=0.1, key=key)  # type: ignore[arg-type]
        self.rounds = 0
        """Rounds of its campaign done: a try for the lock, or a leader's check that it still holds it."""
        for name in ("_wins", "_still_holds"):
            setattr(self.scheduler, name, self._counted(getattr(self.scheduler, name)))

    def _counted(self, step: Callable[[], bool]) -> Callable[[], bool]:
        def counted() -> bool:
            try:
                return step()
            finally:
                self.rounds += 1

        return counted

    def more_rounds(self, count: int = 3) -> Callable[[], bool]:
        """A condition for `eventually`: `count` more rounds done from now."""
        done = self.rounds
        return lambda: self.rounds >= done + count

    def _build(self) -> Jobs:
        self.terms.append(Jobs())
        return self.terms[-1]

    @property
    def running(self) -> bool:
        return bool(self.terms) and self.terms[-1].running


@pytest.fixture
def key() -> int:
    """A lock of the test's own: nothing else on the server contends for it."""
    return random.randrange(1, 2**62)


@pytest.fixture
def engines(postgres_url: str) -> Iterator[tuple[Engine, Engine]]:
    first, second = make_engine(postgres_url), make_engine(postgres_url)
    yield first, second
    first.dispose()
    second.dispose()


def holder_pid(engine: Engine, key: int) -> int | None:
    """The backend that holds the advisory lock `key` (shown as two 32-bit halves in pg_locks)."""
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = :high AND objid = :low AND objsubid = 1"
            ),
            {"high": key >> 32, "low": key & 0xFFFFFFFF},
        ).scalar()


@pytest.mark.postgres
def test_one_candidate_leads_and_the_other_takes_over_when_it_stops(engines, key, caplog):
    caplog.set_level("INFO", logger="bot.ground.leader")
    first, second = Candidate(engines[0], key), Candidate(engines[1], key)
    first.scheduler.start()
    eventually(lambda: first.running)
    second.scheduler.start()
    eventually(lambda: "following: another worker leads" in caplog.text)
    eventually(second.more_rounds(), what="several more tries")
    assert not second.terms and first.scheduler.leading and not second.scheduler.leading

    first.scheduler.shutdown()
    assert not first.running
    eventually(lambda: second.running)
    assert "took over as leader" in caplog.text
    second.scheduler.shutdown()
    assert not second.running and holder_pid(engines[0], key) is None, "the lock is given up"


@pytest.mark.postgres
def test_a_leader_that_loses_its_connection_stops_its_jobs_and_one_candidate_leads_again(engines, key, caplog):
    first, second = Candidate(engines[0], key), Candidate(engines[1], key)
    try:
        first.scheduler.start()
        eventually(lambda: first.running)
        second.scheduler.start()
        eventually(second.more_rounds(1), what="the second's first try")
        pid = holder_pid(engines[0], key)
        assert pid is not None
        with engines[0].connect() as connection:  # as a failover or a network cut would end it
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        eventually(lambda: not first.terms[0].running)
        assert "lost the connection that holds the leadership" in caplog.text
        eventually(lambda: first.running or second.running)
        more_by_first, more_by_second = first.more_rounds(), second.more_rounds()
        eventually(lambda: more_by_first() and more_by_second(), what="several more rounds by each")
        assert first.running != second.running, "exactly one leads"
        assert holder_pid(engines[0], key) not in (None, pid)
    finally:
        first.scheduler.shutdown()
        second.scheduler.shutdown()


def test_sqlite_runs_the_scheduler_without_an_election(sqlite_engine):
    candidate = Candidate(sqlite_engine, 1)
    candidate.scheduler.start()
    assert candidate.running
    candidate.scheduler.shutdown()
    assert not candidate.running


def test_one_process_at_a_time_holds_a_sqlite_database(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'allears.db'}"
    held = hold_single_process_lock(url)
    assert held is not None and (tmp_path / "allears.db.lock").exists()
    with pytest.raises(UserError, match="another All Ears process is using .*allears.db; with SQLite run a single"):
        hold_single_process_lock(url)
    held.close()
    again = hold_single_process_lock(url)
    assert again is not None
    again.close()


def test_postgres_and_memory_databases_take_no_process_lock():
    assert hold_single_process_lock("postgresql+psycopg://allears@db/allears") is None
    assert hold_single_process_lock("sqlite://") is None
    assert hold_single_process_lock("sqlite:///:memory:") is None
