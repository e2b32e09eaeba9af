"""One poll of one source: fetch, keep what matches, score, route, and store each new mention with
its card queued, in one transaction. A failing source records its error, backs off, and harms no
other; a source that asks for time (429, a quota) gets it."""

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from bot.ground import prometheus
from bot.ground.backoff import Backoff
from bot.ground.clock import utcnow
from bot.ground.config import Config
from bot.ground.config_sources import SourceConfig
from bot.ground.db import insert_unless_present, read_scope, session_scope
from bot.ground.models import SourceState
from bot.ground.outbox import write_held
from bot.hear.batches import Batch
from bot.hear.matching import Facts, KeywordMatcher, Matcher
from bot.hear.recording import FOLLOW_UP_WITHIN, Heard, look_ahead, plan
from bot.hear.relevance import Muting
from bot.hear.routing import Router
from bot.hear.sources import Fetched, Item, PollState, RateLimited, SourceError
from bot.hear.sources.registry import fetch
from bot.hear.topics import topic_of
from bot.hear.triage import triage

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)
MAX_REST = timedelta(days=1)
REPEAT_WINDOW = FOLLOW_UP_WITHIN
"""Posts by one author within this long count as repeats, which turn urgency up: the window in which a post
follows up on the author's earlier one, so one lookup per poll (`look_ahead`) counts both."""


@dataclass(frozen=True)
class PollReport:
    source: str
    fetched: int = 0
    matched: int = 0
    new: int = 0
    error: str | None = None
    resting_until: datetime | None = None
    """Set when the poll was skipped because the source is backing off."""
    paused_at: datetime | None = None
    """Set when the poll was skipped because an admin paused the source."""


@dataclass(frozen=True)
class Found:
    """What is known of an item, and the product (or the brand's query) whose query it matches, if any."""

    facts: Facts
    product: str | None = None
    matcher: Matcher | None = None
    about_us: bool = False
    """Kept though no query matched: a review of the team's own app is about it whatever it says."""

    @property
    def kept(self) -> bool:
        return self.matcher is not None or self.about_us


class Listener:
    """Decides which items become mentions, of which product, and where they go; built once from the config."""

    def __init__(self, config: Config) -> None:
        listen = config.listen
        self._anything: Matcher | None = (
            Matcher.of(listen.query)
            if listen.query
            else KeywordMatcher(listen.keywords, listen.exclude)
            if listen.keywords
            else None
        )
        self._products = [(product.name, Matcher.of(product.query)) for product in listen.products]
        self._languages = frozenset(listen.languages)
        self._detects_languages = config.detects_languages
        self._router = Router(config)
        self.storm = config.storm
        self.muting = (
            Muting(config.relevance.miss_at_most, asks_llm=config.llm is not None) if config.relevance.mute else None
        )

    def find(self, item: Item, *, source: str = "", source_kind: str = "", about_us: bool = False) -> Found:
        """Which query the item matches, asked once: a poll keeps the items found and hears them with it.
        `about_us`: the source hears only the team's own product (`hears_all`), so an item is kept unmatched."""
        facts = facts_of(item, source=source, source_kind=source_kind, detect_lang=self._detects_languages)
        found = next((Found(facts, name, matcher) for name, matcher in self._products if matcher.matches(facts)), None)
        if found is None and self._anything is not None and self._anything.matches(facts):
            found = Found(facts, None, self._anything)
        if found is None and about_us:
            found = Found(facts, about_us=True)
        if found is None or not self._speaks(facts.language):
            return Found(facts)
        return found

    def _speaks(self, language: str | None) -> bool:
        """Whether `[listen] languages` lets a mention in `language` through: all do when it lists none."""
        return not self._languages or language is None or language in self._languages

    def mentions_brand(self, item: Item, *, source: str = "", source_kind: str = "") -> bool:
        return self.find(item, source=source, source_kind=source_kind).matcher is not None

    def hear(
        self,
        item: Item,
        *,
        source: str,
        source_kind: str,
        forwarded_by: str | None = None,
        require_keywords: bool = True,
        repeat_posts: int = 1,
        found: Found | None = None,
    ) -> Heard | None:
        """What to do with an item: None when it does not mention the brand (and keywords are required)."""
        found = found or self.find(item, source=source, source_kind=source_kind)
        facts, product, matcher = found.facts, found.product, found.matcher
        if require_keywords and matcher is None:
            return None
        text = facts.text
        triaged = triage(text, author_reach=item.author_reach, repeat_posts=repeat_posts, rating=item.rating)
        channel = self._router.channel_for(
            source=source, source_kind=source_kind, triaged=triaged, text=text, facts=facts, product=product
        )
        return Heard(
            item=item,
            source=source,
            source_kind=source_kind,
            polarity=triaged.polarity,
            sentiment=triaged.sentiment,
            category=triaged.category,
            urgency=triaged.urgency,
            needs_human=triaged.needs_human,
            channel=channel,
            forwarded_by=forwarded_by,
            topic=topic_of(text, category=triaged.category),
            product=product,
            matched=tuple(matcher.why(facts)) if matcher else (),
            lang=facts.language,
        )


def store(
    session: Session,
    listener: Listener,
    items: list[Item],
    *,
    source: str,
    source_kind: str,
    now: datetime,
    hears_all: bool = False,
) -> tuple[int, int]:
    """Score, route and record the items that mention the brand, in order; returns (matched, new).

    What `record` asks item by item is asked once for the whole poll (`look_ahead`), and the mentions are
    inserted in batches (`Batch`): a poll stores exactly what recording its items one by one stores.
    """
    found = [listener.find(item, source=source, source_kind=source_kind, about_us=hears_all) for item in items]
    kept = [(item, hit) for item, hit in zip(items, found, strict=True) if hit.kept]
    matching = [item for item, _ in kept]
    ahead = look_ahead(session, matching, source=source, now=now)
    posts = ahead.posts  # each author's posts within REPEAT_WINDOW, counted with the lookups
    batch = Batch(session, ahead, posts, muting=listener.muting)
    new = 0
    for item, hit in kept:
        if batch.waits_on(item):
            new += batch.store()
        repeats = 1 + (posts[item.author] if item.author else 0)
        heard = listener.hear(
            item, source=source, source_kind=source_kind, repeat_posts=repeats, require_keywords=False, found=hit
        )
        assert heard is not None
        planned = plan(session, heard, storm=listener.storm, now=now, ahead=ahead)
        if not planned.weather_known:  # the storm is asked about after the mentions before, and before the next
            new += batch.store()
        batch.add(planned)
        if not planned.weather_known:
            new += batch.store()
    new += batch.store()
    write_held(session)
    return len(matching), new


def _text(item: Item) -> str:
    return f"{item.title}\n{item.text}" if item.title and item.title not in item.text else item.text


def facts_of(item: Item, *, source: str, source_kind: str, detect_lang: bool = True) -> Facts:
    """What a query can ask of an item heard on `source`."""
    return Facts(
        _text(item),
        source=source,
        source_kind=source_kind,
        author=item.author,
        urls=(item.url, item.shared_url),
        detect_lang=detect_lang,
    )


def poll(
    engine: Engine,
    http: httpx.Client,
    listener: Listener,
    source: SourceConfig,
    *,
    now: datetime | None = None,
    force: bool = False,
) -> PollReport:
    """Poll unless the source is paused by an admin, or resting after failures or at its own request;
    `force` (an operator's `allears poll --once`) polls anyway."""
    now = now or utcnow()
    with read_scope(engine) as session:
        state = _state(session, source)
        if not force and state.paused_at:
            return PollReport(source=source.key, paused_at=state.paused_at)
        if not force and state.backoff_until and state.backoff_until > now:
            return PollReport(source=source.key, resting_until=state.backoff_until)
        remembered = PollState(etag=state.etag, last_modified=state.last_modified, cursor=dict(state.cursor))
    try:
        fetched = fetch(source, http, remembered)
    except RateLimited as error:
        log.warning("source %s: %s", source.key, error)
        return _failed(engine, source, str(error), now, wait=error.retry_after)
    except SourceError as error:
        log.warning("source %s: %s", source.key, error)
        return _failed(engine, source, str(error), now)
    except Exception as error:  # a parser bug must not leave the source failing silently
        log.exception("source %s: unexpected failure", source.key)
        return _failed(engine, source, f"unexpected {type(error).__name__}: {error}", now)

    # Sources list the newest first; cards read best in the order customers wrote them.
    items = sorted(reversed(fetched.items), key=lambda item: item.published_at or now)
    matched = new = 0
    try:
        with session_scope(engine) as session:
            matched, new = store(
                session,
                listener,
                items,
                source=source.key,
                source_kind=source.kind,
                now=now,
                hears_all=source.hears_all,
            )
            _succeeded(session, source, fetched, now)
    except Exception as error:  # nothing of this poll is kept; the cursor stays, so the next one retries
        log.exception("source %s: storing what it fetched failed", source.key)
        return _failed(engine, source, f"storing failed: {type(error).__name__}", now)
    if new:
        log.info("source %s: %d new mention(s)", source.key, new)
        prometheus.mentions_ingested.labels(source.key).inc(new)
    return PollReport(source=source.key, fetched=len(fetched.items), matched=matched, new=new, error=fetched.problem)


def backoff(every: timedelta, failures: int) -> timedelta:
    """The usual interval after one failure, then doubling, at most an hour (or the interval, if longer)."""
    return Backoff(first=every, most=max(MAX_BACKOFF, every)).after(failures)


def _rest(seconds: float) -> timedelta:
    """A rest a service asked for, within reason: a broken header must not silence a source for a year."""
    return timedelta(seconds=min(max(seconds, 0.0), MAX_REST.total_seconds())) if math.isfinite(seconds) else MAX_REST


def _succeeded(session: Session, source: SourceConfig, fetched: Fetched, now: datetime) -> None:
    state = _stored_state(session, source)
    if not fetched.not_modified:  # "304 Not Modified" leaves the last poll's figures standing
        state.etag, state.last_modified = fetched.etag, fetched.last_modified
        state.items_seen = len(fetched.items)
    if fetched.cursor is not None:
        state.cursor = fetched.cursor
    state.last_success_at, state.last_poll_at, state.consecutive_failures = now, now, 0
    state.backoff_until = now + _rest(fetched.wait) if fetched.wait else None
    if fetched.problem:
        state.last_error, state.last_error_at = fetched.problem[:2000], now
    session.add(state)


def _failed(
    engine: Engine, source: SourceConfig, problem: str, now: datetime, *, wait: float | None = None
) -> PollReport:
    prometheus.source_errors.labels(source.key).inc()
    with session_scope(engine) as session:
        state = _stored_state(session, source)
        state.last_error, state.last_error_at, state.last_poll_at = problem[:2000], now, now
        state.consecutive_failures += 1
        rest = _rest(wait) if wait is not None else backoff(source.every, state.consecutive_failures)
        state.backoff_until = now + rest
        session.add(state)
    return PollReport(source=source.key, error=problem)


def _state(session: Session, source: SourceConfig) -> SourceState:
    return session.get(SourceState, source.key) or SourceState(source=source.key)


def _stored_state(session: Session, source: SourceConfig) -> SourceState:
    """The source's row to update, created if new: two workers meeting a new source settle on one row."""
    session.execute(insert_unless_present(session, SourceState, ["source"], source=source.key, cursor={}))
    state = session.get(SourceState, source.key)
    assert state is not None
    return state
