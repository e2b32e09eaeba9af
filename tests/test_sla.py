"""SLA reminders, by time travel: each check is told what time it is, on SQLite and on PostgreSQL."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.act import actions
from bot.act.sla import timers
from bot.app.scheduler import build_scheduler
from bot.ground.config import Config, StormRule, Team
from bot.ground.db import session_scope
from bot.ground.errors import MentionClosed, UserError
from bot.ground.models import Event, EventKind, Mention, Outbox, OutboxKind, Outcome, Storm
from bot.hear.batches import record
from bot.slack.cards import mention_card, thread_note
from tests.factories import heard
from tests.test_actions import race
from tests.test_storms import drain

ANA, BEN = "U0ANA", "U0BEN"
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday
SUPPORT = Team(channel="C0SUPPORT", usergroup="S0SUPPORT")


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def config(**settings) -> Config:
    """Mentions in C0URGENT ping that route's group and lead; elsewhere `[sla]`'s own."""
    return Config.model_validate(
        {
            "listen": {"keywords": ["acme"]},
            "channels": {"default": "C0LISTEN"},
            "routes": [{"sentiment": "negative", "channel": "C0URGENT", "usergroup": "S0ONCALL", "lead": "U0LEAD"}],
            "sla": {"usergroup": "S0SUPPORT", "lead": "U0HEAD", **settings},
        }
    )


SLA = config()


def hear(engine, at: datetime = T0, **overrides) -> int:
    with session_scope(engine) as session:
        mention_id = record(session, overrides.pop("heard", None) or heard(**overrides), now=at)
    assert mention_id is not None
    return mention_id


def act(engine, action, mention_id: int, **kwargs):
    with session_scope(engine) as session:
        return action(session, mention_id=mention_id, **kwargs)


def load(engine, mention_id: int) -> Mention:
    with session_scope(engine) as session:
        return session.get(Mention, mention_id)


def notes(engine, mention_id: int, where: OutboxKind = OutboxKind.THREAD_NOTE) -> list[str]:
    """The notes queued for the mention's thread (or its team alerts'), as Slack will show them."""
    with session_scope(engine) as session:
        mention = session.get(Mention, mention_id)
        rows = session.exec(
            select(Outbox).where(Outbox.mention_id == mention_id, Outbox.kind == where).order_by(Outbox.id)
        ).all()
        return [thread_note(mention, session.get(Event, row.event_id)) for row in rows]


def outbox_kinds(engine, mention_id: int) -> list[str]:
    with session_scope(engine) as session:
        return [
            row.kind for row in session.exec(select(Outbox).where(Outbox.mention_id == mention_id).order_by(Outbox.id))
        ]


def test_dana_waits_twenty_minutes_then_the_thread_asks_then_the_group_then_the_lead_each_once(engine):
    dana = hear(engine, author="Dana Customer")

    assert timers.check(engine, SLA, now=minutes(19)) == []
    assert timers.check(engine, SLA, now=minutes(20)) == [(dana, "claim 1")]
    assert timers.check(engine, SLA, now=minutes(21)) == [], "asked once"
    assert timers.check(engine, SLA, now=minutes(40)) == [(dana, "claim 2")]
    assert timers.check(engine, SLA, now=minutes(60)) == [(dana, "claim 3")]
    assert timers.check(engine, SLA, now=minutes(61)) == timers.check(engine, SLA, now=minutes(600)) == []

    assert notes(engine, dana) == [
        ":hourglass: Unclaimed for 20m: who can take it?",
        f":hourglass: <!subteam^S0SUPPORT> M-{dana} has waited 40m for an owner: can one of you take it?",
        f":rotating_light: <@U0HEAD> M-{dana} is still unclaimed after 1h: find it an owner.",
    ]
    assert outbox_kinds(engine, dana) == [OutboxKind.CARD] + [OutboxKind.THREAD_NOTE] * 3, "no card refresh"
    with session_scope(engine) as session:
        nudges = [(e.kind, e.actor, e.data["step"], e.data["level"]) for e in actions.history(session, dana)]
    assert nudges == [(EventKind.NUDGED, None, "claim", level) for level in (1, 2, 3)]


def test_a_route_pings_its_own_group_and_lead_and_a_step_with_nobody_to_ping_is_skipped(engine):
    urgent = hear(engine, external_id="urgent", channel="C0URGENT")
    quiet = hear(engine, external_id="quiet")
    nobody = config(usergroup=None, lead="U0HEAD")

    for at in (20, 40, 60):
        timers.check(engine, SLA, now=minutes(at))
    assert "<!subteam^S0ONCALL>" in notes(engine, urgent)[1] and "<@U0LEAD>" in notes(engine, urgent)[2]

    assert timers.check(engine, nobody, now=minutes(20)) == [] and len(notes(engine, quiet)) == 3, "already asked"
    alone = hear(engine, external_id="alone", at=minutes(100))
    assert [timers.check(engine, nobody, now=minutes(100 + at)) for at in (20, 40, 60)] == [
        [(alone, "claim 1")],
        [],
        [(alone, "claim 3")],
    ]


def test_a_claim_stops_the_questions_and_giving_it_back_starts_them_again(engine):
    mention_id = hear(engine)
    timers.check(engine, SLA, now=minutes(20))
    act(engine, actions.claim, mention_id, user_id=ANA, now=minutes(30))
    assert timers.check(engine, SLA, now=minutes(45)) == [], "Ana has it"

    act(engine, actions.unclaim, mention_id, user_id=ANA, now=minutes(50))
    assert timers.check(engine, SLA, now=minutes(69)) == []
    assert timers.check(engine, SLA, now=minutes(70)) == [(mention_id, "claim 1")], "a new wait, asked anew"
    assert len(notes(engine, mention_id)) == 2


def test_the_clock_stands_still_after_hours_and_over_a_weekend_that_springs_forward(engine):
    office = config(timezone="Europe/Paris", business_hours={"start": "09:00", "end": "17:00"})
    friday_4_50pm_paris = datetime(2026, 3, 27, 15, 50, tzinfo=UTC)
    monday_9am_paris = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # summer time since Sunday
    mention_id = hear(engine, at=friday_4_50pm_paris)

    assert timers.check(engine, office, now=friday_4_50pm_paris + timedelta(hours=3)) == []
    assert timers.check(engine, office, now=monday_9am_paris + timedelta(minutes=9)) == []
    assert timers.check(engine, office, now=monday_9am_paris + timedelta(minutes=10)) == [(mention_id, "claim 1")]


def test_a_snooze_stops_every_timer_and_when_it_runs_out_they_go_on_where_they_were(engine):
    mention_id = hear(engine)
    snoozed = act(engine, actions.snooze, mention_id, user_id=BEN, duration=timedelta(hours=1), now=minutes(10))
    assert snoozed.mention.snoozed_until == minutes(70) and snoozed.replaced is None

    assert timers.check(engine, SLA, now=minutes(69)) == [], "snoozed"
    assert timers.check(engine, SLA, now=minutes(70)) == [(mention_id, "awake")]
    assert timers.check(engine, SLA, now=minutes(79)) == [], "ten minutes before the snooze, nine after"
    assert timers.check(engine, SLA, now=minutes(80)) == [(mention_id, "claim 1")]

    assert notes(engine, mention_id)[1:] == [
        ":alarm_clock: The snooze is over: its SLA timers run again.",
        ":hourglass: Unclaimed for 20m: who can take it?",
    ]
    assert notes(engine, mention_id)[0].startswith(f":zzz: <@{BEN}> snoozed this until <!date^")


def test_the_card_says_who_snoozed_it_until_when_and_offers_to_wake_it(engine):
    mention_id = hear(engine)
    act(engine, actions.snooze, mention_id, user_id=BEN, duration=timedelta(hours=4), now=T0)
    with session_scope(engine) as session:
        card = mention_card(session.get(Mention, mention_id), actions.history(session, mention_id))
    assert f":zzz: Snoozed until <!date^{int((T0 + timedelta(hours=4)).timestamp())}^" in str(card)
    menu = next(element for element in card[-1]["elements"] if element["action_id"] == "mention_snooze")
    assert menu["type"] == "static_select" and menu["action_id"] == "mention_snooze"
    assert [option["value"] for option in menu["options"]] == [
        f"{mention_id}:{v}" for v in ("1h", "4h", "1d", "3d", "until", "off")
    ]


def test_snoozing_again_replaces_the_end_and_off_wakes_it_early(engine):
    mention_id = hear(engine)
    act(engine, actions.snooze, mention_id, user_id=BEN, duration=timedelta(hours=4), now=T0)
    again = act(engine, actions.snooze, mention_id, user_id=ANA, duration=timedelta(hours=1), now=minutes(10))
    assert (again.mention.snoozed_until, again.replaced) == (minutes(70), T0 + timedelta(hours=4))

    woken = act(engine, actions.snooze, mention_id, user_id=ANA, duration=timedelta(0), now=minutes(15))
    assert woken.mention.snoozed_until is None
    with pytest.raises(UserError, match=f"M-{mention_id} is not snoozed"):
        act(engine, actions.snooze, mention_id, user_id=ANA, duration=timedelta(0), now=minutes(16))
    assert timers.check(engine, SLA, now=minutes(34)) == [], "15 minutes counted: 0–15 snoozed, 15–34 awake"
    assert timers.check(engine, SLA, now=minutes(35)) == [(mention_id, "claim 1")]
    assert notes(engine, mention_id)[2] == f":alarm_clock: <@{ANA}> woke this up: its SLA timers run again."


def test_a_snooze_is_refused_on_a_closed_mention_and_beyond_thirty_days(engine):
    mention_id = hear(engine)
    with pytest.raises(UserError, match="at most 30 days"):
        act(engine, actions.snooze, mention_id, user_id=ANA, duration=timedelta(days=31))
    act(engine, actions.resolve, mention_id, user_id=ANA, outcome=Outcome.ANSWERED)
    with pytest.raises(MentionClosed, match="is resolved"):
        act(engine, actions.snooze, mention_id, user_id=ANA, duration=timedelta(hours=1))


def test_a_claim_left_untouched_for_claim_expires_returns_to_the_pool(engine):
    expiring = config(claim_expires="4h")
    mention_id = hear(engine)
    act(engine, actions.claim, mention_id, user_id=ANA, now=minutes(5))
    act(engine, actions.snooze, mention_id, user_id=ANA, duration=timedelta(minutes=30), now=minutes(65))

    assert timers.check(engine, expiring, now=minutes(65 + 4 * 60 - 1)) == [(mention_id, "awake")], "Ana acted at 65"
    assert timers.check(engine, expiring, now=minutes(65 + 4 * 60 + 30)) == [(mention_id, "expired")], "less the snooze"
    mention = load(engine, mention_id)
    with session_scope(engine) as session:
        expired = actions.history(session, mention_id)[-1]
    assert (mention.owner_id, mention.claimed_at) == (None, None)
    assert (expired.kind, expired.actor, expired.data["owner"]) == (EventKind.CLAIM_EXPIRED, None, ANA)
    assert notes(engine, mention_id)[-1] == (
        f":leftwards_arrow_with_hook: Returned to the pool: <@{ANA}> claimed it, but nothing from them for 4h 30m. "
        "Who can take it?"
    )
    assert timers.check(engine, expiring, now=minutes(65 + 4 * 60 + 50)) == [(mention_id, "claim 1")]


def test_an_expiry_loses_to_a_claim_made_meanwhile(engine):
    mention_id = hear(engine)
    act(engine, actions.claim, mention_id, user_id=ANA, now=minutes(5))
    act(engine, actions.unclaim, mention_id, user_id=ANA, now=minutes(6))
    act(engine, actions.claim, mention_id, user_id=ANA, now=minutes(7))
    with session_scope(engine) as session:
        stale = actions.expire_claim(
            session, mention_id=mention_id, owner_id=ANA, claimed_at=minutes(5), idle_since=minutes(5), now=minutes(300)
        )
    assert stale is False
    assert load(engine, mention_id).owner_id == ANA


def test_an_urgent_mention_reminds_its_owner_to_answer_and_everyone_to_resolve_it(engine):
    urgent = config(high={"claim_within": "10m", "reply_within": "30m", "resolve_within": "4h"})
    mention_id = hear(engine, heard=replace(heard(), urgency="high"))
    assert timers.check(engine, urgent, now=minutes(10)) == [(mention_id, "claim 1")]
    act(engine, actions.claim, mention_id, user_id=ANA, now=minutes(12))
    assert timers.check(engine, urgent, now=minutes(42)) == [(mention_id, "reply")]
    act(engine, actions.reply, mention_id, user_id=ANA, text="Looking into it", now=minutes(50))
    assert timers.check(engine, urgent, now=minutes(240)) == [(mention_id, "resolve")]
    assert (
        notes(engine, mention_id)[1]
        == f":hourglass: <@{ANA}> you claimed this 30m ago and the customer has no answer yet."
    )
    assert (
        notes(engine, mention_id)[3] == f":hourglass: <@{ANA}> M-{mention_id} has been open for 4h: can it be resolved?"
    )
    assert timers.check(engine, config(), now=minutes(300)) == [], "a normal mention has neither timer"


def test_a_reopened_mention_starts_its_timers_again(engine):
    mention_id = hear(engine)
    act(engine, actions.resolve, mention_id, user_id=ANA, outcome=Outcome.ANSWERED, now=minutes(5))
    assert timers.check(engine, SLA, now=minutes(60)) == [], "resolved"
    act(engine, actions.reopen, mention_id, user_id=BEN, now=minutes(100))
    assert timers.check(engine, SLA, now=minutes(119)) == []
    assert timers.check(engine, SLA, now=minutes(120)) == [(mention_id, "claim 1")]


def test_an_escalation_nobody_acknowledges_is_repinged_daily_then_its_acknowledger(engine):
    mention_id = hear(engine)
    act(engine, actions.claim, mention_id, user_id=ANA, now=T0)
    with session_scope(engine) as session:
        escalation = actions.escalate(
            session, mention_id=mention_id, user_id=ANA, team_name="support", team=SUPPORT, now=minutes(5)
        )
    day = timedelta(days=1)
    assert timers.check(engine, SLA, now=minutes(5) + day - timedelta(seconds=1)) == []
    assert timers.check(engine, SLA, now=minutes(5) + day) == [(mention_id, "escalation")]
    assert timers.check(engine, SLA, now=minutes(5) + day + timedelta(hours=2)) == []
    with session_scope(engine) as session:
        actions.acknowledge(
            session, escalation_id=escalation.id, user_id=BEN, now=minutes(5) + day + timedelta(hours=3)
        )
    assert timers.check(engine, SLA, now=minutes(5) + 2 * day) == [], "a day since it was escalated, not acknowledged"
    assert timers.check(engine, SLA, now=minutes(5) + 2 * day + timedelta(hours=3)) == [(mention_id, "acknowledged")]
    assert timers.check(engine, SLA, now=minutes(5) + 3 * day + timedelta(hours=3)) == [(mention_id, "acknowledged")]

    assert notes(engine, mention_id, OutboxKind.TEAM_ALERT_NOTE) == [
        f":rotating_light: <!subteam^S0SUPPORT> M-{mention_id} was escalated to *support* 1d ago "
        "and nobody has acknowledged it yet.",
        f":hourglass: <@{BEN}> you acknowledged M-{mention_id} 1d ago and it is still open.",
        f":hourglass: <@{BEN}> you acknowledged M-{mention_id} 2d ago and it is still open.",
    ]
    act(engine, actions.resolve, mention_id, user_id=ANA, outcome=Outcome.FIXED)
    assert timers.check(engine, SLA, now=minutes(5) + 9 * day) == []


def test_after_an_outage_only_the_latest_step_is_taken_and_an_old_backlog_stays_quiet(engine):
    late = hear(engine, external_id="late")
    ancient = hear(engine, external_id="ancient", at=T0 - timedelta(days=3))
    assert timers.check(engine, SLA, now=minutes(90)) == [(late, "claim 3")]
    assert timers.check(engine, SLA, now=minutes(95)) == []
    assert notes(engine, ancient) == []


def test_storm_mentions_are_not_nagged_one_by_one_and_resolved_ones_never(engine):
    resolved = hear(engine, external_id="resolved")
    act(engine, actions.resolve, resolved, user_id=ANA, outcome=Outcome.SPAM)
    in_storm = hear(engine, external_id="storm")
    with session_scope(engine) as session:
        storm = Storm(channel="C0LISTEN", topic="down", counted_from=T0, started_at=T0, last_at=T0)
        session.add(storm)
        session.flush()
        session.get(Mention, in_storm).storm_id = storm.id
    assert timers.check(engine, SLA, now=minutes(20)) == [(in_storm, "storm")], "the storm's one reminder"
    assert [note for note in notes(engine, in_storm) if "Unclaimed" in note] == []
    assert notes(engine, resolved)[1:] == []


STORM = StormRule(threshold=3)


def outage(engine, topic: str, count: int) -> list[int]:
    """`count` reports about `topic`, a minute apart from T0: the fourth starts a storm."""
    ids = []
    for n in range(count):
        report = replace(heard(f"Acme is {topic}, report {n}", external_id=f"{topic}-{n}"), topic=topic)
        with session_scope(engine) as session:
            ids.append(record(session, report, storm=STORM, now=minutes(n)))
    return ids


def storm_steps(taken: list[timers.Done]) -> list[timers.Done]:
    return [step for step in taken if step[1] == "storm"]


def test_a_storm_nobody_claims_is_asked_about_once_and_one_with_a_claim_is_not(engine):
    down = outage(engine, "down", 6)  # the storm starts with the fourth report, at minute 3
    login = outage(engine, "login", 5)
    act(engine, actions.claim, login[0], user_id=ANA, now=minutes(10))  # one that started the storm counts

    assert storm_steps(timers.check(engine, SLA, now=minutes(22))) == []
    assert storm_steps(timers.check(engine, SLA, now=minutes(23))) == [(down[3], "storm")]
    assert storm_steps(timers.check(engine, SLA, now=minutes(24))) == [], "once"
    assert storm_steps(timers.check(engine, SLA, now=minutes(300))) == []
    assert notes(engine, down[3])[-1] == ":hourglass: 6 mentions about “down”, none claimed for 20m: who can take some?"
    assert [note for note in notes(engine, down[4]) + notes(engine, login[3]) if "mentions about" in note] == []


def test_the_storm_reminder_is_posted_in_the_storm_cards_thread(sqlite_engine, fake_slack):
    outage(sqlite_engine, "down", 5)
    drain(sqlite_engine, fake_slack, post_interval=0)
    timers.check(sqlite_engine, SLA, now=minutes(23))
    drain(sqlite_engine, fake_slack, post_interval=0)

    storm_card = next(card for card in fake_slack.cards("C0LISTEN") if "mentions about" in card.text)
    said = [message.text for message in fake_slack.thread("C0LISTEN", storm_card.ts)]
    assert said[-1] == ":hourglass: 5 mentions about “down”, none claimed for 20m: who can take some?"


def test_two_processes_checking_at_once_take_each_step_once(engine):
    mention_ids = [hear(engine, external_id=f"item-{n}", at=minutes(-n)) for n in range(5)]
    outcomes = race(6, lambda _: timers.check(engine, SLA, now=minutes(22)))
    taken = [step for outcome in outcomes for step in outcome]
    assert sorted(taken) == [(mention_id, "claim 1") for mention_id in mention_ids]
    assert all(len(notes(engine, mention_id)) == 1 for mention_id in mention_ids)


def test_the_scheduler_runs_the_check_only_when_the_sla_is_on(engine, http):
    on = build_scheduler(engine, config(check_every="30s"), http=http, on_new_mentions=lambda: None)
    off = build_scheduler(engine, config(enabled=False), http=http, on_new_mentions=lambda: None)
    assert on.get_job("sla").trigger.interval == timedelta(seconds=30)
    assert off.get_job("sla") is None


def test_a_reopened_mention_reminds_its_owner_to_answer_again(engine):
    urgent = config(high={"claim_within": "10m", "reply_within": "30m"})
    mention_id = hear(engine, heard=replace(heard(), urgency="high"))
    act(engine, actions.claim, mention_id, user_id=ANA, now=minutes(5))
    act(engine, actions.reply, mention_id, user_id=ANA, text="Fixed on our side", now=minutes(10))
    act(engine, actions.resolve, mention_id, user_id=ANA, outcome=Outcome.FIXED, now=minutes(20))
    act(engine, actions.reopen, mention_id, user_id=BEN, now=minutes(100))

    assert timers.check(engine, urgent, now=minutes(129)) == []
    assert timers.check(engine, urgent, now=minutes(130)) == [(mention_id, "reply")], "Ana still owns it"
    assert notes(engine, mention_id)[-1] == (
        f":hourglass: <@{ANA}> this was reopened 30m ago and the customer has no answer yet."
    )
    act(engine, actions.reply, mention_id, user_id=ANA, text="Looking again", now=minutes(131))
    act(engine, actions.resolve, mention_id, user_id=ANA, outcome=Outcome.FIXED, now=minutes(132))
    act(engine, actions.reopen, mention_id, user_id=BEN, now=minutes(200))
    assert timers.check(engine, urgent, now=minutes(230)) == [(mention_id, "reply")], "each reopen, once"


def test_an_owner_who_acts_while_a_check_is_deciding_is_neither_expired_nor_reminded(engine):
    strict = config(claim_expires="1h", high={"claim_within": "10m", "reply_within": "30m"})
    expiring = hear(engine, external_id="expiring")
    waiting = hear(engine, heard=replace(heard(external_id="waiting"), urgency="high"))
    act(engine, actions.claim, expiring, user_id=ANA, now=minutes(30))
    act(engine, actions.claim, waiting, user_id=BEN, now=minutes(60))

    stale = timers.due(engine, strict, now=minutes(90))  # read before either owner acted
    assert [(mention.id, todo.expire, [step.label for step in todo.steps]) for mention, todo in stale] == [
        (expiring, True, []),
        (waiting, False, ["reply"]),
    ]
    act(engine, actions.reply, expiring, user_id=ANA, text="On it", now=minutes(90))
    act(engine, actions.reply, waiting, user_id=BEN, text="Answered", now=minutes(90))

    assert [
        step for mention, todo in stale for step in timers.carry_out(engine, strict, mention, todo, now=minutes(90))
    ] == []
    assert (load(engine, expiring).owner_id, load(engine, waiting).owner_id) == (ANA, BEN)
    with session_scope(engine) as session:
        nudged = session.exec(select(Event).where(Event.kind == EventKind.NUDGED)).all()
    assert nudged == []


def test_a_snooze_ends_with_the_resolve_so_a_reopened_mention_is_awake(engine):
    later = hear(engine, external_id="later")
    act(engine, actions.snooze, later, user_id=BEN, duration=timedelta(hours=4), now=minutes(5))
    act(engine, actions.resolve, later, user_id=ANA, outcome=Outcome.ANSWERED, now=minutes(10))
    assert load(engine, later).snoozed_until is None
    act(engine, actions.reopen, later, user_id=BEN, now=minutes(3 * 24 * 60))
    assert timers.check(engine, SLA, now=minutes(3 * 24 * 60 + 20)) == [(later, "claim 1")]
    assert not any("snooze is over" in note for note in notes(engine, later))

    soon = hear(engine, external_id="soon")
    act(engine, actions.snooze, soon, user_id=BEN, duration=timedelta(hours=4), now=minutes(5))
    act(engine, actions.resolve, soon, user_id=ANA, outcome=Outcome.ANSWERED, now=minutes(10))
    act(engine, actions.reopen, soon, user_id=BEN, now=minutes(30))
    assert timers.check(engine, SLA, now=minutes(50)) == [(soon, "claim 1")], "the four hours' snooze ended at 10"


def test_an_expiry_counts_from_the_owners_last_action_and_says_so(engine):
    expiring = config(claim_expires="4h")
    mention_id = hear(engine)
    act(engine, actions.claim, mention_id, user_id=ANA, now=minutes(5))
    act(engine, actions.reply, mention_id, user_id=ANA, text="Checking", now=minutes(100))
    assert timers.check(engine, expiring, now=minutes(339)) == []
    assert timers.check(engine, expiring, now=minutes(340)) == [(mention_id, "expired")]
    assert notes(engine, mention_id)[-1] == (
        f":leftwards_arrow_with_hook: Returned to the pool: <@{ANA}> claimed it, but nothing from them for 4h. "
        "Who can take it?"
    )


def test_reminders_say_when_they_count_business_time_and_an_ago_is_by_the_clock(engine):
    office = config(
        business_hours={"start": "09:00", "end": "17:00"}, high={"claim_within": "10m", "reply_within": "30m"}
    )
    friday_4pm, monday_9_10am = datetime(2026, 11, 20, 16, 0, tzinfo=UTC), datetime(2026, 11, 23, 9, 10, tzinfo=UTC)
    mention_id = hear(engine, at=friday_4pm, heard=replace(heard(), urgency="high"))
    assert timers.check(engine, office, now=friday_4pm + timedelta(minutes=10)) == [(mention_id, "claim 1")]
    act(engine, actions.claim, mention_id, user_id=ANA, now=friday_4pm + timedelta(minutes=40))
    assert timers.check(engine, office, now=monday_9_10am) == [(mention_id, "reply")], "20 minutes on Friday, 10 today"
    assert notes(engine, mention_id) == [
        ":hourglass: Unclaimed for 10m of business time: who can take it?",
        f":hourglass: <@{ANA}> you claimed this 2d 16h ago and the customer has no answer yet.",
    ]


def test_the_group_and_the_lead_are_pinged_at_the_multiples_the_config_sets(engine):
    sooner = config(group_after=1.5, lead_after=2.25)
    mention_id = hear(engine)
    taken = [timers.check(engine, sooner, now=minutes(at)) for at in (20, 29, 30, 44, 45)]
    assert taken == [[(mention_id, "claim 1")], [], [(mention_id, "claim 2")], [], [(mention_id, "claim 3")]]
    assert notes(engine, mention_id)[1:] == [
        f":hourglass: <!subteam^S0SUPPORT> M-{mention_id} has waited 30m for an owner: can one of you take it?",
        f":rotating_light: <@U0HEAD> M-{mention_id} is still unclaimed after 45m: find it an owner.",
    ]
