"""What waits for one person: the open mentions they own, and the unclaimed ones routed to their channels."""

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.ground.mentions import count_open, open_mentions
from bot.ground.models import Event, Mention, MentionStatus


@dataclass(frozen=True)
class Queues:
    mine: list[Mention]
    mine_total: int
    unclaimed: list[Mention]
    """The longest-waiting first, at most the limit asked for; `unclaimed_total` counts them all."""
    unclaimed_total: int
    events: dict[int, list[Event]] = field(default_factory=dict)
    """Each listed mention's events, oldest first: what its SLA timers are read from."""


def queues_for(session: Session, *, user_id: str, channels: Collection[str], limit: int) -> Queues:
    """`channels`: where the person is a member; mentions routed elsewhere are someone else's to see."""
    waiting = (
        col(Mention.status) == MentionStatus.OPEN,
        col(Mention.owner_id).is_(None),
        col(Mention.channel).in_(sorted(channels)),
    )
    unclaimed = list(session.exec(select(Mention).where(*waiting).order_by(col(Mention.id)).limit(limit)))
    mine = open_mentions(session, owner_id=user_id, limit=limit)
    listed = [mention.id for mention in mine + unclaimed]
    events: dict[int, list[Event]] = {}
    for event in session.exec(select(Event).where(col(Event.mention_id).in_(listed)).order_by(col(Event.id))):
        events.setdefault(event.mention_id, []).append(event)
    return Queues(
        mine=mine,
        mine_total=count_open(session, owner_id=user_id),
        unclaimed=unclaimed,
        unclaimed_total=session.exec(select(func.count()).select_from(Mention).where(*waiting)).one(),
        events=events,
    )
