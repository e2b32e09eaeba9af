"""What Slack may send more than once, remembered in the database so that every process knows it."""

import hashlib
from datetime import datetime

from sqlalchemy import Engine, text
from sqlmodel import col

from bot.ground.clock import utcnow
from bot.ground.db import insert_unless_present, session_scope
from bot.ground.models import SeenRequest

_NOT_WAITING_FOR_THE_DISK = text("SET LOCAL synchronous_commit TO OFF")


def first_time(engine: Engine, key: str, *, now: datetime | None = None, durable: bool = True) -> bool:
    """Remember `key`; False when any process remembered it before (old entries are forgotten by the scheduler).

    `durable=False` (PostgreSQL): the commit does not wait for the disk, for a key whose loss in a crash costs
    little (a replay guard's signature) and that is written where every millisecond counts (before an ack)."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    with session_scope(engine) as session:
        if not durable and engine.dialect.name == "postgresql":
            session.execute(_NOT_WAITING_FOR_THE_DISK)
        statement = insert_unless_present(session, SeenRequest, ["digest"], digest=digest, seen_at=now or utcnow())
        return session.execute(statement.returning(col(SeenRequest.digest))).first() is not None
