"""Mentions a page at a time for other tools (the read API): filtered, in the order they were heard.

Pages are keyset pages over (heard_at, id), so a walk reads each stored mention once however many arrive while
it walks (new ones are heard later, so they come at its end), and each page is one range scan of an index
(`ix_mention_heard_at_id`, or a filter's own) whatever the page's depth."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import tuple_
from sqlmodel import Session, col, select

from bot.ground.config_types import Sentiment
from bot.ground.mentions import get_mention
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


@dataclass(frozen=True)
class Page:
    mentions: list[Mention]
    more: bool
    """Whether mentions stored now come after this page."""

    def end(self, start: Position | None) -> Position | None:
        """Where the next page starts: after its last mention, or where this one started when it is empty."""
        if not self.mentions:
            return start
        last = self.mentions[-1]
        assert last.id is not None
        return Position(last.heard_at, last.id)


def mention_page(session: Session, kept: MentionFilter, *, after: Position | None, limit: int) -> Page:
    """Up to `limit` mentions `kept` keeps, the first heard first, after `after`."""
    statement = select(Mention)
    for column, wanted in (
        (Mention.status, kept.status),
        (Mention.source, kept.source),
        (Mention.product, kept.product),
        (Mention.sentiment, kept.sentiment),
        (Mention.owner_id, kept.owner),
    ):
        if wanted is not None:
            statement = statement.where(col(column) == wanted)
    if kept.since is not None:
        statement = statement.where(col(Mention.heard_at) >= kept.since)
    if after is not None:
        statement = statement.where(
            tuple_(col(Mention.heard_at), col(Mention.id)) > tuple_(after.heard_at, after.mention_id)
        )
    statement = statement.order_by(col(Mention.heard_at), col(Mention.id)).limit(limit + 1)
    mentions = list(session.exec(statement))
    return Page(mentions[:limit], more=len(mentions) > limit)


def mention_history(session: Session, mention_id: int) -> tuple[Mention, list[Event]]:
    """The mention (UnknownMention if there is none) and its events, oldest first."""
    mention = get_mention(session, mention_id)
    events = session.exec(
        select(Event).where(col(Event.mention_id) == mention_id).order_by(col(Event.at), col(Event.id))
    )
    return mention, list(events)
