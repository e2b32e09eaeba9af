"""Who runs the scheduler: one leader among the workers on PostgreSQL, the only process on SQLite.

On PostgreSQL every `allears run` and `allears worker` stands for election: the one holding a
session-level advisory lock on a dedicated connection runs the scheduler (polling, SLA checks,
the weekly summary, pruning); the others retry every few seconds. The server releases the lock
when that connection ends, so a leader killed with -9 frees it at once (its socket closes) and a
partitioned one within about half a minute (server-side TCP keepalives). The jobs themselves stay
idempotent in the database, so even a moment with two leaders repeats nothing.

Every process still delivers the outbox: its rows are leased, so several deliverers never post one
message twice, and a follower's pump keeps cards flowing the moment a leader dies.

SQLite allows one process: `run`, `serve` and `worker` take an exclusive lock on `<database>.lock`.
"""

import fcntl
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Connection, Engine, NullPool, create_engine, make_url, text

from bot.ground.errors import UserError

log = logging.getLogger(__name__)

SCHEDULER_LOCK = 0x616C6C6561727301  # "allears" + 1: the advisory lock key of the scheduler's leader
RETRY_EVERY = 5.0
"""Seconds between a follower's tries, and between the leader's checks that it still holds the lock."""

# Client side: a leader cut off from the server notices within ~15 s (its next check, then 10 s unanswered) and
# stops its jobs.
_CLIENT_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}
# Server side: the server drops a silent leader's session, and with it the lock, after ~25 s (10 s idle, then three
# unanswered probes 5 s apart): after the leader stopped itself, so a network cut never leaves two leaders running,
# and a follower takes over at its next try, within 30 s.
_SERVER_KEEPALIVES = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"


class LeaderScheduler:
    """A scheduler that runs only while this process leads; a fresh one (from `build`) for each term.

    Has the scheduler's own `start()` and `shutdown()`, so it stands in for one.
    """

    def __init__(
        self,
        engine: Engine,
        build: Callable[[], BaseScheduler],
        *,
        retry_every: float = RETRY_EVERY,
        key: int = SCHEDULER_LOCK,
    ) -> None:
        self._build = build
        self._retry_every = retry_every
        self._key = key
        self._elects = engine.dialect.name == "postgresql"
        # Its own engine without a pool: the lock's connection must never be handed to anyone else.
        self._lock_engine = (
            create_engine(
                engine.url,
                poolclass=NullPool,
                connect_args={"connect_timeout": 5, "options": _SERVER_KEEPALIVES, **_CLIENT_KEEPALIVES},
            )
            if self._elects
            else None
        )
        self._connection: Connection | None = None
        self._jobs: BaseScheduler | None = None
        self._followed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._campaign, name="leader-election", daemon=True)

    @property
    def leading(self) -> bool:
        return self._jobs is not None

    def start(self) -> None:
        if not self._elects:  # SQLite: the process lock already made this the only one
            self._lead("running the scheduler (SQLite: the only All Ears process)")
            return
        self._thread.start()

    def shutdown(self, wait: bool = True) -> None:
        """Stop the jobs, then give up the lock so that a follower takes over at its next try."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._step_down(wait=wait)
        self._disconnect()
        if self._lock_engine is not None:
            self._lock_engine.dispose()

    def _campaign(self) -> None:
        while not self._stop.is_set():
            if self.leading:
                if not self._still_holds():
                    log.warning("lost the connection that holds the leadership; stopping the scheduler")
                    self._disconnect()
                    self._step_down(wait=False)  # a job stuck on the dead database must not stall the election
            elif self._wins():
                if self._stop.is_set():
                    break
                self._lead("took over as leader; running the scheduler" if self._followed else None)
            elif not self._followed:
                log.info("following: another worker leads; trying every %gs", self._retry_every)
                self._followed = True
            self._stop.wait(self._retry_every)

    def _wins(self) -> bool:
        try:
            if self._connection is None:
                assert self._lock_engine is not None
                self._connection = self._lock_engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            return bool(
                self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}).scalar()
            )
        except Exception as error:
            log.warning("cannot stand for leader (%s); trying again in %gs", _first_line(error), self._retry_every)
            self._disconnect()
            return False

    def _still_holds(self) -> bool:
        """The lock lives as long as its session: a live connection still holds it."""
        try:
            assert self._connection is not None
            self._connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def _lead(self, message: str | None) -> None:
        log.info(message or "leading: running the scheduler")
        self._followed = False
        try:
            jobs = self._build()
            jobs.start()
        except Exception:
            if not self._elects:
                raise
            # A leader without jobs would leave everyone idle: give the lock up for another to take.
            log.exception("the scheduler did not start; giving up the leadership")
            self._disconnect()
            return
        self._jobs = jobs

    def _step_down(self, *, wait: bool) -> None:
        jobs, self._jobs = self._jobs, None
        if jobs is not None:
            jobs.shutdown(wait=wait)

    def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.invalidate()  # really closes the socket, which ends the session and frees the lock
            connection.close()
        except Exception:
            log.debug("closing the leadership connection failed", exc_info=True)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def hold_single_process_lock(database_url: str) -> IO[bytes] | None:
    """On SQLite, the exclusive right to run; held until the returned file is closed or the process ends.

    None for PostgreSQL (several processes may run) and for an in-memory SQLite database.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    database = Path(url.database)
    if not database.parent.is_dir():
        return None  # SQLite itself says that the database cannot be opened
    lock = (database.parent / f"{database.name}.lock").open("ab")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise UserError(
            f"another All Ears process is using {url.database}; with SQLite run a single `allears run`, "
            "or use PostgreSQL to run several"
        ) from None
    return lock
