"""Mentions a page at a time for other tools (the read API): filtered, in the order they were heard.

Pages are keyset pages over (heard_at, id), so a walk reads each stored mention once however many arrive while
it walks (new ones are heard later, so they come at its end; README "Read API" says what one still being written
as a page is read can do), and each page is one range scan of an index (`ix_mention_heard_at_id`, or a filter's
own) whatever the page's depth."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, Result, Select, bindparam, tuple_
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
    "rating",
    "app_version",
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

COLUMNS = Mention.__table__.c  # type: ignore[attr-defined]  # SQLModel declares no __table__, though it makes one


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


_SHOWN: Select[Any] = sql_select(*(COLUMNS[name] for name in SHOWN))

_FILTERS = (
    ("status", COLUMNS.status),
    ("source", COLUMNS.source),
    ("product", COLUMNS.product),
    ("sentiment", COLUMNS.sentiment),
    ("owner", COLUMNS.owner_id),
)


def page_values(kept: MentionFilter, *, after: Position | None, limit: int) -> dict[str, Any]:
    """The values of a page's statement (`kept_page`), named: its keys say which conditions the statement has."""
    values: dict[str, Any] = {name: str(getattr(kept, name)) for name, _ in _FILTERS if getattr(kept, name) is not None}
    if kept.since is not None:
        values["since"] = kept.since
    if after is not None:
        values["after_heard_at"], values["after_id"] = after.heard_at, after.mention_id
    values["limit"] = limit
    values["read"] = limit + 1  # one more tells whether more follow
    return values


def kept_page(statement: Select[Any], narrowed: Collection[str]) -> Select[Any]:
    """`statement` narrowed by the conditions `narrowed` names (the keys of `page_values`) to a page's mentions, the
    first heard first. The values are bound when it runs, so one statement serves every page narrowed alike: it is
    built and compiled once, and psycopg prepares it on the server once per connection."""
    for name, column in _FILTERS:
        if name in narrowed:
            statement = statement.where(column == bindparam(name))
    if "since" in narrowed:
        statement = statement.where(COLUMNS.heard_at >= bindparam("since"))
    if "after_id" in narrowed:
        after = tuple_(bindparam("after_heard_at", type_=COLUMNS.heard_at.type), bindparam("after_id", type_=Integer))
        statement = statement.where(tuple_(COLUMNS.heard_at, COLUMNS.id) > after)
    return statement.order_by(COLUMNS.heard_at, COLUMNS.id).limit(bindparam("read", type_=Integer))


@cache
def _shown_page(narrowed: frozenset[str]) -> Select[Any]:
    return kept_page(_SHOWN, narrowed)


def mention_page(session: Session, kept: MentionFilter, *, after: Position | None, limit: int) -> Page:
    """Up to `limit` mentions `kept` keeps, the first heard first, after `after`."""
    values = page_values(kept, after=after, limit=limit)
    # A Core read: no ORM machinery around it.
    mentions = _dicts(session.connection().execute(_shown_page(frozenset(values)), values))
    return Page(mentions[:limit], more=len(mentions) > limit)


def _dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """Each row as a dict: three times as fast as SQLAlchemy's RowMapping made into one (bench/api.py)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def mention_history(session: Session, mention_id: int) -> tuple[dict[str, Any], list[Event]]:
    """`SHOWN` of the mention (UnknownMention if there is none) and its events, oldest first."""
    found = _dicts(session.connection().execute(_SHOWN.where(COLUMNS.id == mention_id)))
    if not found:
        raise UnknownMention(f"M-{mention_id}")
    events = session.exec(
        select(Event).where(col(Event.mention_id) == mention_id).order_by(col(Event.at), col(Event.id))
    )
    return found[0], list(events)
