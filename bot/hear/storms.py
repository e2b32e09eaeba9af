"""Storms: a burst of mentions on one topic in one channel, gathered under one card instead of a card each."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from bot.ground.config import StormRule
from bot.ground.db import rows_changed, serialize
from bot.ground.models import Mention, MentionStatus, OutboxKind, Storm
from bot.ground.outbox import enqueue

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
_BLOWS_ON = update(Storm.__table__).where(_STORMS.id == bindparam("storm")).values(last_at=bindparam("now"))  # type: ignore[attr-defined]
_QUEUE_REFRESH = (
    update(Storm.__table__)  # type: ignore[attr-defined]
    .where(_STORMS.id == bindparam("storm"), _STORMS.refresh_queued.is_(False))
    .values(refresh_queued=True)
)
_JOIN = update(Mention.__table__).where(_MENTIONS.id == bindparam("mention")).values(storm_id=bindparam("storm"))  # type: ignore[attr-defined]
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


@dataclass
class Sky:
    """A channel's topic as one transaction knows it once it holds its lock (and has updated its storm's row):
    until it commits no one else starts, updates or requeues that storm, so it need not ask again."""

    storm_id: int | None
    recent: int = 0
    """With no storm: the mentions that count towards one, this transaction's new ones included (old posts that
    another poll stores meanwhile take no lock, so they count from the next poll on, as if stored a moment later)."""
    touched: bool = False
    """The storm's `last_at` is this transaction's `now` and its row is this transaction's until it commits."""
    refresh_queued: bool = False


@dataclass
class Weather:
    """What one poll learned of the storms it asked about, so its later mentions ask only what changed."""

    skies: dict[tuple[str, str], Sky] = field(default_factory=dict)

    def knows(self, channel: str, topic: str) -> bool:
        return (channel, topic) in self.skies

    def blowing(self, channel: str, topic: str) -> int | None:
        """The storm known to blow on this channel and topic, for a new mention to be stored in at once."""
        sky = self.skies.get((channel, topic))
        return sky.storm_id if sky is not None else None

    def heard(self, channel: str, topic: str) -> None:
        """A mention that counts towards a storm was stored on this channel and topic."""
        sky = self.skies.get((channel, topic))
        if sky is not None and sky.storm_id is None:
            sky.recent += 1


def join_storm(
    session: Session,
    mention_id: int,
    channel: str,
    topic: str,
    rule: StormRule,
    now: datetime,
    *,
    weather: Weather | None = None,
    stored_in: int | None = None,
) -> None:
    """Join the storm blowing on this channel and topic, or start one when this mention tips the count.

    The mentions before the storm keep their own cards; the ones after thread under the storm's card.
    `weather` holds what earlier mentions of the same transaction (at the same `now`) learned: with it,
    the mentions it is told of (`Weather.heard`) are counted without asking the database; `stored_in` is the
    storm the mention was inserted with (`Weather.blowing`).
    """
    sky = weather.skies.get((channel, topic)) if weather is not None else None
    if sky is None:
        serialize(session, f"storm:{channel}:{topic}")
        blowing = {"channel": channel, "topic": topic, "since": now - rule.window}
        sky = Sky(storm_id=session.execute(_STORM_BLOWING, blowing).scalar())
        if sky.storm_id is None:
            sky.recent = session.execute(_RECENT_ON_TOPIC, blowing).scalar_one()
        if weather is not None:
            weather.skies[(channel, topic)] = sky
    if sky.storm_id is None:
        if sky.recent <= rule.threshold:
            return
        storm = Storm(channel=channel, topic=topic, counted_from=now - rule.window, started_at=now, last_at=now)
        session.add(storm)
        session.flush()
        sky.storm_id, sky.touched, sky.refresh_queued = storm.id, True, storm.refresh_queued
        enqueue(session, OutboxKind.STORM_CARD, mention_id=mention_id, channel=channel)
    else:
        if not sky.touched:
            session.execute(_BLOWS_ON, {"storm": sky.storm_id, "now": now})
            sky.touched = True
        # Only one count update waits at a time: the conditional update decides, even across processes.
        if not sky.refresh_queued:
            if rows_changed(session.execute(_QUEUE_REFRESH, {"storm": sky.storm_id})) == 1:
                enqueue(session, OutboxKind.STORM_REFRESH, mention_id=mention_id, channel=channel)
            sky.refresh_queued = True
    if sky.storm_id != stored_in:
        session.execute(_JOIN, {"mention": mention_id, "storm": sky.storm_id})


def in_storm(storm: Storm) -> tuple[Any, ...]:
    """Conditions for the mentions a storm counts: those threaded under it, and the ones that started it."""
    return (
        col(Mention.channel) == storm.channel,
        col(Mention.topic) == storm.topic,
        col(Mention.status) != MentionStatus.JOINED,
        or_(
            col(Mention.storm_id) == storm.id,
            and_(
                col(Mention.storm_id).is_(None),
                col(Mention.heard_at) >= storm.counted_from,
                col(Mention.heard_at) <= storm.started_at,
            ),
        ),
    )


def storm_counts(session: Session, storm: Storm) -> dict[str, int]:
    """Mentions in the storm by source, the ones that started it included, largest first."""
    rows = session.exec(
        select(col(Mention.source), func.count()).where(*in_storm(storm)).group_by(col(Mention.source))
    ).all()
    return dict(sorted(((source, count) for source, count in rows), key=lambda pair: -pair[1]))
