"""What people do with a mention, on SQLite and on PostgreSQL: who may do what, and what is recorded."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.act import actions
from bot.ground.config import Team
from bot.ground.db import session_scope
from bot.ground.errors import AlreadyClaimed, MentionClosed, NotOwner, UnknownMention, UserError
from bot.ground.mentions import count_open, open_mentions
from bot.ground.models import Event, EventKind, Mention, MentionStatus, Outbox, OutboxKind, Outcome
from bot.hear.batches import record
from tests.factories import heard, store_mention

ANA, BEN, CY, DEE, EVE = "U_ANA", "U_BEN", "U_CY", "U_DEE", "U_EVE"
SUPPORT = Team(channel="C0SUPPORT", usergroup="S0SUPPORT")
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def event_kinds(engine, mention_id):
    with session_scope(engine) as session:
        return [event.kind for event in actions.history(session, mention_id)]


def outbox_rows(engine, mention_id):
    with session_scope(engine) as session:
        return list(session.exec(select(Outbox).where(Outbox.mention_id == mention_id).order_by(Outbox.id)))


def load(engine, mention_id):
    with session_scope(engine) as session:
        return session.get(Mention, mention_id)


def escalate(engine, mention_id, user_id=ANA, **kwargs):
    with session_scope(engine) as session:
        return actions.escalate(
            session, mention_id=mention_id, user_id=user_id, team_name="support", team=SUPPORT, **kwargs
        )


def test_ben_cannot_claim_what_ana_claimed(engine):
    mention_id = store_mention(engine)
    with session_scope(engine) as session:
        mention = actions.claim(session, mention_id=mention_id, user_id=ANA, now=T0)
    assert (mention.owner_id, mention.claimed_at) == (ANA, T0)

    with pytest.raises(AlreadyClaimed) as refused, session_scope(engine) as session:
        actions.claim(session, mention_id=mention_id, user_id=BEN)
    assert str(refused.value) == f"M-{mention_id} is already claimed by <@U_ANA>."
    assert refused.value.owner_id == ANA

    with pytest.raises(UserError, match="You already own"), session_scope(engine) as session:
        actions.claim(session, mention_id=mention_id, user_id=ANA)
    assert load(engine, mention_id).owner_id == ANA
    assert event_kinds(engine, mention_id) == [EventKind.CLAIMED]


def test_only_the_owner_can_unclaim(engine):
    mention_id = store_mention(engine)
    with session_scope(engine) as session:
        actions.claim(session, mention_id=mention_id, user_id=ANA)
    with (
        pytest.raises(NotOwner, match="claimed by <@U_ANA>; only they can unclaim it"),
        session_scope(engine) as session,
    ):
        actions.unclaim(session, mention_id=mention_id, user_id=BEN)

    with session_scope(engine) as session:
        mention = actions.unclaim(session, mention_id=mention_id, user_id=ANA)
    assert (mention.owner_id, mention.claimed_at) == (None, None)
    with pytest.raises(UserError, match="not claimed by anyone"), session_scope(engine) as session:
        actions.unclaim(session, mention_id=mention_id, user_id=ANA)

    with session_scope(engine) as session:
        assert actions.claim(session, mention_id=mention_id, user_id=BEN).owner_id == BEN
    assert event_kinds(engine, mention_id) == [EventKind.CLAIMED, EventKind.UNCLAIMED, EventKind.CLAIMED]


def test_a_resolved_mention_refuses_claims_and_escalations_until_reopened(engine):
    mention_id = store_mention(engine)
    with session_scope(engine) as session:
        actions.resolve(session, mention_id=mention_id, user_id=ANA, outcome=Outcome.SPAM, now=T0)

    refused = f"M-{mention_id} is resolved \\(spam\\); `/reopen M-{mention_id}` first"
    with pytest.raises(MentionClosed, match=refused), session_scope(engine) as session:
        actions.claim(session, mention_id=mention_id, user_id=BEN)
    with pytest.raises(MentionClosed, match="is resolved"):
        escalate(engine, mention_id, user_id=BEN)
    with pytest.raises(MentionClosed, match="already resolved"), session_scope(engine) as session:
        actions.resolve(session, mention_id=mention_id, user_id=BEN, outcome=Outcome.FIXED)
    assert event_kinds(engine, mention_id) == [EventKind.RESOLVED], "a refusal records nothing"

    with session_scope(engine) as session:
        reopened = actions.reopen(session, mention_id=mention_id, user_id=BEN)
    assert (reopened.status, reopened.outcome, reopened.resolved_at) == (MentionStatus.OPEN, None, None)
    with pytest.raises(UserError, match="open already"), session_scope(engine) as session:
        actions.reopen(session, mention_id=mention_id, user_id=BEN)

    with session_scope(engine) as session:
        assert actions.claim(session, mention_id=mention_id, user_id=BEN).owner_id == BEN
    assert event_kinds(engine, mention_id) == [EventKind.RESOLVED, EventKind.REOPENED, EventKind.CLAIMED]


def test_replying_claims_an_unclaimed_mention_and_sets_the_first_reply_once(engine):
    mention_id = store_mention(engine)
    with session_scope(engine) as session:
        first = actions.reply(session, mention_id=mention_id, user_id=BEN, text="  We are on it.  ", now=T0)
    assert (first.first, first.claimed) == (True, True)
    assert (first.mention.owner_id, first.mention.claimed_at, first.mention.first_reply_at) == (BEN, T0, T0)

    later = T0 + timedelta(minutes=5)
    with session_scope(engine) as session:
        second = actions.reply(session, mention_id=mention_id, user_id=ANA, text="Fixed now.", now=later)
    assert (second.first, second.claimed) == (False, False)
    assert (second.mention.owner_id, second.mention.first_reply_at) == (BEN, T0), "Ana's reply takes nothing from Ben"

    with session_scope(engine) as session:
        events = actions.history(session, mention_id)
    assert [(e.kind, e.actor, e.at) for e in events] == [
        (EventKind.CLAIMED, BEN, T0),
        (EventKind.REPLIED, BEN, T0),
        (EventKind.REPLIED, ANA, later),
    ]
    assert events[0].data == {"via": "reply"}
    assert events[1].data == {"text": "We are on it.", "first": True}
    assert events[2].data == {"text": "Fixed now.", "first": False}

    with pytest.raises(UserError, match="The reply is empty"), session_scope(engine) as session:
        actions.reply(session, mention_id=mention_id, user_id=ANA, text="   ")


def test_acknowledging_twice_names_the_first_acknowledger(engine):
    mention_id = store_mention(engine)
    escalation = escalate(engine, mention_id, reason="  the status page lies  ", now=T0)
    assert (escalation.team, escalation.channel, escalation.usergroup) == ("support", "C0SUPPORT", "S0SUPPORT")
    assert (escalation.reason, escalation.escalated_by, escalation.escalated_at) == ("the status page lies", ANA, T0)

    with session_scope(engine) as session:
        acked = actions.acknowledge(session, escalation_id=escalation.id, user_id=DEE, now=T0 + timedelta(minutes=3))
    assert (acked.acknowledged_by, acked.acknowledged_at) == (DEE, T0 + timedelta(minutes=3))
    with pytest.raises(UserError, match=r"^Already acknowledged by <@U_DEE>\.$"), session_scope(engine) as session:
        actions.acknowledge(session, escalation_id=escalation.id, user_id=EVE)
    with pytest.raises(UserError, match="no longer exists"), session_scope(engine) as session:
        actions.acknowledge(session, escalation_id=999, user_id=EVE)

    with session_scope(engine) as session:
        escalated, acknowledged = actions.history(session, mention_id)
    assert (escalated.kind, escalated.data) == (
        EventKind.ESCALATED,
        {"team": "support", "reason": "the status page lies", "escalation_id": escalation.id},
    )
    assert (acknowledged.kind, acknowledged.actor) == (EventKind.ACKNOWLEDGED, DEE)
    assert acknowledged.data == {"team": "support", "escalation_id": escalation.id}


def test_resolving_records_each_outcome_with_its_note(engine):
    for number, outcome in enumerate(Outcome):
        mention_id = store_mention(engine, external_id=f"item-{number}")
        with session_scope(engine) as session:
            mention = actions.resolve(
                session, mention_id=mention_id, user_id=CY, outcome=outcome, note=" done ", now=T0
            )
        assert (mention.status, mention.outcome, mention.resolved_at) == (MentionStatus.RESOLVED, outcome.value, T0)
        with session_scope(engine) as session:
            [event] = actions.history(session, mention_id)
        assert (event.kind, event.actor, event.data) == (
            EventKind.RESOLVED,
            CY,
            {"outcome": outcome.value, "note": "done"},
        )


def test_each_action_appends_its_events_and_queues_its_messages(engine):
    mention_id = store_mention(engine)
    assert [row.kind for row in outbox_rows(engine, mention_id)] == [OutboxKind.CARD]
    escalation_id = None

    def escalate_and_remember(session):
        nonlocal escalation_id
        escalation_id = actions.escalate(
            session, mention_id=mention_id, user_id=ANA, team_name="support", team=SUPPORT
        ).id

    K, B = EventKind, OutboxKind
    steps = [  # the action, the events it appends, the outbox rows it adds, in delivery order
        (lambda s: actions.claim(s, mention_id=mention_id, user_id=ANA), [K.CLAIMED], [B.CARD_REFRESH]),
        (lambda s: actions.unclaim(s, mention_id=mention_id, user_id=ANA), [K.UNCLAIMED], [B.CARD_REFRESH]),
        (
            lambda s: actions.reply(s, mention_id=mention_id, user_id=BEN, text="hi"),
            [K.CLAIMED, K.REPLIED],
            [B.THREAD_NOTE, B.CARD_REFRESH],
        ),
        (escalate_and_remember, [K.ESCALATED], [B.THREAD_NOTE, B.CARD_REFRESH, B.TEAM_ALERT]),
        (
            lambda s: actions.acknowledge(s, escalation_id=escalation_id, user_id=DEE),
            [K.ACKNOWLEDGED],
            [B.THREAD_NOTE, B.CARD_REFRESH, B.TEAM_ALERT_REFRESH],
        ),
        (
            lambda s: actions.resolve(s, mention_id=mention_id, user_id=BEN, outcome=Outcome.FIXED),
            [K.RESOLVED],
            [B.THREAD_NOTE, B.CARD_REFRESH],
        ),
        (
            lambda s: actions.reopen(s, mention_id=mention_id, user_id=ANA),
            [K.REOPENED],
            [B.THREAD_NOTE, B.CARD_REFRESH],
        ),
    ]
    for action, expected_events, expected_rows in steps:
        events_before, rows_before = len(event_kinds(engine, mention_id)), len(outbox_rows(engine, mention_id))
        with session_scope(engine) as session:
            action(session)
        assert event_kinds(engine, mention_id)[events_before:] == expected_events
        assert [row.kind for row in outbox_rows(engine, mention_id)[rows_before:]] == expected_rows

    with session_scope(engine) as session:
        events = {event.id: event for event in actions.history(session, mention_id)}
    rows = outbox_rows(engine, mention_id)
    assert [events[r.event_id].kind for r in rows if r.kind == B.THREAD_NOTE] == [
        K.REPLIED,
        K.ESCALATED,
        K.ACKNOWLEDGED,
        K.RESOLVED,
        K.REOPENED,
    ]
    alerts = [r for r in rows if r.kind in (B.TEAM_ALERT, B.TEAM_ALERT_REFRESH)]
    assert [events[r.event_id].kind for r in alerts] == [K.ESCALATED, K.ESCALATED], "both name the escalation's event"


def test_an_unknown_mention_is_named_in_the_refusal(engine):
    calls = {
        "claim": lambda s: actions.claim(s, mention_id=999, user_id=ANA),
        "unclaim": lambda s: actions.unclaim(s, mention_id=999, user_id=ANA),
        "reply": lambda s: actions.reply(s, mention_id=999, user_id=ANA, text="hi"),
        "escalate": lambda s: actions.escalate(s, mention_id=999, user_id=ANA, team_name="support", team=SUPPORT),
        "resolve": lambda s: actions.resolve(s, mention_id=999, user_id=ANA, outcome=Outcome.ANSWERED),
        "reopen": lambda s: actions.reopen(s, mention_id=999, user_id=ANA),
    }
    for name, call in calls.items():
        with (
            pytest.raises(UnknownMention, match="There is no mention M-999") as refused,
            session_scope(engine) as session,
        ):
            call(session)
        assert "M-999" in str(refused.value), name


def test_recording_the_same_item_twice_stores_it_once(engine):
    with session_scope(engine) as session:
        first = record(session, heard(external_id="tweet-1"))
        again = record(session, heard(external_id="tweet-1", text="edited text"))
        elsewhere = record(session, heard(external_id="tweet-1", source="other-feed", url="https://example.com/other"))
    assert first is not None and again is None and elsewhere not in (None, first)
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Mention).where(Mention.source == "status-feed")).one() == 1
    assert [row.kind for row in outbox_rows(engine, first)] == [OutboxKind.CARD]
    assert load(engine, first).text.startswith("Acme's status page"), "the first version is kept"


def test_a_post_heard_again_through_another_source_joins_the_first_mention(engine):
    reddit_post = "https://www.reddit.com/r/acme/comments/abc123/acme_is_down/"
    first = store_mention(engine, external_id="t3_abc123", source="reddit", url=reddit_post)
    # Hacker News links to the same thread, spelled differently.
    again = store_mention(
        engine,
        external_id="hn-42",
        source="hackernews",
        url="https://news.ycombinator.com/item?id=42",
        shared_url="https://old.reddit.com/r/acme/comments/abc123/acme_is_down?utm_source=hn",
    )
    joined = load(engine, again)
    assert (joined.status, joined.duplicate_of) == (MentionStatus.JOINED, first)
    assert [row.kind for row in outbox_rows(engine, again)] == [], "no card of its own"
    assert [row.kind for row in outbox_rows(engine, first)] == [
        OutboxKind.CARD,
        OutboxKind.THREAD_NOTE,
        OutboxKind.CARD_REFRESH,
    ]
    with session_scope(engine) as session:
        [also] = actions.history(session, first)
    assert (also.kind, also.data["source"], also.data["mention_id"]) == (EventKind.ALSO_HEARD, "hackernews", again)

    with pytest.raises(MentionClosed, match=f"same post as M-{first}"), session_scope(engine) as session:
        actions.claim(session, mention_id=again, user_id=ANA)
    with session_scope(engine) as session:
        assert open_mentions(session, owner_id=None, limit=10)[0].id == first
        assert count_open(session, owner_id=None) == 1


def race(count, attempt):
    """Run `attempt(i)` in `count` threads released together; return what each returned or raised."""
    barrier, outcomes, lock = threading.Barrier(count), [], threading.Lock()

    def run(i):
        barrier.wait()
        try:
            result = attempt(i)
        except Exception as error:  # collected and asserted on below
            result = error
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return outcomes


def test_twenty_people_claiming_at_once_leaves_one_owner(engine):
    mention_id = store_mention(engine)

    def claim(i):
        with session_scope(engine) as session:
            return actions.claim(session, mention_id=mention_id, user_id=f"U_RACER{i:02d}").owner_id

    outcomes = race(20, claim)
    winners = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, AlreadyClaimed)]
    assert len(winners) == 1 and len(refused) == 19, outcomes
    assert {error.owner_id for error in refused} == set(winners)
    assert load(engine, mention_id).owner_id == winners[0]
    assert event_kinds(engine, mention_id) == [EventKind.CLAIMED]


def test_twenty_people_acknowledging_at_once_acknowledge_once(engine):
    mention_id = store_mention(engine)
    escalation_id = escalate(engine, mention_id).id

    def acknowledge(i):
        with session_scope(engine) as session:
            return actions.acknowledge(session, escalation_id=escalation_id, user_id=f"U_RACER{i:02d}").acknowledged_by

    outcomes = race(20, acknowledge)
    winners = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, UserError)]
    assert len(winners) == 1 and len(refused) == 19, outcomes
    assert {str(error) for error in refused} == {f"Already acknowledged by <@{winners[0]}>."}
    with session_scope(engine) as session:
        acknowledged = session.exec(select(Event).where(Event.kind == EventKind.ACKNOWLEDGED)).all()
    assert [event.actor for event in acknowledged] == winners
    kinds = [row.kind for row in outbox_rows(engine, mention_id)]
    assert kinds.count(OutboxKind.TEAM_ALERT_REFRESH) == 1


def test_only_a_recent_open_post_from_another_source_is_joined(engine):
    page = "https://apps.example.com/acme"
    first = store_mention(engine, external_id="review-1", source="appstore", url=page)
    same_feed = store_mention(engine, external_id="review-2", source="appstore", url=page)
    assert load(engine, same_feed).status == MentionStatus.OPEN, "two reviews of one app are two mentions"
    with session_scope(engine) as session:
        actions.resolve(session, mention_id=first, user_id=ANA, outcome=Outcome.THANKED)
        actions.resolve(session, mention_id=same_feed, user_id=ANA, outcome=Outcome.THANKED)
    later = store_mention(engine, external_id="hn-1", source="hackernews", url=page)
    assert load(engine, later).status == MentionStatus.OPEN, "a resolved conversation is not reopened by a link"
