"""Recording what was heard: each source's item stored once, as a new mention with its card, as the same post
heard first through another source, or as its author writing again in an earlier conversation."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, func, or_, text
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.clock import utcnow
from bot.config import Sentiment, StormRule
from bot.db import serialize
from bot.mentions import append_event, reopen_resolved
from bot.models import EventKind, Mention, MentionStatus, OutboxKind
from bot.outbox import enqueue
from bot.sources import Item
from bot.storms import join_storm
from bot.urls import canonical_url

JOIN_WITHIN = timedelta(hours=48)
"""A post heard again through another source within this long is the same conversation."""
FOLLOW_UP_WITHIN = timedelta(days=7)
"""A customer writing again in the same conversation within this long continues the earlier mention."""

# Intake runs these for every item heard, so they are built once as Core statements on the table: building
# an ORM statement and loading a whole `Mention` costs several times what the database takes to answer.
_TABLE = Mention.__table__  # type: ignore[attr-defined]
_C = _TABLE.c
_LIMITS = tuple(
    (column.name, column.type.length)
    for column in _TABLE.columns
    if isinstance(column.type, String) and column.type.length
)
_INSERTS = {
    name: dialect.insert(_TABLE).on_conflict_do_nothing(index_elements=["source", "external_id"]).returning(_C.id)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
_HEARD_FIRST = (
    core_select(_C.id)
    .where(
        _C.canonical_url == bindparam("canonical"),
        _C.duplicate_of.is_(None),
        _C.source != bindparam("source"),
        # `|| ''` keeps SQLite (which has no statistics until ANALYZE) from walking the status index
        # through every open mention instead of looking the address up.
        _C.status.concat("") == MentionStatus.OPEN.value,
        _C.heard_at >= bindparam("since"),
    )
    .order_by(_C.id)
    .limit(1)
)
_HEARD_FIRST_EACH = (
    core_select(_C.canonical_url, func.min(_C.id))
    .where(
        _C.canonical_url.in_(bindparam("canonicals", expanding=True)),
        _C.duplicate_of.is_(None),
        _C.source != bindparam("source"),
        _C.status.concat("") == MentionStatus.OPEN.value,
        _C.heard_at >= bindparam("since"),
    )
    .group_by(_C.canonical_url)
)
_BY_AUTHOR = (_C.source == bindparam("source"), _C.author == bindparam("author"), _C.heard_at >= bindparam("since"))
_IN_THREAD = (
    core_select(_C.id)
    .where(
        *_BY_AUTHOR,
        or_(_C.thread == bindparam("thread"), _C.external_id == bindparam("thread")),
        _C.status.in_([MentionStatus.OPEN.value, MentionStatus.RESOLVED.value]),
    )
    .order_by(_C.heard_at.desc())
    .limit(1)
)
_ON_TOPIC = (
    core_select(_C.id)
    .where(*_BY_AUTHOR, _C.thread.is_(None), _C.topic == bindparam("topic"), _C.status == MentionStatus.RESOLVED.value)
    .order_by(_C.heard_at.desc())
    .limit(1)
)
_POSTS_BY = core_select(func.count()).select_from(_TABLE).where(*_BY_AUTHOR)
_POSTS_BY_EACH = (
    core_select(_C.author, func.count())
    .where(
        _C.source == bindparam("source"),
        _C.author.in_(bindparam("authors", expanding=True)),
        _C.heard_at >= bindparam("since"),
    )
    .group_by(_C.author)
)
# The locks `serialize` takes, for many keys at once: in the order of the lock numbers, so two polls locking
# overlapping addresses never wait on each other in a circle.
_LOCK_EACH = text(
    "SELECT pg_advisory_xact_lock(number) FROM"
    " (SELECT DISTINCT hashtext(key) AS number FROM unnest(CAST(:keys AS text[])) AS key ORDER BY 1) AS numbers"
)


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


@dataclass
class LookedAhead:
    """What `record` would ask the database item by item, asked once for a whole poll of one source."""

    source: str
    now: datetime
    first_heard: dict[str, int | None] = field(default_factory=dict)
    """Each canonical address of the poll (locked on PostgreSQL) → the open mention another source heard there."""
    quiet_authors: set[str] = field(default_factory=set)
    """Authors with no mention on this source within `FOLLOW_UP_WITHIN`: nothing of theirs to continue."""


def look_ahead(session: Session, items: Iterable[Item], *, source: str, now: datetime) -> LookedAhead:
    """Take every address lock the poll's items need and answer their lookups, in three statements."""
    items = list(items)
    canonicals = sorted({url for url in (canonical_url(item.shared_url or item.url) for item in items) if url})
    ahead = LookedAhead(source=source, now=now, first_heard=dict.fromkeys(canonicals))
    if canonicals:
        if _dialect(session) == "postgresql":
            session.execute(_LOCK_EACH, {"keys": [f"url:{url}" for url in canonicals]})
        found = {"canonicals": canonicals, "source": source, "since": now - JOIN_WITHIN}
        ahead.first_heard.update(session.execute(_HEARD_FIRST_EACH, found).all())
    authors = [item.author for item in items if item.author and len(item.author) <= 500]
    posts = posts_by_each(session, source=source, authors=authors, since=now - FOLLOW_UP_WITHIN)
    ahead.quiet_authors = {author for author in authors if not posts[author]}
    return ahead


def record(
    session: Session,
    heard: Heard,
    *,
    storm: StormRule | None = None,
    now: datetime | None = None,
    ahead: LookedAhead | None = None,
) -> int | None:
    """Store a new mention and queue its card; None when this source's item is stored already.

    A post already heard through another source (same canonical URL) is stored as joined to the
    first mention and told in its thread instead of getting a card of its own; so is the author
    writing again in the same conversation, which reopens the earlier mention if it was resolved.
    `ahead` holds those lookups already made for the poll this item came in (at this `now`).
    """
    item, now = heard.item, now or utcnow()
    if session.autoflush:  # the lookups below are Core statements, which do not flush for themselves
        session.flush()
    canonical = canonical_url(item.shared_url or item.url)
    if ahead is not None and (ahead.source, ahead.now) != (heard.source, now):
        ahead = None
    if ahead is not None and canonical is not None and canonical in ahead.first_heard:
        first = ahead.first_heard[canonical]
    else:
        first = _heard_first(session, canonical, source=heard.source, now=now)
    if first or (ahead is not None and item.author in ahead.quiet_authors):
        earlier = None
    else:
        earlier = _conversation(session, heard, now=now)
    values = {
        "source": heard.source,
        "source_kind": heard.source_kind,
        "external_id": item.external_id,
        "url": item.url[:2000] if item.url else None,
        "author": item.author[:500] if item.author else None,
        "title": item.title,
        "text": item.text,
        "published_at": item.published_at,
        "heard_at": now,
        "polarity": float(heard.polarity),
        "sentiment": heard.sentiment.value,
        "category": str(heard.category),
        "urgency": str(heard.urgency),
        "needs_human": heard.needs_human,
        "author_reach": item.author_reach,
        "canonical_url": canonical,
        "forwarded_by": heard.forwarded_by,
        "topic": heard.topic,
        "reply_to": item.reply_to,
        "thread": item.thread[:500] if item.thread else None,
        "channel": heard.channel,
        "status": (MentionStatus.JOINED if first or earlier else MentionStatus.OPEN).value,
        "duplicate_of": first or earlier,
    }
    _check_lengths(values)
    mention_id = session.execute(_INSERTS[_dialect(session)], values).scalar_one_or_none()
    if mention_id is None:
        return None
    if ahead is not None and item.author:
        ahead.quiet_authors.discard(item.author)
    if earlier is not None:
        _follow_up(session, earlier, mention_id, heard, now)
        return mention_id
    if first is None:
        # A source's first poll brings back old posts all at once; only fresh ones make weather.
        if storm is not None and heard.topic and (item.published_at is None or item.published_at >= now - storm.window):
            join_storm(session, mention_id, heard.channel, heard.topic, storm, now)
        enqueue(session, OutboxKind.CARD, mention_id=mention_id, channel=heard.channel)
        return mention_id
    append_event(
        session,
        first,
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


def _check_lengths(values: dict[str, Any]) -> None:
    """Refuse what the columns cannot hold, on SQLite (which would keep it) as on PostgreSQL."""
    for name, length in _LIMITS:
        value = values.get(name)
        if value is not None and len(value) > length:
            raise ValueError(f"mention {name} is longer than {length} characters")


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _conversation(session: Session, heard: Heard, *, now: datetime) -> int | None:
    """The author's recent mention on this source that the item continues: the same thread, or,
    when the source has no threads, a resolved one about the same topic.

    Without a thread, only a resolved mention is continued: while one is open, more thread-less
    posts by the same person are posts of their own (a burst of them makes a storm).
    """
    item = heard.item
    if not item.author:
        return None
    found = {"source": heard.source, "author": item.author[:500], "since": now - FOLLOW_UP_WITHIN}
    if item.thread:
        statement, found["thread"] = _IN_THREAD, item.thread[:500]
    elif heard.topic:
        statement, found["topic"] = _ON_TOPIC, heard.topic
    else:
        return None
    return session.execute(statement, found).scalar()


def _follow_up(session: Session, earlier: int, mention_id: int, heard: Heard, now: datetime) -> None:
    """Tell the earlier mention's thread that the customer wrote again, reopening it if it was resolved.

    The reopen is a conditional update, so a colleague reopening it at the same moment is no harm.
    """
    item = heard.item
    said = {"mention_id": mention_id, "url": item.url, "author": item.author, "text": item.text[:300]}
    if reopen_resolved(session, earlier):
        append_event(session, earlier, EventKind.REOPENED, None, now, **said)
    else:
        append_event(session, earlier, EventKind.FOLLOWED_UP, None, now, refresh=False, **said)


def _heard_first(session: Session, canonical: str | None, *, source: str, now: datetime) -> int | None:
    """The open mention another source heard at this address lately: the same post, not a new one that
    links to the same page (review feeds share the product link; a post about last month is news)."""
    if canonical is None:
        return None
    serialize(session, f"url:{canonical}")
    found = {"canonical": canonical, "source": source, "since": now - JOIN_WITHIN}
    return session.execute(_HEARD_FIRST, found).scalar()


def posts_by(session: Session, *, source: str, author: str | None, since: datetime) -> int:
    """How many mentions this author wrote on this source lately: a customer posting again is louder."""
    if not author:
        return 0
    return session.execute(_POSTS_BY, {"source": source, "author": author, "since": since}).scalar_one()


def posts_by_each(session: Session, *, source: str, authors: Iterable[str | None], since: datetime) -> Counter[str]:
    """`posts_by` for the authors of a whole poll in one query; add each new mention as it is stored."""
    wanted = sorted({author for author in authors if author})
    if not wanted:
        return Counter()
    rows = session.execute(_POSTS_BY_EACH, {"source": source, "authors": wanted, "since": since})
    return Counter(dict(rows.all()))
