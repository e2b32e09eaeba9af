"""Delivering the outbox to the fake Slack, in process, on SQLite and PostgreSQL: stored first,
posted exactly once, in order, through rate limits, outages and crashes."""

import threading
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import select

from bot import actions
from bot.clock import utcnow
from bot.db import session_scope
from bot.models import Mention, Outbox, OutboxKind, OutboxStatus, Outcome
from bot.slack.delivery import Deliverer
from tests.factories import store_mention
from tests.fakeslack import BOT_TOKEN


def deliverer(engine, fake_slack) -> Deliverer:
    return Deliverer(engine, WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url, timeout=5))


def rows(engine, kind=None):
    with session_scope(engine) as session:
        statement = select(Outbox).order_by(Outbox.id)
        if kind:
            statement = statement.where(Outbox.kind == kind)
        return list(session.exec(statement))


def time_passes(engine):
    """Every waiting row becomes due, as if its backoff had elapsed."""
    with session_scope(engine) as session:
        session.execute(update(Outbox).values(not_before=utcnow() - timedelta(seconds=1)))


def test_a_card_waits_out_a_slack_outage_and_is_posted_once(engine, fake_slack):
    store_mention(engine)
    fake_slack.fail("chat.postMessage", status=500, times=2)
    bot = deliverer(engine, fake_slack)

    assert bot.deliver_due() == 0
    [card] = rows(engine)
    assert (card.status, card.attempts, card.last_error) == (OutboxStatus.PENDING, 1, "500 internal_error")
    assert card.not_before > utcnow(), "it waits before trying again"

    time_passes(engine)
    assert bot.deliver_due() == 0
    assert rows(engine)[0].attempts == 2
    time_passes(engine)
    assert bot.deliver_due() == 1
    assert len(fake_slack.cards("C0LISTEN")) == 1
    time_passes(engine)
    assert bot.deliver_due() == 0 and len(fake_slack.cards()) == 1
    with session_scope(engine) as session:
        mention = session.exec(select(Mention)).one()
    assert mention.card_ts == fake_slack.cards()[0].ts


def test_a_rate_limit_pauses_delivery_for_retry_after_without_counting_an_attempt(engine, fake_slack):
    store_mention(engine, external_id="a")
    store_mention(engine, external_id="b")
    fake_slack.fail("chat.postMessage", status=429, times=1, retry_after=7)
    bot = deliverer(engine, fake_slack)

    assert bot.deliver_due() == 0
    first, second = rows(engine)
    assert first.attempts == 0 and first.last_error == "ratelimited"
    assert timedelta(seconds=6) < first.not_before - utcnow() <= timedelta(seconds=7)
    assert second.status == OutboxStatus.PENDING and second.attempts == 0, "the pause holds back the other rows too"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_thread_note_waits_for_its_card_and_lands_under_it(engine, fake_slack):
    mention_id = store_mention(engine)
    with session_scope(engine) as session:
        actions.reply(session, mention_id=mention_id, user_id="U_ANA", text="We're on it")
    fake_slack.fail("chat.postMessage", status=503, times=1)
    bot = deliverer(engine, fake_slack)

    bot.deliver_due()
    note = rows(engine, OutboxKind.THREAD_NOTE)[0]
    assert note.status == OutboxStatus.PENDING and note.attempts == 0 and "not posted yet" in note.last_error

    time_passes(engine)
    bot.deliver_due()
    time_passes(engine)
    bot.deliver_due()
    [card] = fake_slack.cards()
    [reply] = fake_slack.thread("C0LISTEN", card.ts)
    assert "We're on it" in reply.text
    assert "Claimed by <@U_ANA>" in card.all_text(), "the refresh after posting shows the reply's claim"


def test_a_payload_slack_can_never_accept_fails_and_takes_its_thread_notes_with_it(engine, fake_slack):
    mention_id = store_mention(engine)
    with session_scope(engine) as session:
        actions.resolve(session, mention_id=mention_id, user_id="U_ANA", outcome=Outcome.SPAM)
    fake_slack.fail("chat.postMessage", status=200, error="invalid_blocks", times=1)
    bot = deliverer(engine, fake_slack)

    bot.deliver_due()
    time_passes(engine)
    bot.deliver_due()
    statuses = {row.kind: (row.status, row.last_error) for row in rows(engine)}
    assert statuses[OutboxKind.CARD] == (OutboxStatus.FAILED, "invalid_blocks")
    assert statuses[OutboxKind.THREAD_NOTE][0] == OutboxStatus.FAILED
    assert statuses[OutboxKind.CARD_REFRESH][0] == OutboxStatus.FAILED
    assert fake_slack.cards() == []


def test_a_channel_the_bot_cannot_reach_is_retried_not_dropped(engine, fake_slack):
    store_mention(engine, channel="C0NOTYET")
    bot = deliverer(engine, fake_slack)
    bot.deliver_due()
    [card] = rows(engine)
    assert card.status == OutboxStatus.PENDING and "channel_not_found" in card.last_error


def test_after_a_crash_mid_send_an_expired_lease_is_retried_and_a_posted_card_is_not_reposted(engine, fake_slack):
    first = store_mention(engine, external_id="a")
    store_mention(engine, external_id="b")
    bot = deliverer(engine, fake_slack)
    assert bot.deliver_due() == 2
    # A worker died after Slack accepted card "a" but before it recorded so, and another died
    # holding a lease on a refresh of "a".
    with session_scope(engine) as session:
        session.execute(update(Outbox).where(Outbox.mention_id == first).values(status=OutboxStatus.SENDING))
        session.execute(update(Outbox).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert bot.deliver_due() == 0
    assert [row.status for row in rows(engine)] == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert len(fake_slack.cards()) == 2


def test_two_deliverers_draining_one_outbox_post_every_card_once(engine, fake_slack):
    for n in range(30):
        store_mention(engine, external_id=f"item-{n}")
    workers = [deliverer(engine, fake_slack) for _ in range(2)]
    start = threading.Barrier(2)

    def drain(worker: Deliverer) -> None:
        start.wait()
        worker.deliver_due()

    threads = [threading.Thread(target=drain, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posted = sorted(card.metadata["event_payload"]["mention_id"] for card in fake_slack.cards())
    assert posted == list(range(1, 31))
