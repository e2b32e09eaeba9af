"""Mentions a page at a time for other tools (the read API): filtered, in the order they were heard.

Pages are keyset pages over (heard_at, id), so a walk reads each stored mention once however many arrive while
it walks (new ones are heard later, so they come at its end; README "Read API" says what one still being written
as a page is read can do), and each page is one range scan of an index (`ix_mention_heard_at_id`, or a filter's
own) whatever the page's depth."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Result, Select, tuple_
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from bot.ground.config_types import Sentiment
from bot.ground.errors import UnknownMention
from bot.ground.models import Event, Mention, MentionStatus


@dataclass(frozen=True)
class MentionFilter:
    """What a page keeps; None keeps all."""

    since: datetime | None = None
    """Heard at or after this moment."""
    status: MentionStatus | None = None
    source: str | None = None
    product: str | None = None
    sentiment: Sentiment | None = None
    owner: str | None = None


@dataclass(frozen=True)
class Position:
    """Where a page ended: the next one starts after this mention."""

    heard_at: datetime
    mention_id: int


SHOWN = (
    "id",
    "heard_at",
    "published_at",
    "source",
    "source_kind",
    "url",
    "author",
    "title",
    "text",
    "sentiment",
    "polarity",
    "category",
    "urgency",
    "needs_human",
    "product",
    "topic",
    "lang",
    "channel",
    "status",
    "duplicate_of",
    "owner_id",
    "claimed_at",
    "first_reply_at",
    "resolved_at",
    "outcome",
)
"""What other tools are shown of a mention. Read as plain rows of the table's own columns: ORM objects cost a page
of 100 several times as long to load, and the ORM's attributes cost SQLAlchemy a comparison of each column with
the cached statement's at every page (bench/api.py)."""

_C = Mention.__table__.c  # type: ignore[attr-defined]  # SQLModel declares no __table__, though it makes one


@dataclass(frozen=True)
class Page:
    mentions: Sequence[dict[str, Any]]
    """`SHOWN` of each."""
    more: bool
    """Whether mentions stored now come after this page."""

    def end(self, start: Position | None) -> Position | None:
        """Where the next page starts: after its last mention, or where this one started when it is empty."""
        if not self.mentions:
            return start
        last = self.mentions[-1]
        return Position(last["heard_at"], last["id"])


_SHOWN: Select[Any] = sql_select(*(_C[name] for name in SHOWN))
"""Built once: each page only adds its conditions (a Select is immutable; `where` makes a new one)."""


def mention_page(session: Session, kept: MentionFilter, *, after: Position | None, limit: int) -> Page:
    """Up to `limit` mentions `kept` keeps, the first heard first, after `after`."""
    statement = _SHOWN
    for column, wanted in (
        (_C.status, kept.status),
        (_C.source, kept.source),
        (_C.product, kept.product),
        (_C.sentiment, kept.sentiment),
        (_C.owner_id, kept.owner),
    ):
        if wanted is not None:
            statement = statement.where(column == wanted)
    if kept.since is not None:
        statement = statement.where(_C.heard_at >= kept.since)
    if after is not None:
        statement = statement.where(tuple_(_C.heard_at, _C.id) > tuple_(after.heard_at, after.mention_id))
    statement = statement.order_by(_C.heard_at, _C.id).limit(limit + 1)
    mentions = _dicts(session.connection().execute(statement))  # a Core read: no ORM machinery around it
    return Page(mentions[:limit], more=len(mentions) > limit)


def _dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """Each row as a dict: three times as fast as SQLAlchemy's RowMapping made into one (bench/api.py)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def mention_history(session: Session, mention_id: int) -> tuple[dict[str, Any], list[Event]]:
    """`SHOWN` of the mention (UnknownMention if there is none) and its events, oldest first."""
    found = _dicts(session.connection().execute(_SHOWN.where(_C.id == mention_id)))
    if not found:
        raise UnknownMention(f"M-{mention_id}")
    events = session.exec(
        select(Event).where(col(Event.mention_id) == mention_id).order_by(col(Event.at), col(Event.id))
    )
    return found[0], list(events)
