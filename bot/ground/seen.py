"""What Slack may send more than once, remembered in the database so that every process knows it."""

import hashlib
from datetime import datetime

from sqlalchemy import Engine, text
from sqlmodel import Session, col

from bot.ground.clock import utcnow
from bot.ground.db import insert_unless_present, session_scope
from bot.ground.models import SeenRequest

_NOT_WAITING_FOR_THE_DISK = text("SET LOCAL synchronous_commit TO OFF")


def first_time(engine: Engine, key: str, *, now: datetime | None = None, durable: bool = True) -> bool:
    """Remember `key`; False when any process remembered it before (old entries are forgotten by the scheduler).

    `durable=False` (PostgreSQL): the commit does not wait for the disk, for a key whose loss in a crash costs
    little (a replay guard's signature) and that is written where every millisecond counts (before an ack)."""
    with session_scope(engine) as session:
        if not durable and engine.dialect.name == "postgresql":
            session.execute(_NOT_WAITING_FOR_THE_DISK)
        return remember(session, key, now=now)


def remember(session: Session, key: str, *, now: datetime | None = None) -> bool:
    """`first_time` in the caller's transaction: what it did is remembered only if the transaction commits, so a
    delivery whose handling failed is handled when it comes again. A second process with the same key waits for
    the first one's commit, then finds it remembered."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    statement = insert_unless_present(session, SeenRequest, ["digest"], digest=digest, seen_at=now or utcnow())
    return session.execute(statement.returning(col(SeenRequest.digest))).first() is not None
