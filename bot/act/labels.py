"""What the team's actions say about which mentions were worth a person's time: the labels a relevance
filter learns from. A claim, a reply, an escalation, a muted mention's card posted after all ("this was
relevant") and a `fixed` or `feedback` resolution say relevant; `not-relevant` and `spam` say not. The
latest judgement wins: a mention claimed and then put away as not relevant is not relevant."""

from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, not_, or_
from sqlmodel import Session, col, select

from bot.ground.models import Escalation, Event, EventKind, Mention, MentionStatus, Outcome

SAY_NOT_RELEVANT = (Outcome.NOT_RELEVANT, Outcome.SPAM)
SAY_RELEVANT = (Outcome.FIXED, Outcome.FEEDBACK)
SAY_ACTED_ON = (EventKind.CLAIMED, EventKind.REPLIED, EventKind.ESCALATED, EventKind.UNMUTED)
LABELLING = (*SAY_ACTED_ON, EventKind.RESOLVED)
"""The kinds of event that may label a mention (`label_of` says which do, and how)."""


@dataclass(frozen=True)
class LabelCounts:
    relevant: int = 0
    not_relevant: int = 0


def label_of(event: Event) -> int | None:
    """The label one event gives its mention: 1 relevant, 0 not, None neither (answered, thanked…)."""
    if event.kind in SAY_ACTED_ON:
        return 1
    outcome = event.data.get("outcome")
    if outcome in {o.value for o in SAY_RELEVANT}:
        return 1
    if outcome in {o.value for o in SAY_NOT_RELEVANT}:
        return 0
    return None


def label_counts(session: Session) -> LabelCounts:
    """How many mentions the team's actions have labelled each way, in one query."""
    resolved = col(Mention.status) == MentionStatus.RESOLVED
    put_away = and_(resolved, col(Mention.outcome).in_([outcome.value for outcome in SAY_NOT_RELEVANT]))
    acted_on = or_(
        col(Mention.first_claimed_at).is_not(None),
        col(Mention.first_reply_at).is_not(None),
        exists().where(col(Escalation.mention_id) == col(Mention.id)),
        exists().where(col(Event.mention_id) == col(Mention.id), col(Event.kind) == EventKind.UNMUTED),
        and_(resolved, col(Mention.outcome).in_([outcome.value for outcome in SAY_RELEVANT])),
    )
    relevant, not_relevant = session.exec(
        select(
            func.coalesce(func.sum(case((and_(not_(put_away), acted_on), 1), else_=0)), 0),
            func.coalesce(func.sum(case((put_away, 1), else_=0)), 0),
        )
    ).one()
    return LabelCounts(relevant=int(relevant), not_relevant=int(not_relevant))
