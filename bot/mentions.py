"""Mentions: storing what was heard (once), and finding one by its `M-<n>` reference."""

import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from bot.config import Sentiment
from bot.errors import UnknownMention, UserError
from bot.models import Event, EventKind, Mention, MentionStatus, OutboxKind
from bot.outbox import enqueue
from bot.sources import Item
from bot.urls import canonical_url

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


def record(session: Session, heard: Heard) -> int | None:
    """Store a new mention and queue its card; None when this source's item is stored already.

    A post already heard through another source (same canonical URL) is stored as joined to the
    first mention and told in its thread instead of getting a card of its own.
    """
    item = heard.item
    canonical = canonical_url(item.shared_url or item.url)
    first = _heard_first(session, canonical)
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
            "polarity": heard.polarity,
            "sentiment": heard.sentiment.value,
            "category": heard.category,
            "urgency": heard.urgency,
            "needs_human": heard.needs_human,
            "author_reach": item.author_reach,
            "canonical_url": canonical,
            "forwarded_by": heard.forwarded_by,
            "channel": heard.channel,
            "status": MentionStatus.JOINED if first else MentionStatus.OPEN,
            "duplicate_of": first.id if first else None,
        }
    ).model_dump(exclude={"id"})
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    statement = (
        dialect.insert(Mention)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(Mention.id)
    )
    mention_id = session.execute(statement).scalar_one_or_none()
    if mention_id is None:
        return None
    if first is None:
        enqueue(session, OutboxKind.CARD, mention_id=mention_id)
        return mention_id
    assert first.id is not None
    snippet = (item.title or item.text)[:300]
    also = Event(
        mention_id=first.id,
        kind=EventKind.ALSO_HEARD,
        data={
            "mention_id": mention_id,
            "source": heard.source,
            "url": item.url,
            "author": item.author,
            "text": snippet,
        },
    )
    session.add(also)
    session.flush()
    enqueue(session, OutboxKind.THREAD_NOTE, mention_id=first.id, event_id=also.id)
    enqueue(session, OutboxKind.CARD_REFRESH, mention_id=first.id)
    return mention_id


def _heard_first(session: Session, canonical: str | None) -> Mention | None:
    if canonical is None:
        return None
    statement = select(Mention).where(Mention.canonical_url == canonical, Mention.duplicate_of.is_(None))  # type: ignore[union-attr]
    return session.exec(statement.order_by(Mention.id).limit(1)).first()  # type: ignore[arg-type]


def _open_owned_by(owner_id: str | None):  # type: ignore[no-untyped-def]
    owner = Mention.owner_id.is_(None) if owner_id is None else Mention.owner_id == owner_id  # type: ignore[union-attr]
    return (Mention.status == MentionStatus.OPEN, owner)


def open_mentions(session: Session, *, owner_id: str | None, limit: int) -> list[Mention]:
    """Open mentions owned by `owner_id` (or unclaimed when None), the longest-waiting first."""
    statement = select(Mention).where(*_open_owned_by(owner_id)).order_by(Mention.id).limit(limit)  # type: ignore[arg-type]
    return list(session.exec(statement))


def count_open(session: Session, *, owner_id: str | None) -> int:
    return session.exec(select(func.count()).select_from(Mention).where(*_open_owned_by(owner_id))).one()
