"""Storms: a burst of mentions on one topic in one channel, gathered under one card instead of a card each."""

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from bot.config import StormRule
from bot.db import serialize
from bot.models import Mention, MentionStatus, OutboxKind, Storm
from bot.outbox import enqueue

# Intake runs these for every fresh mention on a topic, so they are built once as Core statements.
_MENTIONS = Mention.__table__.c  # type: ignore[attr-defined]
_STORMS = Storm.__table__.c  # type: ignore[attr-defined]
_STORM_BLOWING = (
    core_select(_STORMS.id)
    .where(
        _STORMS.channel == bindparam("channel"),
        _STORMS.topic == bindparam("topic"),
        _STORMS.last_at >= bindparam("since"),
    )
    .order_by(_STORMS.id.desc())
    .limit(1)
)
_RECENT_ON_TOPIC = (
    core_select(func.count())
    .select_from(Mention.__table__)  # type: ignore[attr-defined]
    .where(
        _MENTIONS.channel == bindparam("channel"),
        _MENTIONS.topic == bindparam("topic"),
        _MENTIONS.heard_at >= bindparam("since"),
        _MENTIONS.status != MentionStatus.JOINED.value,
        # `+ 0` keeps SQLite (no statistics until ANALYZE) off the storm index, where nearly every mention
        # is "not in a storm", and on the recent ones.
        (_MENTIONS.storm_id + 0).is_(None),
    )
)


def join_storm(session: Session, mention_id: int, channel: str, topic: str, rule: StormRule, now: datetime) -> None:
    """Join the storm blowing on this channel and topic, or start one when this mention tips the count.

    The mentions before the storm keep their own cards; the ones after thread under the storm's card.
    """
    since = now - rule.window
    serialize(session, f"storm:{channel}:{topic}")
    blowing = {"channel": channel, "topic": topic, "since": since}
    storm_id = session.execute(_STORM_BLOWING, blowing).scalar()
    if storm_id is None:
        recent = session.execute(_RECENT_ON_TOPIC, blowing).scalar_one()
        if recent <= rule.threshold:
            return
        storm = Storm(channel=channel, topic=topic, counted_from=since, started_at=now, last_at=now)
        session.add(storm)
        session.flush()
        storm_id = storm.id
        enqueue(session, OutboxKind.STORM_CARD, mention_id=mention_id, channel=channel)
    else:
        session.execute(update(Storm).where(Storm.id == storm_id).values(last_at=now))
        # Only one count update waits at a time: the conditional update decides, even across processes.
        queued = session.execute(
            update(Storm).where(Storm.id == storm_id, Storm.refresh_queued.is_(False)).values(refresh_queued=True)  # type: ignore[attr-defined]
        )
        if queued.rowcount == 1:
            enqueue(session, OutboxKind.STORM_REFRESH, mention_id=mention_id, channel=channel)
    session.execute(update(Mention).where(Mention.id == mention_id).values(storm_id=storm_id))


def in_storm(storm: Storm) -> tuple[Any, ...]:
    """Conditions for the mentions a storm counts: those threaded under it, and the ones that started it."""
    return (
        Mention.channel == storm.channel,
        Mention.topic == storm.topic,
        Mention.status != MentionStatus.JOINED,
        or_(
            Mention.storm_id == storm.id,
            and_(
                Mention.storm_id.is_(None),  # type: ignore[union-attr]
                Mention.heard_at >= storm.counted_from,
                Mention.heard_at <= storm.started_at,
            ),
        ),
    )


def storm_counts(session: Session, storm: Storm) -> dict[str, int]:
    """Mentions in the storm by source, the ones that started it included, largest first."""
    rows = session.exec(select(Mention.source, func.count()).where(*in_storm(storm)).group_by(Mention.source)).all()
    return dict(sorted(((source, count) for source, count in rows), key=lambda pair: -pair[1]))
