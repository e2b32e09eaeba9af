"""Mentions: finding one by its `M-<n>` reference, listing and counting the open ones, and adding to one's history."""

import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.ground.db import rows_changed
from bot.ground.errors import UnknownMention, UserError
from bot.ground.models import Event, EventKind, Mention, MentionStatus, OutboxKind
from bot.ground.outbox import enqueue
from bot.ground.webhooks import OF_EVENT_KIND, tell_webhooks

_REFERENCE = re.compile(r"^(?:m-?|#)?(\d{1,12})$", re.IGNORECASE)


def parse_reference(text: str) -> int:
    """`M-7`, `m7`, `#7` or `7` → 7."""
    match = _REFERENCE.match(text.strip())
    if not match:
        raise UserError(f"`{text}` is not a mention reference; they look like `M-7` (or just `7`).")
    return int(match.group(1))


def get_mention(session: Session, mention_id: int) -> Mention:
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise UnknownMention(f"M-{mention_id}")
    return mention


def reopen_resolved(session: Session, mention_id: int) -> bool:
    """Open the mention again if it is resolved, awake (a snooze ended with the resolve); False if it was not
    resolved. A conditional update, so two people (or a person and the customer) reopening at once is no harm.
    Its recorded SLA verdicts no longer hold: its clocks run again (`bot.act.sla.verdicts`)."""
    reopened = session.execute(
        update(Mention)
        .where(col(Mention.id) == mention_id, col(Mention.status) == MentionStatus.RESOLVED)
        .values(status=MentionStatus.OPEN, outcome=None, resolved_at=None, snoozed_until=None, sla_judged_at=None)
    )
    return rows_changed(reopened) == 1


# What leaves a note in the card's thread; claims and unclaims only change the card.
_THREAD_NOTED = {
    EventKind.REPLIED,
    EventKind.ESCALATED,
    EventKind.ACKNOWLEDGED,
    EventKind.RESOLVED,
    EventKind.REOPENED,
    EventKind.SENT_TO_SOURCE,
    EventKind.ALSO_HEARD,
    EventKind.FOLLOWED_UP,
    EventKind.SNOOZED,
    EventKind.UNSNOOZED,
    EventKind.CLAIM_EXPIRED,
    EventKind.ISSUE_CREATED,
    EventKind.ISSUE_LINKED,
    EventKind.ISSUE_SHIPPED,
    EventKind.ISSUE_REOPENED,
    EventKind.ISSUE_CLOSED,
    EventKind.ISSUE_TROUBLE,
}


def append_event(
    session: Session,
    mention_id: int,
    kind: EventKind,
    actor: str | None,
    at: datetime,
    /,
    *,
    refresh: bool = True,
    **data: Any,
) -> Event:
    """Append the event and queue what Slack must show of it, and the webhooks that want to hear of it;
    `refresh=False` when a later event of the same transaction refreshes the card anyway."""
    event = Event(mention_id=mention_id, kind=kind, actor=actor, at=at, data=data)
    session.add(event)
    session.flush()
    channel = get_mention(session, mention_id).channel
    if kind in _THREAD_NOTED:
        enqueue(session, OutboxKind.THREAD_NOTE, mention_id=mention_id, channel=channel, event_id=event.id)
    if refresh:
        enqueue(session, OutboxKind.CARD_REFRESH, mention_id=mention_id, channel=channel)
    if told := OF_EVENT_KIND.get(kind):
        tell_webhooks(session, told, mention_id=mention_id, event_id=event.id)
    return event


def _open_owned_by(owner_id: str | None):  # type: ignore[no-untyped-def]
    owner = col(Mention.owner_id).is_(None) if owner_id is None else col(Mention.owner_id) == owner_id
    return (col(Mention.status) == MentionStatus.OPEN, owner)


def open_mentions(session: Session, *, owner_id: str | None, limit: int) -> list[Mention]:
    """Open mentions owned by `owner_id` (or unclaimed when None), the longest-waiting first."""
    statement = select(Mention).where(*_open_owned_by(owner_id)).order_by(col(Mention.id)).limit(limit)
    return list(session.exec(statement))


def count_open(session: Session, *, owner_id: str | None) -> int:
    return session.exec(select(func.count()).select_from(Mention).where(*_open_owned_by(owner_id))).one()
