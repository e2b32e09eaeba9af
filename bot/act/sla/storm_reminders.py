"""A storm's one reminder: its mentions are not reminded one by one, so when nobody has claimed any of them
in time, the storm card's thread is asked once."""

import logging
from datetime import datetime

from sqlalchemy import Engine, String, cast, exists, func, literal
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.act.sla.nudges import NEWS_FOR, Done, first_to
from bot.act.sla.worktime import counted
from bot.ground.config import Config
from bot.ground.db import read_scope, session_scope
from bot.ground.mentions import append_event
from bot.ground.models import Event, EventKind, Mention, MentionStatus, Nudge, OutboxKind, Storm
from bot.ground.outbox import enqueue
from bot.hear.storms import in_storm, storm_counts

log = logging.getLogger(__name__)


def remind_storms(engine: Engine, config: Config, now: datetime) -> list[Done]:
    """A storm's thread is asked once, when none of its mentions was claimed within its first mention's
    `claim_within` of the storm's start; the note is that mention's, keyed by the storm."""
    sla, taken = config.sla, list[Done]()
    with read_scope(engine) as session:
        quiet = _unreminded_storms(session)
    for storm, first in quiet:
        limit = sla.targets(first.urgency).claim_within
        if not limit <= counted(storm.started_at, now, sla.business_hours, sla.timezone) < limit + NEWS_FOR:
            continue
        assert first.id is not None
        try:
            with session_scope(engine) as session:
                if _storm_claimed(session, storm) or not first_to(session, first.id, f"storm:{storm.id}", now):
                    continue
                data = {
                    "step": "storm",
                    "storm_id": storm.id,
                    "topic": storm.topic,
                    "count": sum(storm_counts(session, storm).values()),
                    "after": limit.total_seconds(),
                    **({"business_time": True} if sla.business_hours else {}),
                }
                event = append_event(session, first.id, EventKind.NUDGED, None, now, refresh=False, **data)
                enqueue(session, OutboxKind.THREAD_NOTE, mention_id=first.id, channel=first.channel, event_id=event.id)
            taken.append((first.id, "storm"))
        except Exception:
            log.exception("SLA check of storm %s failed; it is checked again next time", storm.id)
    return taken


def _unreminded_storms(session: Session) -> list[tuple[Storm, Mention]]:
    """Storms with an open mention and no reminder yet, each with the mention that started it."""
    member = aliased(Mention)
    reminded = exists().where(
        col(Nudge.mention_id) == col(Mention.id), col(Nudge.key) == literal("storm:") + cast(col(Storm.id), String)
    )
    blowing = exists().where(col(member.storm_id) == col(Storm.id), col(member.status) == MentionStatus.OPEN)
    first = select(func.min(col(member.id))).where(col(member.storm_id) == col(Storm.id)).scalar_subquery()
    rows = session.exec(
        select(Storm, Mention).join(Mention, col(Mention.id) == first).where(blowing, ~reminded).order_by(col(Storm.id))
    )
    return [(storm, mention) for storm, mention in rows]


def _storm_claimed(session: Session, storm: Storm) -> bool:
    """Someone claimed (or resolved) one of the storm's mentions, those that started it included."""
    return (
        session.exec(
            select(col(Event.id))
            .join(Mention)
            .where(*in_storm(storm), col(Event.kind).in_([EventKind.CLAIMED, EventKind.RESOLVED]))
            .limit(1)
        ).first()
        is not None
    )
