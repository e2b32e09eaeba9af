"""What waits for one person: the open mentions they own, and the unclaimed ones routed to their channels."""

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from bot.mentions import count_open, open_mentions
from bot.models import Mention, MentionStatus


@dataclass(frozen=True)
class Queues:
    mine: list[Mention]
    mine_total: int
    unclaimed: list[Mention]
    """The longest-waiting first, at most the limit asked for; `unclaimed_total` counts them all."""
    unclaimed_total: int


def queues_for(session: Session, *, user_id: str, channels: Collection[str], limit: int) -> Queues:
    """`channels`: where the person is a member; mentions routed elsewhere are someone else's to see."""
    waiting = (
        Mention.status == MentionStatus.OPEN,
        Mention.owner_id.is_(None),  # type: ignore[union-attr]
        Mention.channel.in_(sorted(channels)),  # type: ignore[attr-defined]
    )
    unclaimed = session.exec(select(Mention).where(*waiting).order_by(Mention.id).limit(limit))  # type: ignore[arg-type]
    return Queues(
        mine=open_mentions(session, owner_id=user_id, limit=limit),
        mine_total=count_open(session, owner_id=user_id),
        unclaimed=list(unclaimed),
        unclaimed_total=session.exec(select(func.count()).select_from(Mention).where(*waiting)).one(),
    )
