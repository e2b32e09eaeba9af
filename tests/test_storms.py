"""Storms: a burst about one thing becomes one card with the mentions in its thread, paced for Slack."""

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from sqlmodel import func, select

from bot.act import actions
from bot.app.standin.slack import BOT_TOKEN, FakeSlack
from bot.ground.config import StormRule
from bot.ground.db import session_scope
from bot.ground.models import Mention, Outbox, OutboxStatus, Storm
from bot.hear.batches import record
from bot.slack.delivery import Deliverer
from tests.factories import heard

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
RULE = StormRule(threshold=10, window=timedelta(minutes=15))


def outage_report(n: int, *, source: str = "reddit", channel: str = "C0URGENT"):
    report = heard(f"Acme is down again, report {n}", external_id=f"{source}-{n}", source=source, channel=channel)
    return replace(report, topic="down")


def ingest(engine, reports, *, start=T0, spread=timedelta(minutes=1)):
    step = spread / max(1, len(reports))
    for n, report in enumerate(reports):
        with session_scope(engine) as session:
            record(session, report, storm=RULE, now=start + n * step)


def drain(engine, slack: FakeSlack, *, post_interval: float, within: float = 60.0) -> Deliverer:
    """Deliver until nothing waits: a 429 rests its channel for a second, which the pump would come back after."""
    deliverer = Deliverer(
        engine, WebClient(token=BOT_TOKEN, base_url=slack.api_url, timeout=5), post_interval=post_interval
    )
    deadline = time.monotonic() + within
    while deliverer.deliver_due(limit=5000) or _undelivered(engine):
        assert time.monotonic() < deadline, "the outbox did not drain"
        time.sleep(0.02)
    return deliverer


def _undelivered(engine) -> int:
    with session_scope(engine) as session:
        waiting = [OutboxStatus.PENDING, OutboxStatus.SENDING]
        return session.exec(select(func.count()).select_from(Outbox).where(Outbox.status.in_(waiting))).one()


def test_the_eleventh_mention_about_an_outage_starts_a_storm_and_later_ones_thread_under_it(sqlite_engine, fake_slack):
    sources = ["reddit", "bluesky", "hackernews"]
    ingest(sqlite_engine, [outage_report(n, source=sources[n % 3]) for n in range(15)])
    drain(sqlite_engine, fake_slack, post_interval=0)

    top = fake_slack.cards("C0URGENT")
    assert len(top) == 11, "ten cards, then one storm card"
    storm_card = top[-1]
    assert "15 mentions about “down”" in storm_card.all_text()
    assert "reddit 5" in storm_card.all_text() and "bluesky 5" in storm_card.all_text()
    thread = fake_slack.thread("C0URGENT", storm_card.ts)
    assert len(thread) == 5 and all("Claim" in m.all_text() for m in thread)
    with session_scope(sqlite_engine) as session:
        mentions = session.exec(select(Mention).order_by(Mention.id)).all()
        [storm] = session.exec(select(Storm)).all()
    assert [m.storm_id for m in mentions] == [None] * 10 + [storm.id] * 5
    assert all(m.card_ts for m in mentions), "every mention has its own message, claimable on its own"


def test_other_topics_and_channels_are_not_swept_into_the_storm(sqlite_engine, fake_slack):
    ingest(sqlite_engine, [outage_report(n) for n in range(9)])
    ingest(sqlite_engine, [outage_report(n, source="bluesky", channel="C0LISTEN") for n in range(5)])
    with session_scope(sqlite_engine) as session:
        record(session, heard("How do I export from Acme?", external_id="q", channel="C0URGENT"), storm=RULE, now=T0)
        assert session.exec(select(Storm)).all() == []


def test_a_thousand_mentions_in_a_minute_make_a_handful_of_messages_and_lose_none(sqlite_engine):
    slack = FakeSlack(channels={"C0URGENT"}, post_interval=0.01).start()
    try:
        ingest(
            sqlite_engine, [outage_report(n, source=("reddit", "bluesky", "hackernews")[n % 3]) for n in range(1000)]
        )
        drain(sqlite_engine, slack, post_interval=0.012)

        assert len(slack.cards("C0URGENT")) == 11
        storm_card = slack.cards("C0URGENT")[-1]
        assert len(slack.thread("C0URGENT", storm_card.ts)) == 990
        assert "1000 mentions about “down”" in storm_card.all_text()
        refused = [call for call in slack.calls_to("chat.postMessage") if call.status == 429]
        assert len(slack.calls_to("chat.postMessage")) - len(refused) == 1001, "every 429 was retried, nothing twice"
        with session_scope(sqlite_engine) as session:
            assert session.exec(select(Mention).where(Mention.card_ts.is_(None))).all() == []
    finally:
        slack.stop()


def test_when_slack_refuses_the_storm_card_its_mentions_are_posted_as_cards_of_their_own(sqlite_engine, fake_slack):
    ingest(sqlite_engine, [outage_report(n) for n in range(10)])
    drain(sqlite_engine, fake_slack, post_interval=0)
    fake_slack.fail("chat.postMessage", status=200, error="invalid_blocks", times=1)  # the storm card
    ingest(sqlite_engine, [outage_report(n) for n in range(10, 13)], start=T0 + timedelta(minutes=2))
    drain(sqlite_engine, fake_slack, post_interval=0)

    assert len(fake_slack.cards("C0URGENT")) == 13, "nothing waits for a storm card that will never come"
    with session_scope(sqlite_engine) as session:
        assert session.exec(select(Mention).where(Mention.card_ts.is_(None))).all() == []

    with session_scope(sqlite_engine) as session:
        actions.reply(session, mention_id=13, user_id="U_ANA", text="On it")
    drain(sqlite_engine, fake_slack, post_interval=0)
    own_card = fake_slack.cards("C0URGENT")[-1]
    assert "On it" in fake_slack.thread("C0URGENT", own_card.ts)[0].text, "its notes go under its own card"


def test_old_posts_from_a_sources_first_poll_do_not_make_a_storm(sqlite_engine):
    backlog = [
        replace(report, item=replace(report.item, published_at=T0 - timedelta(days=3)))
        for report in (outage_report(n) for n in range(30))
    ]
    ingest(sqlite_engine, backlog)
    with session_scope(sqlite_engine) as session:
        assert session.exec(select(Storm)).all() == []
