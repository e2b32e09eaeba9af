"""Delivering the outbox to the fake Slack, in process, on SQLite and PostgreSQL: stored first,
posted exactly once, in order, through rate limits, outages and crashes."""

import ssl
import threading
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import Session, select

from bot.act import actions
from bot.app.standin.slack import BOT_TOKEN, BOT_USER_ID, FakeSlack
from bot.ground import outbox
from bot.ground.clock import utcnow
from bot.ground.config import Team
from bot.ground.db import session_scope
from bot.ground.models import Mention, Outbox, OutboxKind, OutboxStatus, Outcome
from bot.ground.settings import Settings
from bot.slack.client import slack_client
from bot.slack.delivery import Deliverer
from tests.factories import store_mention

SUPPORT = Team(channel="C0SUPPORT", usergroup="S0SUPPORT")


def deliverer(engine, fake_slack) -> Deliverer:
    """The Web API client the bot uses, as `allears run` builds it."""
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=fake_slack.api_url)
    return Deliverer(engine, slack_client(settings), post_interval=0)


def test_every_slack_client_of_a_process_shares_one_tls_context_that_checks_slacks_certificate():
    settings = Settings(slack_bot_token=BOT_TOKEN)
    first, second = slack_client(settings), slack_client(settings)

    assert first.ssl is second.ssl, "made once, not for each call's connection"
    assert first.ssl.verify_mode is ssl.CERT_REQUIRED and first.ssl.check_hostname


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
    assert (note.status, note.attempts) == (OutboxStatus.PENDING, 0), "not even tried before its card"

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


def test_a_note_whose_card_was_deleted_in_slack_is_given_up_and_holds_nothing_back(engine, fake_slack):
    """Someone deleted the card in Slack: its thread is gone for good, so a note for it fails at once
    instead of retrying forever, and the mention's later messages still go out."""
    mention_id = store_mention(engine)
    bot = deliverer(engine, fake_slack)
    bot.deliver_due()
    with session_scope(engine) as session:
        actions.reply(session, mention_id=mention_id, user_id="U_ANA", text="We're on it")
    fake_slack.fail("chat.postMessage", status=200, error="thread_not_found", times=1)

    bot.deliver_due()
    note = rows(engine, OutboxKind.THREAD_NOTE)[0]
    assert (note.status, note.last_error) == (OutboxStatus.FAILED, "thread_not_found")
    assert "Claimed by <@U_ANA>" in fake_slack.cards()[0].all_text(), "the card's refresh still went out"


def test_a_channel_the_bot_cannot_reach_is_retried_not_dropped(engine, fake_slack):
    store_mention(engine, channel="C0NOTYET")
    bot = deliverer(engine, fake_slack)
    bot.deliver_due()
    [card] = rows(engine)
    assert card.status == OutboxStatus.PENDING and "channel_not_found" in card.last_error


def test_a_row_whose_sender_died_is_retried_once_its_lease_runs_out(engine, fake_slack):
    store_mention(engine)
    with session_scope(engine) as session:
        leased = outbox.lease_next(session)  # a worker took the card, then died before sending it
    bot = deliverer(engine, fake_slack)
    assert bot.deliver_due() == 0, "the lease still holds"

    with session_scope(engine) as session:
        session.execute(update(Outbox).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert bot.deliver_due() == 1
    assert len(fake_slack.cards()) == 1
    with session_scope(engine) as session:
        assert not outbox.mark_sent(session, leased), "the dead worker's lease no longer settles anything"
    assert rows(engine)[0].attempts == 2


def test_a_card_already_posted_is_not_posted_again(engine, fake_slack):
    mention_id = store_mention(engine)
    with session_scope(engine) as session:
        session.execute(update(Mention).where(Mention.id == mention_id).values(card_channel="C0LISTEN", card_ts="1.1"))
    assert deliverer(engine, fake_slack).deliver_due() == 0
    assert fake_slack.cards() == [] and rows(engine)[0].status == OutboxStatus.SENT


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


def test_with_two_deliverers_a_mentions_messages_still_land_in_the_order_they_happened(engine, fake_slack):
    mention_id = store_mention(engine)
    steps = [
        lambda s: actions.reply(s, mention_id=mention_id, user_id="U_ANA", text="first"),
        lambda s: actions.escalate(s, mention_id=mention_id, user_id="U_ANA", team_name="support", team=SUPPORT),
        lambda s: actions.resolve(s, mention_id=mention_id, user_id="U_ANA", outcome=Outcome.ANSWERED),
        lambda s: actions.reopen(s, mention_id=mention_id, user_id="U_BEN"),
        lambda s: actions.resolve(s, mention_id=mention_id, user_id="U_BEN", outcome=Outcome.FIXED),
    ]
    for step in steps:
        with session_scope(engine) as session:
            step(session)
    workers = [deliverer(engine, fake_slack) for _ in range(2)]
    start = threading.Barrier(2)

    def drain(worker: Deliverer) -> None:
        start.wait()
        while worker.deliver_due():
            pass

    threads = [threading.Thread(target=drain, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time_passes(engine)
    for worker in workers:
        worker.deliver_due()

    [card] = fake_slack.cards("C0LISTEN")
    notes = [note.text.split()[0] for note in fake_slack.thread("C0LISTEN", card.ts)]
    assert notes == [
        ":speech_balloon:",
        ":rotating_light:",
        ":white_check_mark:",
        ":arrows_counterclockwise:",
        ":white_check_mark:",
    ]
    assert "Resolved *fixed* by <@U_BEN>" in card.all_text()
    updates = [call.args["blocks"] for call in fake_slack.calls_to("chat.update")]
    assert "Resolved *fixed*" in str(updates[-1])


def test_a_change_committed_while_its_card_is_being_refreshed_is_shown_too(postgres_engine, fake_slack):
    """PostgreSQL lets the deliverer read while Ana's resolve is uncommitted; her change must still reach the card."""
    engine = postgres_engine
    mention_id = store_mention(engine)
    bot = deliverer(engine, fake_slack)
    bot.deliver_due()
    with session_scope(engine) as session:
        actions.claim(session, mention_id=mention_id, user_id="U_ANA")

    resolving = Session(engine, expire_on_commit=False)
    actions.resolve(resolving, mention_id=mention_id, user_id="U_ANA", outcome=Outcome.FIXED)
    bot.deliver_due()  # renders the claim: the resolve is not committed yet
    resolving.commit()
    resolving.close()
    bot.deliver_due()

    [card] = fake_slack.cards()
    assert "Resolved *fixed*" in card.all_text()
    assert [b["text"]["text"] for b in card.blocks[-1]["elements"]] == ["Reopen"]


def test_feedback_is_passed_to_the_product_channel(engine, fake_slack):
    mention_id = store_mention(engine, text="Acme should let me export to CSV")
    with session_scope(engine) as session:
        actions.resolve(
            session,
            mention_id=mention_id,
            user_id="U_ANA",
            outcome=Outcome.FEEDBACK,
            note="Third request this month",
            feedback_channel="C0PRODUCT",
        )
    deliverer(engine, fake_slack).deliver_due()
    [passed_on] = fake_slack.cards("C0PRODUCT")
    assert "Customer feedback from <@U_ANA>" in passed_on.all_text()
    assert "export to CSV" in passed_on.all_text() and "Third request this month" in passed_on.all_text()


def test_a_team_alert_that_never_posted_does_not_keep_its_refresh_spinning(engine, fake_slack):
    mention_id = store_mention(engine)
    with session_scope(engine) as session:
        escalation = actions.escalate(
            session, mention_id=mention_id, user_id="U_ANA", team_name="support", team=SUPPORT
        )
        actions.acknowledge(session, escalation_id=escalation.id, user_id="U_CARL")
    fake_slack.fail("chat.postMessage", status=200, error="invalid_blocks", times=10)
    bot = deliverer(engine, fake_slack)
    for _ in range(5):
        bot.deliver_due()
        time_passes(engine)
    assert {row.status for row in rows(engine)} == {OutboxStatus.FAILED}


def test_new_messages_to_one_channel_are_paced_while_another_channel_goes_first(sqlite_engine):
    slack = FakeSlack(channels={"C0LISTEN", "C0SUPPORT"}, post_interval=0.2).start()
    try:
        for n in range(3):
            store_mention(sqlite_engine, external_id=f"busy-{n}")
        store_mention(sqlite_engine, external_id="quiet", channel="C0SUPPORT")
        Deliverer(
            sqlite_engine, WebClient(token=BOT_TOKEN, base_url=slack.api_url, timeout=5), post_interval=0.25
        ).deliver_due()
        posts = slack.calls_to("chat.postMessage")
        assert [call.status for call in posts] == [200] * 4, "never faster than Slack allows"
        assert [call.args["channel"] for call in posts] == ["C0LISTEN", "C0SUPPORT", "C0LISTEN", "C0LISTEN"]
        gaps = [b.at - a.at for a, b in zip(posts[2:], posts[3:], strict=False)]
        assert all(gap >= 0.2 for gap in gaps)
    finally:
        slack.stop()


def test_a_card_slack_took_but_never_answered_for_is_found_not_posted_twice(engine, fake_slack):
    mention_id = store_mention(engine)
    fake_slack.accept_then_drop("chat.postMessage")
    bot = deliverer(engine, fake_slack)

    assert bot.deliver_due() == 0, "the answer was lost: as far as the bot knows, nothing was posted"
    [card] = fake_slack.cards()
    assert card.metadata == {"event_type": "allears_outbox", "event_payload": {"outbox_id": 1, "mention_id": 1}}
    time_passes(engine)
    bot.deliver_due()

    assert fake_slack.cards() == [card] and len(fake_slack.calls_to("chat.postMessage")) == 1
    assert [call.args["include_all_metadata"] for call in fake_slack.calls_to("conversations.history")] == ["1"]
    assert rows(engine, OutboxKind.CARD)[0].status == OutboxStatus.SENT
    with session_scope(engine) as session:
        actions.claim(session, mention_id=mention_id, user_id="U_ANA")
    bot.deliver_due()
    assert "Claimed by <@U_ANA>" in card.all_text(), "the mention points at the card Slack already had"


def test_a_thread_note_whose_answer_was_lost_is_looked_for_in_its_thread(engine, fake_slack):
    mention_id = store_mention(engine)
    bot = deliverer(engine, fake_slack)
    bot.deliver_due()
    with session_scope(engine) as session:
        actions.reply(session, mention_id=mention_id, user_id="U_ANA", text="We're on it")
    fake_slack.accept_then_drop("chat.postMessage")
    bot.deliver_due()
    time_passes(engine)
    bot.deliver_due()

    [card] = fake_slack.cards()
    [note] = fake_slack.thread("C0LISTEN", card.ts)
    assert "We're on it" in note.text
    assert [call.args["ts"] for call in fake_slack.calls_to("conversations.replies")] == [card.ts]
    assert {row.status for row in rows(engine)} == {OutboxStatus.SENT}


def test_the_look_finds_a_card_under_a_busy_channels_later_messages(engine, fake_slack):
    store_mention(engine)
    fake_slack.accept_then_drop("chat.postMessage")
    bot = deliverer(engine, fake_slack)
    bot.deliver_due()
    chatter = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
    for n in range(230):  # more than one page of history came after it
        chatter.chat_postMessage(channel="C0LISTEN", text=f"chatter {n}")
    time_passes(engine)
    bot.deliver_due()

    assert len(fake_slack.calls_to("conversations.history")) == 2
    assert [m for m in fake_slack.cards() if m.metadata] and len(fake_slack.calls_to("chat.postMessage")) == 231


def test_only_a_post_that_may_have_reached_slack_costs_a_look(engine, fake_slack):
    store_mention(engine, external_id="a")
    store_mention(engine, external_id="b")
    fake_slack.fail("chat.postMessage", status=429, times=1, retry_after=1)
    deliverer(engine, fake_slack).deliver_due()
    time_passes(engine)
    deliverer(engine, fake_slack).deliver_due()  # another process: this one holds the channel for Retry-After

    assert len(fake_slack.cards()) == 2, "a rate limit refused the post: no attempt was made"
    assert fake_slack.calls_to("conversations.history") == []


def test_without_the_history_scope_a_retried_card_is_posted_anyway_and_said_so(engine, fake_slack, caplog):
    store_mention(engine)
    fake_slack.fail("chat.postMessage", status=500, times=1)
    fake_slack.fail("conversations.history", status=200, error="missing_scope", times=1)
    bot = deliverer(engine, fake_slack)
    bot.deliver_due()
    time_passes(engine)
    bot.deliver_due()

    assert len(fake_slack.cards()) == 1
    assert "cannot look for an earlier copy (missing_scope)" in caplog.text


def test_in_a_public_channel_the_bot_is_not_in_a_retried_card_is_posted_anyway(engine, fake_slack, caplog):
    """`chat:write.public` posts there, but a bot reads only the history of channels it was invited to."""
    fake_slack.set_channels(BOT_USER_ID, "C0SUPPORT")
    store_mention(engine)
    fake_slack.fail("chat.postMessage", status=500, times=1)
    bot = deliverer(engine, fake_slack)
    bot.deliver_due()
    time_passes(engine)
    bot.deliver_due()

    assert len(fake_slack.cards("C0LISTEN")) == 1
    assert "cannot look for an earlier copy (not_in_channel)" in caplog.text
