"""How each configured source is doing, for `/allears sources`."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.ground.config_sources import SourceConfig
from bot.ground.models import Mention, SourceState


@dataclass(frozen=True)
class SourceHealth:
    key: str
    kind: str
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failing: bool
    items_seen: int
    mentions: int
    """Mentions heard from it so far."""
    next_poll_at: datetime | None
    """None until the source has been polled once (it is polled at start-up), and while it is paused."""
    paused_at: datetime | None = None
    paused_by: str | None = None
    """The admin who paused it with `/allears pause`; the scheduler skips it until `/allears resume`."""


def source_health(session: Session, sources: list[SourceConfig]) -> list[SourceHealth]:
    states = {state.source: state for state in session.exec(select(SourceState))}
    heard = dict(session.exec(select(col(Mention.source), func.count()).group_by(col(Mention.source))).all())
    report = []
    for source in sources:
        state = states.get(source.key) or SourceState(source=source.key)
        next_poll = state.last_poll_at + source.every if state.last_poll_at else None
        if state.backoff_until and (next_poll is None or state.backoff_until > next_poll):
            next_poll = state.backoff_until
        if state.paused_at:
            next_poll = None
        report.append(
            SourceHealth(
                key=source.key,
                kind=source.kind,
                last_success_at=state.last_success_at,
                last_error=state.last_error,
                last_error_at=state.last_error_at,
                failing=state.consecutive_failures > 0,
                items_seen=state.items_seen,
                mentions=heard.get(source.key, 0),
                next_poll_at=next_poll,
                paused_at=state.paused_at,
                paused_by=state.paused_by,
            )
        )
    return report
