"""Each SLA reminder once, however many processes check: the first to record its key in `Nudge` sends it."""

from datetime import datetime, timedelta

from sqlmodel import Session, col

from bot.ground.db import insert_unless_present
from bot.ground.models import Nudge

NEWS_FOR = timedelta(days=1)
"""A reminder whose moment passed longer ago than this (in counted time) is history, not news: after an
outage, or when the SLA is first switched on, an old backlog is not announced all at once."""
Done = tuple[int, str]
"""A mention id and what was done for it: "claim 1", "reply", "escalation", "expired", "awake", "storm"…"""


def first_to(session: Session, mention_id: int, key: str, now: datetime) -> bool:
    """Record the step; False when it was recorded already (a concurrent one waits for the first to commit)."""
    statement = insert_unless_present(session, Nudge, ["mention_id", "key"], mention_id=mention_id, key=key, at=now)
    return session.execute(statement.returning(col(Nudge.id))).scalar_one_or_none() is not None
