"""Mentions: storing what was heard (once), and finding one by its `M-<n>` reference."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, text, update
from sqlmodel import Session, select

from bot.clock import utcnow
from bot.config import Sentiment, StormRule
from bot.db import insert_unless_present
from bot.errors import UnknownMention, UserError
from bot.models import Event, EventKind, Mention, MentionStatus, OutboxKind, Storm
from bot.outbox import enqueue
from bot.sources import Item
from bot.urls import canonical_url

JOIN_WITHIN = timedelta(hours=48)
"""A post heard again through another source within this long is the same conversation."""
FOLLOW_UP_WITHIN = timedelta(days=7)
"""A customer writing again in the same conversation within this long continues the earlier mention."""
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


@dataclass(frozen=True)
class Heard:
    """An item that matched, with what the bot decided about it."""

    item: Item
    source: str
    source_kind: str
    polarity: float
    sentiment: Sentiment
    channel: str
    category: str = "other"
    urgency: str = "normal"
    needs_human: bool = False
    forwarded_by: str | None = None
    topic: str | None = None


def record(
    session: Session, heard: Heard, *, storm: StormRule | None = None, now: datetime | None = None
) -> int | None:
    """Store a new mention and queue its card; None when this source's item is stored already.

    A post already heard through another source (same canonical URL) is stored as joined to the
    first mention and told in its thread instead of getting a card of its own; so is the author
    writing again in the same conversation, which reopens the earlier mention if it was resolved.
    """
    item, now = heard.item, now or utcnow()
    canonical = canonical_url(item.shared_url or item.url)
    first = _heard_first(session, canonical, source=heard.source, now=now)
    earlier = None if first else _conversation(session, heard, now=now)
    values = Mention.model_validate(
        {
            "source": heard.source,
            "source_kind": heard.source_kind,
            "external_id": item.external_id,
            "url": item.url[:2000] if item.url else None,
            "author": item.author[:500] if item.author else None,
            "title": item.title,
            "text": item.text,
            "published_at": item.published_at,
            "heard_at": now,
            "polarity": heard.polarity,
            "sentiment": heard.sentiment.value,
            "category": heard.category,
            "urgency": heard.urgency,
            "needs_human": heard.needs_human,
            "author_reach": item.author_reach,
            "canonical_url": canonical,
            "forwarded_by": heard.forwarded_by,
            "topic": heard.topic,
            "reply_to": item.reply_to,
            "thread": item.thread[:500] if item.thread else None,
            "channel": heard.channel,
            "status": MentionStatus.JOINED if first or earlier else MentionStatus.OPEN,
            "duplicate_of": (first or earlier).id if first or earlier else None,
        }
    ).model_dump(exclude={"id"})
    statement = insert_unless_present(session, Mention, ["source", "external_id"], **values).returning(Mention.id)
    mention_id = session.execute(statement).scalar_one_or_none()
    if mention_id is None:
        return None
    if earlier is not None:
        _follow_up(session, earlier, mention_id, heard, now)
        return mention_id
    if first is None:
        # A source's first poll brings back old posts all at once; only fresh ones make weather.
        if storm is not None and heard.topic and (item.published_at is None or item.published_at >= now - storm.window):
            _weather(session, mention_id, heard.channel, heard.topic, storm, now)
        enqueue(session, OutboxKind.CARD, mention_id=mention_id, channel=heard.channel)
        return mention_id
    assert first.id is not None
    append_event(
        session,
        first.id,
        EventKind.ALSO_HEARD,
        None,
        now,
        mention_id=mention_id,
        source=heard.source,
        url=item.url,
        author=item.author,
        text=(item.title or item.text)[:300],
    )
    return mention_id


def _conversation(session: Session, heard: Heard, *, now: datetime) -> Mention | None:
    """The author's recent mention on this source that the item continues: the same thread, or,
    when the source has no threads, a resolved one about the same topic.

    Without a thread, only a resolved mention is continued: while one is open, more thread-less
    posts by the same person are posts of their own (a burst of them makes a storm).
    """
    item = heard.item
    if not item.author:
        return None
    statement = select(Mention).where(
        Mention.source == heard.source,
        Mention.author == item.author[:500],
        Mention.heard_at >= now - FOLLOW_UP_WITHIN,
    )
    if item.thread:
        thread = item.thread[:500]
        statement = statement.where(
            or_(Mention.thread == thread, Mention.external_id == thread),
            Mention.status.in_([MentionStatus.OPEN.value, MentionStatus.RESOLVED.value]),  # type: ignore[attr-defined]
        )
    elif heard.topic:
        statement = statement.where(
            Mention.thread.is_(None),  # type: ignore[union-attr]
            Mention.topic == heard.topic,
            Mention.status == MentionStatus.RESOLVED,
        )
    else:
        return None
    return session.exec(statement.order_by(Mention.heard_at.desc()).limit(1)).first()  # type: ignore[attr-defined]


def _follow_up(session: Session, earlier: Mention, mention_id: int, heard: Heard, now: datetime) -> None:
    """Tell the earlier mention's thread that the customer wrote again, reopening it if it was resolved.

    The reopen is a conditional update, so a colleague reopening it at the same moment is no harm.
    """
    assert earlier.id is not None
    item = heard.item
    said = {"mention_id": mention_id, "url": item.url, "author": item.author, "text": item.text[:300]}
    if reopen_resolved(session, earlier.id):
        append_event(session, earlier.id, EventKind.REOPENED, None, now, **said)
    else:
        append_event(session, earlier.id, EventKind.FOLLOWED_UP, None, now, refresh=False, **said)


def reopen_resolved(session: Session, mention_id: int) -> bool:
    """Open the mention again if it is resolved, awake (a snooze ended with the resolve); False if it was not
    resolved. A conditional update, so two people (or a person and the customer) reopening at once is no harm."""
    reopened = session.execute(
        update(Mention)
        .where(Mention.id == mention_id, Mention.status == MentionStatus.RESOLVED)
        .values(status=MentionStatus.OPEN, outcome=None, resolved_at=None, snoozed_until=None)
    )
    return reopened.rowcount == 1


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
    """Append the event and queue what Slack must show of it; `refresh=False` when a later event of
    the same transaction refreshes the card anyway."""
    event = Event(mention_id=mention_id, kind=kind, actor=actor, at=at, data=data)
    session.add(event)
    session.flush()
    channel = get_mention(session, mention_id).channel
    if kind in _THREAD_NOTED:
        enqueue(session, OutboxKind.THREAD_NOTE, mention_id=mention_id, channel=channel, event_id=event.id)
    if refresh:
        enqueue(session, OutboxKind.CARD_REFRESH, mention_id=mention_id, channel=channel)
    return event


def _weather(session: Session, mention_id: int, channel: str, topic: str, rule: StormRule, now: datetime) -> None:
    """Join the storm blowing on this channel and topic, or start one when this mention tips the count.

    The mentions before the storm keep their own cards; the ones after thread under the storm's card.
    """
    since = now - rule.window
    _serialize(session, f"storm:{channel}:{topic}")
    storm = session.exec(
        select(Storm)
        .where(Storm.channel == channel, Storm.topic == topic, Storm.last_at >= since)
        .order_by(Storm.id.desc())  # type: ignore[union-attr]
        .limit(1)
    ).first()
    if storm is None:
        recent = session.exec(
            select(func.count())
            .select_from(Mention)
            .where(
                Mention.channel == channel,
                Mention.topic == topic,
                Mention.heard_at >= since,
                Mention.status != MentionStatus.JOINED,
                Mention.storm_id.is_(None),  # type: ignore[union-attr]
            )
        ).one()
        if recent <= rule.threshold:
            return
        storm = Storm(channel=channel, topic=topic, counted_from=since, started_at=now, last_at=now)
        session.add(storm)
        session.flush()
        enqueue(session, OutboxKind.STORM_CARD, mention_id=mention_id, channel=channel)
    else:
        session.execute(update(Storm).where(Storm.id == storm.id).values(last_at=now))
        # Only one count update waits at a time: the conditional update decides, even across processes.
        queued = session.execute(
            update(Storm).where(Storm.id == storm.id, Storm.refresh_queued.is_(False)).values(refresh_queued=True)  # type: ignore[attr-defined]
        )
        if queued.rowcount == 1:
            enqueue(session, OutboxKind.STORM_REFRESH, mention_id=mention_id, channel=channel)
    session.execute(update(Mention).where(Mention.id == mention_id).values(storm_id=storm.id))


def _heard_first(session: Session, canonical: str | None, *, source: str, now: datetime) -> Mention | None:
    """The open mention another source heard at this address lately: the same post, not a new one that
    links to the same page (review feeds share the product link; a post about last month is news)."""
    if canonical is None:
        return None
    _serialize(session, f"url:{canonical}")
    statement = select(Mention).where(
        Mention.canonical_url == canonical,
        Mention.duplicate_of.is_(None),  # type: ignore[union-attr]
        Mention.source != source,
        Mention.status == MentionStatus.OPEN,
        Mention.heard_at >= now - JOIN_WITHIN,
    )
    return session.exec(statement.order_by(Mention.id).limit(1)).first()  # type: ignore[arg-type]


def _serialize(session: Session, key: str) -> None:
    """On PostgreSQL, one transaction at a time past this point for `key` (SQLite writers queue anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def _open_owned_by(owner_id: str | None):  # type: ignore[no-untyped-def]
    owner = Mention.owner_id.is_(None) if owner_id is None else Mention.owner_id == owner_id  # type: ignore[union-attr]
    return (Mention.status == MentionStatus.OPEN, owner)


def open_mentions(session: Session, *, owner_id: str | None, limit: int) -> list[Mention]:
    """Open mentions owned by `owner_id` (or unclaimed when None), the longest-waiting first."""
    statement = select(Mention).where(*_open_owned_by(owner_id)).order_by(Mention.id).limit(limit)  # type: ignore[arg-type]
    return list(session.exec(statement))


def count_open(session: Session, *, owner_id: str | None) -> int:
    return session.exec(select(func.count()).select_from(Mention).where(*_open_owned_by(owner_id))).one()


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


def posts_by(session: Session, *, source: str, author: str | None, since: datetime) -> int:
    """How many mentions this author wrote on this source lately: a customer posting again is louder."""
    if not author:
        return 0
    statement = select(func.count()).select_from(Mention)
    return session.exec(
        statement.where(Mention.source == source, Mention.author == author, Mention.heard_at >= since)
    ).one()
