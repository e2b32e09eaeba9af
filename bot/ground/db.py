"""Engines for SQLite (the embedded default) and PostgreSQL, configured for several writers."""

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    DateTime,
    Engine,
    Result,
    TypeDecorator,
    any_,
    bindparam,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, create_engine

from bot.ground.clock import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware datetime, on SQLite too (which keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; use bot.ground.clock.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is UTC:
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_unless_present(session: Session, model: type[SQLModel], unique: Sequence[str], **values: Any) -> Insert:
    """An INSERT that does nothing when a row with the same `unique` columns exists: concurrent
    writers then settle which one created the row in the database, not in Python."""
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    return dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=list(unique))


def among(column: Any, values: Sequence[Any], dialect: str) -> ColumnElement[bool]:
    """`column IN values`, on PostgreSQL as `= ANY` of one array: an IN list is a parameter per value, rendered by
    SQLAlchemy at every execution and parsed again by psycopg, which keeps only short statements parsed (10 ms of
    CPU per 900 ids, more the first time); the array's statement is the same text whatever the number of values."""
    if dialect == "postgresql":
        array = bindparam(None, list(values), type_=postgresql.ARRAY(column.type))
        return cast(ColumnElement[bool], column == any_(array))
    return cast(ColumnElement[bool], column.in_(values))


_READ_ONLY = "allears_read_only"
_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


def serialize(session: Session, key: str) -> None:
    """On PostgreSQL, one transaction at a time past this point for `key` (SQLite writers queue anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK, {"key": key})


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _serialize_sqlite_writers(engine)
        return engine
    # Sessions in UTC: times come back in `datetime.UTC` itself, which `UTCDateTime` then hands on as they are
    # (a summary reads a few hundred thousand of them).
    connect_args = {"connect_timeout": 5, "options": "-c timezone=UTC"}
    # A connection past `pool_size` is closed when it comes back. With 10 kept, the web process's 16 HTTP threads
    # reading the API at once opened and closed a PostgreSQL session every few requests (bench/api.py: 300 in 40 s
    # at 200 requests/s, each a new server process); 20 are kept now, and the most open at once is still 30.
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=10, connect_args=connect_args)


def _serialize_sqlite_writers(engine: Engine) -> None:
    """WAL lets readers run beside a writer; BEGIN IMMEDIATE makes writers queue instead of failing.

    pysqlite's own deferred BEGIN lets two transactions read and then both try to write, and the
    loser gets "database is locked" at once instead of waiting for busy_timeout.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        read_only = connection.get_execution_options().get(_READ_ONLY)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work: commits when the block ends, rolls back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def write_retrying(
    engine: Engine, work: Callable[[Session], T], *, until: datetime | None, every: timedelta = timedelta(seconds=1)
) -> T:
    """`work` in a unit of work of its own, tried again `every` so often while the database cannot be reached
    (or stays locked) and `until` is ahead: for a write that a moment's outage must not lose. Only for work
    that is harmless twice: a commit whose answer was lost may have gone through."""
    while True:
        try:
            with session_scope(engine) as session:
                return work(session)
        except OperationalError as error:
            if until is None or utcnow() + every >= until:
                raise
            reason = str(error.orig).partition("\n")[0]
            log.warning("the database did not take a write (%s); trying again in %ss", reason, every.total_seconds())
            time.sleep(every.total_seconds())


def read_scope(engine: Engine) -> AbstractContextManager[Session]:
    """A unit of work that only reads: on SQLite it neither waits for nor blocks the writers."""
    return session_scope(engine.execution_options(**{_READ_ONLY: True}))


def single_reads(engine: Engine) -> Engine:
    """For units of work that read in one statement, or in statements that need not agree to the moment (a page of
    the read API): on PostgreSQL in autocommit, so a read is one round trip to the server, not three (BEGIN, the
    read, COMMIT); on SQLite as `read_scope`. Made once and kept: its sessions share `engine`'s pool."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine.execution_options(**{_READ_ONLY: True})


@contextmanager
def alongside(session: Session, work: Callable[[Session], T]) -> Iterator[Callable[[], T]]:
    """`work` on a connection and thread of its own while the block runs, on PostgreSQL, whose server then
    answers both at once and whose waits free the interpreter for the other; the block gets its result by
    calling what it is given. On SQLite (one process, small data), `work` runs in `session` when asked.

    Both read committed data as of each statement, as `session` alone does (read committed)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        yield lambda: work(session)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="alongside") as pool:
        future = pool.submit(_read_with, cast(Engine, bind), work)
        yield future.result


def _read_with(engine: Engine, work: Callable[[Session], T]) -> T:
    with read_scope(engine) as session:
        return work(session)


def database_answers(engine: Engine) -> bool:
    try:
        with engine.execution_options(**{_READ_ONLY: True}).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def rows_changed(result: Result[Any]) -> int:
    """The rows an UPDATE changed: sqlmodel types `Session.execute` as returning any `Result`, and an UPDATE's is
    a `CursorResult`, which counts them."""
    return cast(CursorResult[Any], result).rowcount
