"""What Slack may send more than once, remembered in the database so that every process knows it."""

import hashlib
from datetime import datetime

from sqlalchemy import Engine

from bot.clock import utcnow
from bot.db import insert_unless_present, session_scope
from bot.models import SeenRequest


def first_time(engine: Engine, key: str, *, now: datetime | None = None) -> bool:
    """Remember `key`; False when any process remembered it before (old entries are forgotten by the scheduler)."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    with session_scope(engine) as session:
        statement = insert_unless_present(session, SeenRequest, ["digest"], digest=digest, seen_at=now or utcnow())
        return session.execute(statement.returning(SeenRequest.digest)).first() is not None  # type: ignore[arg-type]
