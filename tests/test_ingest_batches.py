"""A poll stores its items with lookups asked once for the whole poll (`bot.hear.polling.store`); what it
stores must be exactly what recording the items one by one, each asking for itself, stores."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select, update

from bot.ground import migrate
from bot.ground.config import Config
from bot.ground.db import make_engine, session_scope
from bot.ground.models import Event, Mention, MentionStatus, Outbox, OutboxKind, Storm
from bot.hear.batches import record
from bot.hear.polling import REPEAT_WINDOW, Listener, store
from bot.hear.recording import posts_by
from bot.hear.sources import Item
from bot.hear.triage import triage
from tests.factories import heard

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
LISTENER = Listener(Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}}))
SHARED = "https://example.com/shared-page"


def earlier_posts(engine: Engine) -> None:
    """What other polls stored before: a post another source heard, a resolved conversation, a known item."""
    with session_scope(engine) as session:
        record(session, heard("Acme at the shared page", external_id="r-1", source="reviews", url=SHARED), now=T0)
        erin = replace(heard("Acme billing is broken", external_id="e-1", source="hn", author="Erin"), topic="billing")
        resolved = record(session, erin, now=T0)
        session.execute(update(Mention).where(Mention.id == resolved).values(status=MentionStatus.RESOLVED))
        record(session, heard("Acme, known already", external_id="dup", source="hn", author="Gus"), now=T0)


def poll_items(published_at: datetime | None = None) -> list[Item]:
    def item(external_id: str, text: str, **fields: object) -> Item:
        fields.setdefault("url", f"https://news.example.com/item/{external_id}")
        return Item(external_id=external_id, text=text, published_at=published_at, **fields)  # type: ignore[arg-type]

    return [
        item("s-1", "Acme billing charged me twice", author="Dana"),
        item("s-2", "Acme still charging me, refund please", author="Dana", thread="s-1"),  # continues s-1
        item("s-3", "Acme is great", author="Fay", url=SHARED),  # the post the reviews feed heard
        item("e-2", "Acme billing is wrong again", author="Erin"),  # reopens Erin's resolved mention
        item("dup", "Acme, known already", author="Gus"),
        item("n-1", "Acme, by nobody in particular"),
        item("x-1", "nothing about the brand", author="Hal"),
        item("s-4", "Acme billing: third time", author="Dana"),
        item("i-1", "Does Acme ship to Canada?", author="Ivy"),
        item("i-2", "Does Acme ship to Mexico?", author="Ivy"),  # her second post: louder
    ]


def one_by_one(engine: Engine, items: list[Item], *, now: datetime = T0) -> None:
    with session_scope(engine) as session:
        for item in items:
            if not LISTENER.mentions_brand(item):
                continue
            repeats = 1 + posts_by(session, source="hn", author=item.author, since=now - REPEAT_WINDOW)
            found = LISTENER.hear(item, source="hn", source_kind="hackernews", repeat_posts=repeats)
            assert found is not None
            record(session, found, storm=LISTENER.storm, now=now)


def stored(engine: Engine) -> tuple[list[tuple], ...]:
    with session_scope(engine) as session:
        mentions = [tuple(row) for row in session.execute(select(*Mention.__table__.c).order_by(Mention.id))]
        events = session.execute(select(Event.mention_id, Event.kind, Event.data).order_by(Event.id)).all()
        columns = (Outbox.kind, Outbox.mention_id, Outbox.event_id, Outbox.channel, Outbox.status)
        outbox = session.execute(select(*columns).order_by(Outbox.id)).all()
        storms = session.execute(select(*Storm.__table__.c).order_by(Storm.id)).all()
    return mentions, [tuple(row) for row in events], [tuple(row) for row in outbox], [tuple(row) for row in storms]


@contextmanager
def reference_database(engine: Engine, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A second database of the same kind: PostgreSQL spends an id on an insert that finds its row present."""
    if engine.dialect.name == "postgresql":
        reference = make_engine(request.getfixturevalue("own_postgres_url"))
    else:
        reference = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    migrate.upgrade(reference)
    try:
        yield reference
    finally:
        reference.dispose()


# Fresh posts each ask about storms on their topic; a first poll's old ones do not, so they are stored in batches.
@pytest.mark.parametrize("published_at", [None, T0 - timedelta(days=2)], ids=["fresh", "old"])
def test_a_poll_stores_what_recording_each_item_alone_stores(
    engine, request: pytest.FixtureRequest, tmp_path: Path, published_at: datetime | None
):
    with reference_database(engine, request, tmp_path) as reference:
        earlier_posts(reference)
        one_by_one(reference, poll_items(published_at))
        earlier_posts(engine)
        with session_scope(engine) as session:
            polled = poll_items(published_at)
            matched, new = store(session, LISTENER, polled, source="hn", source_kind="hackernews", now=T0)
        assert (matched, new) == (9, 8)
        assert stored(engine) == stored(reference)

    mentions = {row.external_id: row for row in _mentions(engine)}
    assert mentions["s-2"].status == MentionStatus.JOINED and mentions["s-2"].duplicate_of == mentions["s-1"].id
    assert mentions["s-3"].duplicate_of == mentions["r-1"].id
    assert mentions["e-1"].status == MentionStatus.OPEN  # reopened by e-2
    third = "Acme billing: third time"  # Dana's third post in the poll is louder
    assert mentions["s-4"].urgency == triage(third, repeat_posts=3).urgency != triage(third).urgency
    second = "Does Acme ship to Mexico?"
    assert mentions["i-2"].urgency == triage(second, repeat_posts=2).urgency != triage(second).urgency


def _mentions(engine: Engine) -> list[Mention]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Mention)))


def test_looking_up_the_post_heard_first_uses_the_address_index(sqlite_engine):
    lookups = []

    @event.listens_for(sqlite_engine, "before_cursor_execute")
    def remember(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "WHERE mention.canonical_url" in statement:
            lookups.append((statement, parameters))

    with session_scope(sqlite_engine) as session:
        for n in range(3):
            record(session, heard("Acme is down", external_id=f"a-{n}", source="status"), now=T0)
        store(session, LISTENER, poll_items(), source="hn", source_kind="hackernews", now=T0)
    event.remove(sqlite_engine, "before_cursor_execute", remember)

    assert len(lookups) == 4, "one for each post recorded alone, one for the whole poll"
    with sqlite_engine.connect() as connection:
        for statement, parameters in lookups:
            plan = " ".join(
                row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            )
            assert "USING INDEX ix_mention_canonical_url" in plan, plan


NOW = T0 + timedelta(hours=1)
FRESH, OLD = NOW - timedelta(minutes=1), NOW - timedelta(days=2)


def stormy_earlier(engine: Engine) -> None:
    """Two storms blowing before the poll: one whose count update is queued already, one whose is not."""
    with session_scope(engine) as session:
        for n in range(12):
            said = replace(heard("Acme login fails", external_id=f"l-{n}", source="status"), topic="login")
            record(session, replace(said, item=replace(said.item, published_at=FRESH)), storm=LISTENER.storm, now=NOW)
        for n in range(11):
            said = replace(heard("Acme outage", external_id=f"o-{n}", source="status"), topic="outage")
            record(session, replace(said, item=replace(said.item, published_at=FRESH)), storm=LISTENER.storm, now=NOW)


def stormy_poll() -> list[Item]:
    """More posts on both storms, and a burst on a new topic that tips into a storm midway, with old posts on
    the same topic among them (they count, but make no weather) and one post heard twice."""
    items = [Item(external_id=f"pl-{n}", text=f"Acme login fails {n}", published_at=FRESH) for n in range(3)]
    items += [Item(external_id=f"po-{n}", text=f"Acme outage {n}", published_at=FRESH) for n in range(3)]
    for n in range(14):
        items.append(Item(external_id=f"pd-{n}", text=f"Acme is down {n}", author=f"user {n}", published_at=FRESH))
        if n in (2, 6):
            items.append(Item(external_id=f"old-{n}", text=f"Acme was down {n}", published_at=OLD))
    items.append(Item(external_id="pd-3", text="Acme is down 3", author="user 3", published_at=FRESH))
    return items


def test_a_poll_weathers_storms_as_recording_each_item_alone_does(
    engine, request: pytest.FixtureRequest, tmp_path: Path
):
    with reference_database(engine, request, tmp_path) as reference:
        stormy_earlier(reference)
        one_by_one(reference, stormy_poll(), now=NOW)
        stormy_earlier(engine)
        with session_scope(engine) as session:
            matched, new = store(session, LISTENER, stormy_poll(), source="hn", source_kind="hackernews", now=NOW)
        assert (matched, new) == (23, 22)
        assert stored(engine) == stored(reference)

    with session_scope(engine) as session:
        storms = {storm.topic: storm for storm in session.scalars(select(Storm))}
        kinds = [row.kind for row in session.scalars(select(Outbox).order_by(Outbox.id))]
    assert set(storms) == {"login", "outage", "down"}, "the burst tipped into a storm of its own"
    assert kinds.count(OutboxKind.STORM_CARD) == 3 and kinds.count(OutboxKind.STORM_REFRESH) == 3
