"""One poll of one source: fetch, keep what matches, score, route, and store each new mention with
its card queued, in one transaction. A failing source records its error and harms no other."""

import logging
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import utcnow
from bot.config import Config, RssSource
from bot.db import read_scope, session_scope
from bot.matching import KeywordMatcher
from bot.mentions import Heard, record
from bot.models import SourceState
from bot.routing import Router
from bot.sentiment import score
from bot.sources import Item, SourceError
from bot.sources.rss import fetch_feed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollReport:
    source: str
    fetched: int = 0
    matched: int = 0
    new: int = 0
    error: str | None = None


class Listener:
    """Decides which items become mentions and where they go; built once from the config."""

    def __init__(self, config: Config) -> None:
        self._keywords = KeywordMatcher(config.listen.keywords, config.listen.exclude)
        self._router = Router(config)

    def hear(self, item: Item, *, source: str, source_kind: str) -> Heard | None:
        text = f"{item.title}\n{item.text}" if item.title and item.title not in item.text else item.text
        if not self._keywords.matches(text):
            return None
        scored = score(text)
        channel = self._router.channel_for(source=source, source_kind=source_kind, sentiment=scored.label, text=text)
        return Heard(
            item=item,
            source=source,
            source_kind=source_kind,
            polarity=scored.polarity,
            sentiment=scored.label,
            channel=channel,
        )


def poll(
    engine: Engine, http: httpx.Client, listener: Listener, source: RssSource, *, now: datetime | None = None
) -> PollReport:
    now = now or utcnow()
    with read_scope(engine) as session:
        state = _state(session, source)
        etag, last_modified = state.etag, state.last_modified
    try:
        fetched = fetch_feed(http, source.url, etag=etag, last_modified=last_modified)
    except SourceError as error:
        log.warning("source %s: %s", source.key, error)
        return _failed(engine, source, str(error), now)
    except Exception as error:  # a parser bug must not leave the source failing silently
        log.exception("source %s: unexpected failure", source.key)
        return _failed(engine, source, f"unexpected {type(error).__name__}: {error}", now)

    # Feeds list the newest first; cards read best in the order customers wrote them.
    items = sorted(reversed(fetched.items), key=lambda item: item.published_at or now)
    heard = [h for item in items if (h := listener.hear(item, source=source.key, source_kind=source.kind))]
    with session_scope(engine) as session:
        new = sum(record(session, h) is not None for h in heard)
        state = _state(session, source)
        if not fetched.not_modified:
            state.etag, state.last_modified = fetched.etag, fetched.last_modified
        state.last_success_at, state.consecutive_failures = now, 0
        state.items_seen += len(fetched.items)
        if fetched.problem:
            state.last_error, state.last_error_at = fetched.problem[:2000], now
        session.add(state)
    if new:
        log.info("source %s: %d new mention(s)", source.key, new)
    return PollReport(source=source.key, fetched=len(fetched.items), matched=len(heard), new=new, error=fetched.problem)


def _failed(engine: Engine, source: RssSource, problem: str, now: datetime) -> PollReport:
    with session_scope(engine) as session:
        state = _state(session, source)
        state.last_error, state.last_error_at = problem[:2000], now
        state.consecutive_failures += 1
        session.add(state)
    return PollReport(source=source.key, error=problem)


def _state(session: Session, source: RssSource) -> SourceState:
    return session.get(SourceState, source.key) or SourceState(source=source.key)
