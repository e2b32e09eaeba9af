"""Recording what was heard: each source's item stored once, as a new mention with its card, as the same post
heard first through another source, or as its author writing again in an earlier conversation."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, and_, bindparam, event, func, or_, text
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from bot.ground.config import Sentiment, StormRule
from bot.ground.db import serialize
from bot.ground.mentions import append_event, reopen_resolved
from bot.ground.models import EventKind, Mention, MentionStatus, OutboxKind, WebhookEvent
from bot.ground.outbox import hold
from bot.ground.webhooks import tell_webhooks
from bot.hear.sources import Item
from bot.hear.storms import Weather, join_storm
from bot.hear.urls import canonical_url

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
_NULL_UNLESS_GIVEN = frozenset(
    column.name
    for column in _TABLE.columns
    if column.nullable
    and column.default is None
    and column.server_default is None
    and not column.primary_key
    and not isinstance(column.type, JSON)  # a None given is stored as JSON null, not as NULL
)
"""Columns a row may leave out: the database stores NULL, as for a None given."""
# One row or many at once, each answered with its external id (rows that were present already are not).
_INSERTS_EACH = {
    name: dialect.insert(_TABLE)
    .on_conflict_do_nothing(index_elements=["source", "external_id"])
    .returning(_C.external_id, _C.id)
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
# Per author: mentions lately, and the resolved ones without a thread, the only ones a post without a thread continues.
_ACTIVE_EACH = (
    core_select(
        _C.author,
        func.count(),
        func.count().filter(and_(_C.thread.is_(None), _C.status == MentionStatus.RESOLVED.value)),
    )
    .where(
        _C.source == bindparam("source"),
        _C.author.in_(bindparam("authors", expanding=True)),
        _C.heard_at >= bindparam("since"),
    )
    .group_by(_C.author)
)
_SEQUENCE_TO = text("SELECT setval(pg_get_serial_sequence('mention', 'id'), :last)")
_LAST = core_select(func.coalesce(func.max(_C.id), 0))
_MOVE = _TABLE.update().where(_C.id == bindparam("given")).values(id=bindparam("final"))
_LAST_ID = "allears_last_mention_id"
"""In `Session.info`: the transaction that numbered mentions, the last id it gave, and whether the sequence is
behind it."""
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
    product: str | None = None
    """The first `[[listen.products]]` whose query it matches."""
    matched: tuple[str, ...] = ()
    """The words and phrases of the query that kept it: the card says why it was shown."""
    lang: str | None = None
    """Its language (ISO 639-1), when the detector is sure."""


@dataclass
class LookedAhead:
    """What each item would ask the database for itself, asked once for a whole batch of one source."""

    source: str
    now: datetime
    canonical: dict[str | None, str | None] = field(default_factory=dict)
    """Each address of the poll → its canonical form."""
    first_heard: dict[str, int | None] = field(default_factory=dict)
    """Each canonical address of the poll (locked on PostgreSQL) → the open mention another source heard there."""
    quiet_authors: set[str] = field(default_factory=set)
    """Authors with no mention on this source within `FOLLOW_UP_WITHIN`: nothing of theirs to continue."""
    none_resolved: set[str] = field(default_factory=set)
    """Authors with no resolved mention without a thread within `FOLLOW_UP_WITHIN`: a post of theirs without a
    thread continues nothing, all poll long (storing a poll resolves nothing)."""
    posts: Counter[str] = field(default_factory=Counter)
    """Each author's mentions on this source within `FOLLOW_UP_WITHIN` (`bot.hear.batches.Batch` adds the
    poll's own)."""
    weather: Weather = field(default_factory=Weather)
    """The storms asked about so far, and the mentions counting towards one stored since."""

    def continues_nothing(self, item: Item) -> bool:
        return item.author in self.quiet_authors or self.never_continues(item)

    def never_continues(self, item: Item) -> bool:
        """Nothing the poll stores makes this item continue a conversation."""
        return not item.thread and item.author in self.none_resolved


def look_ahead(session: Session, items: Iterable[Item], *, source: str, now: datetime) -> LookedAhead:
    """Take every address lock the poll's items need and answer their lookups, in three statements."""
    items = list(items)
    addresses = {address: canonical_url(address) for address in {item.shared_url or item.url for item in items}}
    canonicals = sorted({url for url in addresses.values() if url})
    ahead = LookedAhead(source=source, now=now, canonical=addresses, first_heard=dict.fromkeys(canonicals))
    if canonicals:
        if _dialect(session) == "postgresql":
            session.execute(_LOCK_EACH, {"keys": [f"url:{url}" for url in canonicals]})
        found = {"canonicals": canonicals, "source": source, "since": now - JOIN_WITHIN}
        ahead.first_heard.update(session.execute(_HEARD_FIRST_EACH, found).all())
    authors = sorted({item.author for item in items if item.author and len(item.author) <= 500})
    resolved: dict[str, int] = {}
    if authors:
        found = {"source": source, "authors": authors, "since": now - FOLLOW_UP_WITHIN}
        for author, posts, resolved_posts in session.execute(_ACTIVE_EACH, found):
            ahead.posts[author], resolved[author] = posts, resolved_posts
    ahead.quiet_authors = {author for author in authors if not ahead.posts[author]}
    ahead.none_resolved = {author for author in authors if not resolved.get(author)}
    return ahead


@dataclass(frozen=True)
class Planned:
    """A mention's row as decided before the insert, and what is done once the row is stored."""

    heard: Heard
    values: dict[str, Any]
    first: int | None
    earlier: int | None
    storm: StormRule | None
    """The storm rule, when the post is fresh enough to make weather."""
    now: datetime
    ahead: LookedAhead
    weather_known: bool
    """Whether the poll knows the storm on this mention's channel and topic already (or needs none)."""


def plan(session: Session, heard: Heard, *, storm: StormRule | None, now: datetime, ahead: LookedAhead) -> Planned:
    """The row a mention is inserted as, from the lookups its batch made already (`ahead`, at this `now`) and,
    where those do not tell, its own; its card is held back, to be written with the batch's others
    (`bot.ground.outbox.write_held`)."""
    item = heard.item
    if session.autoflush:  # the lookups below are Core statements, which do not flush for themselves
        session.flush()
    address = item.shared_url or item.url
    canonical = ahead.canonical[address] if address in ahead.canonical else canonical_url(address)
    if canonical is not None and canonical in ahead.first_heard:
        first = ahead.first_heard[canonical]
    else:
        first = _heard_first(session, canonical, source=heard.source, now=now)
    earlier = None if first or ahead.continues_nothing(item) else _conversation(session, heard, now=now)
    # A source's first poll brings back old posts all at once; only fresh ones make weather.
    if storm is not None and item.published_at is not None and item.published_at < now - storm.window:
        storm = None
    weathers = bool(storm is not None and heard.topic and not (first or earlier))
    known = not weathers or ahead.weather.knows(heard.channel, heard.topic or "")
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
        "rating": item.rating,
        "app_version": item.app_version[:50] if item.app_version else None,
        "canonical_url": canonical,
        "forwarded_by": heard.forwarded_by,
        "topic": heard.topic,
        "product": heard.product,
        "matched": ", ".join(heard.matched)[:500] or None,
        "lang": heard.lang,
        "reply_to": item.reply_to,
        "thread": item.thread[:500] if item.thread else None,
        "channel": heard.channel,
        "status": (MentionStatus.JOINED if first or earlier else MentionStatus.OPEN).value,
        "duplicate_of": first or earlier,
        # A fresh post on a topic whose storm the poll saw blowing is stored in it at once.
        "storm_id": ahead.weather.blowing(heard.channel, heard.topic or "") if weathers else None,
    }
    _check_lengths(values)
    return Planned(heard, values, first, earlier, storm, now, ahead, known)


def complete(session: Session, planned: Planned, mention_id: int) -> None:
    """Once the mention's row is stored: tell the webhooks, then the thread it joins, or weather storms and hold
    its card."""
    heard, now, ahead, first = planned.heard, planned.now, planned.ahead, planned.first
    item = heard.item
    tell_webhooks(session, WebhookEvent.MENTION_CREATED, mention_id=mention_id, held=True)
    if item.author:
        ahead.quiet_authors.discard(item.author)
    if planned.values["status"] == MentionStatus.CHECKING.value:  # the LLM job decides (`bot.hear.llm`)
        return
    if planned.values["status"] == MentionStatus.MUTED.value:  # no card, no weather: it waits for the digest
        append_event(
            session, mention_id, EventKind.MUTED, None, now, refresh=False, relevance=planned.values["relevance"]
        )
        return
    if planned.earlier is not None:
        _follow_up(session, planned.earlier, mention_id, heard, now)
        return
    if first is None:
        weather = ahead.weather
        if heard.topic:
            weather.heard(heard.channel, heard.topic)
        if planned.storm is not None and heard.topic:
            stored_in = planned.values["storm_id"]
            join_storm(
                session,
                mention_id,
                heard.channel,
                heard.topic,
                planned.storm,
                now,
                weather=weather,
                stored_in=stored_in,
            )
        hold(session, OutboxKind.CARD, mention_id=mention_id, channel=heard.channel)
        return
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


def insert_each(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert planned rows (`Planned.values`, of distinct external ids) in one statement, in their order, as
    one insert after another would; returns the new ones' ids by external id.

    A mention's id is its reference (`M-<id>`), so ids are handed out without gaps. SQLite does so by itself:
    a row that is present already takes no id, and a rolled-back one gives its id back. A PostgreSQL sequence
    does neither, so there new rows are numbered here, after the last stored one, one transaction at a time."""
    if _dialect(session) != "postgresql" or not rows:
        return dict(session.execute(_INSERTS_EACH[_dialect(session)], rows).all())
    rows = _named(rows)
    last = _last_id(session)
    numbered = [row | {"id": last + number} for number, row in enumerate(rows, start=1)]
    stored = dict(session.execute(_INSERTS_EACH["postgresql"], numbered).all())
    # Rows present already were skipped with the ids they were given: the ones after them move up, in order,
    # each into a free id below its own.
    moves = [
        {"given": given, "final": last + rank}
        for rank, given in enumerate(sorted(stored.values()), start=1)
        if given != last + rank
    ]
    if moves:
        session.execute(_MOVE, moves)
        final = {move["given"]: move["final"] for move in moves}
        stored = {external_id: final.get(given, given) for external_id, given in stored.items()}
    behind = bool(stored) or session.info[_LAST_ID][2]
    session.info[_LAST_ID] = (session.get_transaction(), last + len(stored), behind)
    return stored


def _named(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows without the columns none of them has a value for: each column named costs psycopg a bound
    parameter a row, and most mentions have no title, thread, storm, product or language. (sqlite3 binds a None
    for less than copying the rows costs.)"""
    if not rows:
        return rows
    unset = {key for key in rows[0] if key in _NULL_UNLESS_GIVEN and all(row[key] is None for row in rows)}
    if not unset:
        return rows
    return [{key: value for key, value in row.items() if key not in unset} for row in rows]


def _last_id(session: Session) -> int:
    """The last mention id, with the lock that keeps it the last until this transaction ends (so the next one
    to number mentions sees these stored, or rolled back and their ids free again)."""
    known = session.info.get(_LAST_ID)
    if known is not None and known[0] is session.get_transaction():
        return int(known[1])  # this transaction holds the lock: nobody else has numbered one since
    serialize(session, "mention-ids")
    last = int(session.execute(_LAST).scalar_one())
    session.info[_LAST_ID] = (session.get_transaction(), last, False)
    return last


@event.listens_for(OrmSession, "before_commit")
def _sequence_to_last(session: OrmSession) -> None:
    """Once a transaction that numbered mentions commits, the sequence follows (once, not per batch), so
    anything inserting without an id (a test's fixture, a hand-made row) takes the next free one too."""
    known = session.info.get(_LAST_ID)
    if known is not None and known[2] and known[0] is session.get_transaction():
        session.execute(_SEQUENCE_TO, {"last": known[1]})


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
    said: dict[str, Any] = {"mention_id": mention_id, "url": item.url, "author": item.author, "text": item.text[:300]}
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
