"""Mention references are handed out without gaps, on SQLite and on PostgreSQL: people read a skipped M-12 as a
mention that was lost."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.ground.config import Config
from bot.ground.db import session_scope
from bot.ground.models import Mention
from bot.hear.polling import Listener, store
from bot.hear.sources import Item
from tests.factories import store_mention

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
LISTENER = Listener(Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}}))


def _poll(engine, external_ids: list[str]) -> int:
    items = [Item(external_id=i, text=f"Acme post {i}", url=f"https://example.com/{i}") for i in external_ids]
    with session_scope(engine) as session:
        _, new = store(session, LISTENER, items, source="feed", source_kind="rss", now=T0)
    return new


def _references(engine) -> list[int]:
    with session_scope(engine) as session:
        return list(session.exec(select(Mention.id).order_by(Mention.id)))  # type: ignore[arg-type]


def test_a_source_polled_again_and_again_numbers_its_new_mentions_one_after_another(engine):
    assert _poll(engine, [f"post-{n}" for n in range(12)]) == 12
    assert _poll(engine, [f"post-{n}" for n in range(12)]) == 0, "nothing new"
    assert _poll(engine, [f"post-{n}" for n in range(13)]) == 1, "one new post, under eleven it has seen"
    assert _poll(engine, [f"post-{n}" for n in range(14)]) == 1

    assert _references(engine) == list(range(1, 15)), "M-13 and M-14 follow M-12"


def test_new_posts_between_ones_already_heard_are_numbered_in_the_order_they_came(engine):
    _poll(engine, ["post-1", "post-2"])
    assert _poll(engine, ["new-a", "post-1", "new-b", "post-2", "new-c"]) == 3

    with session_scope(engine) as session:
        numbered = dict(session.exec(select(Mention.external_id, Mention.id)).all())  # type: ignore[call-overload]
    assert numbered == {"post-1": 1, "post-2": 2, "new-a": 3, "new-b": 4, "new-c": 5}


def test_a_poll_that_fails_after_storing_its_mentions_leaves_no_gap(engine):
    _poll(engine, ["post-1"])
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        store(
            session, LISTENER, [Item(external_id="post-2", text="Acme again")], source="feed", source_kind="rss", now=T0
        )
        raise RuntimeError("the poll's transaction rolls back")
    _poll(engine, ["post-2"])

    assert _references(engine) == [1, 2]


def test_mentions_from_every_way_in_share_one_sequence(engine):
    _poll(engine, ["post-1", "post-2"])
    assert store_mention(engine, external_id="webhook-1", source="zendesk") == 3
    _poll(engine, ["post-1", "post-2", "post-3"])
    assert store_mention(engine, external_id="webhook-1", source="zendesk-again") == 5
    assert _references(engine) == [1, 2, 3, 4, 5]


def test_a_row_added_by_hand_after_a_poll_takes_the_next_number_and_the_next_poll_follows_it(engine):
    _poll(engine, ["post-1", "post-2"])
    with session_scope(engine) as session:
        by_hand = Mention(
            source="import",
            source_kind="webhook",
            external_id="old-1",
            text="Acme",
            polarity=0.0,
            sentiment="neutral",
            channel="C0LISTEN",
        )
        session.add(by_hand)
        session.flush()
        assert by_hand.id == 3
    _poll(engine, ["post-3"])

    assert _references(engine) == [1, 2, 3, 4]
