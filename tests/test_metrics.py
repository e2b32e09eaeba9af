"""Weekly figures from a week seeded by hand, on SQLite and PostgreSQL; every expected number is worked out
in the comments beside it, from the story told in `seed_week`."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import update

from bot.act import actions
from bot.ground.config import BusinessHours, Config, Sentiment, Sla, SlaTargets, Team
from bot.ground.db import session_scope
from bot.ground.errors import UserError
from bot.ground.models import Event, EventKind, Mention, Outcome, Storm
from bot.hear.batches import record
from bot.remember.counting import week_so_far, weekly_figures
from bot.remember.figures import Quote, Share, TeamEscalations, TopicGroup, Volume, Waits, WeekSoFar
from bot.remember.summary_due import summarize
from bot.remember.weeks import Week
from tests.factories import heard

ANA, BEN, CY, DEE, EVE, FAY, GUS = "U0ANA", "U0BEN", "U0CY", "U0DEE", "U0EVE", "U0FAY", "U0GUS"
TEAMS = {"support": Team(channel="C0SUPPORT", usergroup="S0SUPPORT"), "billing": Team(channel="C0BILLING")}
W47 = Week.parse("2026-W47")  # Monday 16 November 2026 00:00 UTC to Monday 23 November
SLA = Sla(
    normal=SlaTargets(claim_within=timedelta(minutes=20), reply_within=timedelta(hours=1)),
    high=SlaTargets(claim_within=timedelta(minutes=10), resolve_within=timedelta(days=1)),
)
PEOPLE = {ANA: "support", BEN: "support", CY: "product", DEE: "engineering"}  # Eve's team is nowhere


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def hear(
    engine,
    key,
    heard_at,
    *,
    source="status-feed",
    sentiment=Sentiment.NEGATIVE,
    polarity=-0.4,
    category="complaint",
    topic=None,
    urgency="normal",
    text=None,
    url="",
):
    """A mention heard at `heard_at`, triaged as told, the way intake records it; each by its own author,
    so none continues another's conversation."""
    item = heard(
        text or f"Post {key} about Acme",
        external_id=key,
        source=source,
        sentiment=sentiment,
        polarity=polarity,
        url=url,
        author=f"Author of {key}",
    )
    with session_scope(engine) as session:
        return record(session, replace(item, category=category, topic=topic, urgency=urgency), now=heard_at)


def act(engine, action, **kwargs):
    with session_scope(engine) as session:
        return action(session, **kwargs)


def seed_week(engine):
    """The week told as it happened, with the week before it for comparison."""
    # Week 46: one left open, one closed, one claimed then first answered inside week 47.
    hear(engine, "old-open", at(10, 9), topic="billing")
    old_closed = hear(engine, "old-closed", at(12, 9), sentiment=Sentiment.NEUTRAL, category="question", polarity=0)
    act(engine, actions.resolve, mention_id=old_closed, user_id=FAY, outcome=Outcome.ANSWERED, now=at(13, 9))
    old_busy = hear(engine, "old-busy", at(12, 10))
    act(engine, actions.claim, mention_id=old_busy, user_id=FAY, now=at(14, 9))
    act(engine, actions.reply, mention_id=old_busy, user_id=EVE, text="Sorry for the wait", now=at(16, 10))  # 4 days

    # M1: an outage; claimed after 10 minutes, answered after 30, resolved the next day. The bot's own
    # "posted" event has no actor, and the same post heard again on the forum is joined to it.
    m1 = hear(engine, "m1", at(16, 9), polarity=-0.6, topic="outage", text="Acme is down again <!channel>")
    with session_scope(engine) as session:
        session.add(Event(mention_id=m1, kind=EventKind.POSTED, actor=None, at=at(16, 9, 1), data={"ts": "1.1"}))
    hear(engine, "m1-again", at(16, 9, 5), source="forum", url="https://example.com/posts/m1")
    act(engine, actions.claim, mention_id=m1, user_id=ANA, now=at(16, 9, 10))
    act(engine, actions.reply, mention_id=m1, user_id=ANA, text="Looking", now=at(16, 9, 30))
    act(engine, actions.resolve, mention_id=m1, user_id=ANA, outcome=Outcome.ANSWERED, now=at(17, 9))

    # M2: Ben claims after 12 minutes and lets go, Cy takes it, escalates to support, Dee acknowledges in 30 minutes.
    m2 = hear(engine, "m2", at(16, 10), sentiment=Sentiment.NEUTRAL, polarity=0, category="question", topic="login")
    act(engine, actions.claim, mention_id=m2, user_id=BEN, now=at(16, 10, 12))
    act(engine, actions.unclaim, mention_id=m2, user_id=BEN, now=at(16, 10, 20))
    act(engine, actions.claim, mention_id=m2, user_id=CY, now=at(16, 10, 40))
    escalation = act(
        engine, actions.escalate, mention_id=m2, user_id=CY, team_name="support", team=TEAMS["support"], now=at(17, 11)
    )
    act(engine, actions.acknowledge, escalation_id=escalation.id, user_id=DEE, now=at(17, 11, 30))
    act(engine, actions.resolve, mention_id=m2, user_id=CY, outcome=Outcome.FIXED, now=at(18, 12))

    # M3: praise on the forum; Ben's reply after 20 minutes claims it; resolved, then reopened by Ana.
    m3 = hear(
        engine,
        "m3",
        at(17, 8),
        source="forum",
        sentiment=Sentiment.POSITIVE,
        polarity=0.8,
        category="praise",
        topic="praise",
        text="Acme support fixed my issue in minutes, thank you!",
    )
    act(engine, actions.reply, mention_id=m3, user_id=BEN, text="Thanks!", now=at(17, 8, 20))
    act(engine, actions.resolve, mention_id=m3, user_id=BEN, outcome=Outcome.THANKED, now=at(17, 9))
    act(engine, actions.reopen, mention_id=m3, user_id=ANA, now=at(18, 10))

    # M4: the angriest, urgent; escalated to billing, never acknowledged, resolved by Gus only after the week.
    m4 = hear(
        engine, "m4", at(18, 14), source="forum", polarity=-0.9, topic="billing", urgency="high", text="Charged twice!"
    )
    act(
        engine, actions.escalate, mention_id=m4, user_id=ANA, team_name="billing", team=TEAMS["billing"], now=at(18, 15)
    )
    act(engine, actions.resolve, mention_id=m4, user_id=GUS, outcome=Outcome.NO_ACTION, now=at(24, 9))

    # M7: a feature request; Dee answers after an hour (which claims it) and passes it to product as feedback.
    m7 = hear(
        engine,
        "m7",
        at(19, 12),
        source="forum",
        sentiment=Sentiment.NEUTRAL,
        polarity=0.1,
        category="feature request",
        topic="export",
        text="Please let me export reports as CSV",
    )
    act(engine, actions.reply, mention_id=m7, user_id=DEE, text="Passing it on", now=at(19, 13))
    act(
        engine,
        actions.resolve,
        mention_id=m7,
        user_id=DEE,
        outcome=Outcome.FEEDBACK,
        note="Wants CSV export",
        now=at(19, 14),
    )

    # M8: more praise on Sunday morning, nobody acts; M5 in the week's last minute; M6 in the next week's first.
    hear(
        engine,
        "m8",
        at(22, 9),
        source="forum",
        sentiment=Sentiment.POSITIVE,
        polarity=0.5,
        category="praise",
        topic="praise",
        text="Loving the new dashboard",
    )
    hear(engine, "m5", at(22, 23, 59), polarity=-0.3, topic="outage")
    hear(engine, "m6", at(23, 0), topic="outage")
    return {"m1": m1, "m2": m2, "m3": m3, "m4": m4, "m7": m7}


def finished_week(engine):
    """Week 47 as the summary computes it, with the teams of who listened."""
    config = Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}, "sla": SLA})
    return summarize(engine, config, W47, team_of=PEOPLE.get, now=at(25, 12))


def test_what_customers_said(engine):
    ids = seed_week(engine)
    figures = finished_week(engine)
    assert (figures.week, figures.until) == (W47, at(23, 0))
    # M1, M2, M3, M4, M7, M8, M5: m1-again is M1 heard twice, M6 is next week's.
    assert figures.volume == Volume(
        heard=7,
        by_source={"forum": 4, "status-feed": 3},
        by_category={"complaint": 3, "praise": 2, "feature request": 1, "question": 1},  # equal counts by name
        by_sentiment={"negative": 3, "neutral": 2, "positive": 2},
    )
    # Week 46: old-open, old-closed and old-busy, all from the status feed.
    assert figures.last_week == Volume(
        heard=3,
        by_source={"status-feed": 3},
        by_category={"complaint": 2, "question": 1},
        by_sentiment={"negative": 2, "neutral": 1},
    )
    # outage: M1, M5 · praise: M3, M8 · billing: M4 · export: M7 · login: M2; each shown by its strongest feeling.
    assert [(group.topic, group.count, group.examples[0].id) for group in figures.topics] == [
        ("outage", 2, ids["m1"]),  # -0.6 beats M5's -0.3
        ("praise", 2, ids["m3"]),  # 0.8 beats M8's 0.5
        ("billing", 1, ids["m4"]),
        ("export", 1, ids["m7"]),
        ("login", 1, ids["m2"]),
    ]
    assert figures.topics[0].examples[0] == Quote(
        id=ids["m1"],
        text="Acme is down again <!channel>",
        source="status-feed",
        url="https://example.com/posts/m1",
        polarity=-0.6,
    )
    # Negative and heard this week: M1 (resolved), M4 (-0.9, open until the 24th), M5 (-0.3, open).
    assert figures.most_negative_open is not None and figures.most_negative_open.id == ids["m4"]
    assert [quote.text for quote in figures.praise] == [
        "Acme support fixed my issue in minutes, thank you!",  # M3, 0.8
        "Loving the new dashboard",  # M8, 0.5
    ]


def test_how_we_answered(engine):
    seed_week(engine)
    figures = finished_week(engine)
    assert figures.claimed == 4  # M1, M2 (twice, counted once), M3 and M7 by replying; old-busy was claimed before
    assert figures.replied == 4  # M1, M3, M7 and old-busy
    assert figures.resolved == 4  # M1, M2, M3, M7; M4 only next week
    # Claims: 10m, 12m, 20m, 60m. Median of an even count: (12 + 20) / 2. Nearest rank 90%: the 4th of 4.
    assert figures.to_claim == Waits(4, timedelta(minutes=16), timedelta(minutes=60))
    # First replies: M3 20m, M1 30m, M7 60m, old-busy 4 days.
    assert figures.to_first_reply == Waits(4, timedelta(minutes=45), timedelta(days=4))
    # First resolves: M3 1h, M7 2h, M1 1 day, M2 2 days 2h; median (2h + 24h) / 2.
    assert figures.to_resolution == Waits(4, timedelta(hours=13), timedelta(days=2, hours=2))
    assert figures.within_sla == {
        # Normal mentions in 20m, M4 (high) in 10m: M1 10m met; M2 12m, and again 20m after Ben let it go, met;
        # M3 exactly 20m met; M7 after 60m, M8 never, M4 never in the week missed; M5 heard a minute before the
        # end still has time, so it counts in neither.
        "claim": Share(3, 6),
        # Normal ones answered within 1h of being claimed: M1 after 20m and M7 at once (replying claimed it) met;
        # M2, never answered by Cy before it was resolved 2 days later, and M3, left unanswered since Ana reopened
        # it, missed; M8 and M5 were never claimed, so they never needed a reply; M4 (high) has no reply target.
        "reply": Share(2, 4),
        # Only high urgency must be resolved, in a day: M4 was not by the week's end.
        "resolution": Share(0, 1),
    }
    # Open at Monday 00:00: M5 (1 minute old), M8 (15h), M3 (reopened, 5 days), M4 (resolved later, 4 days),
    # old-busy and old-open (10 and 12 days).
    assert figures.backlog == {"under 1 h": 1, "1–24 h": 1, "1–7 days": 2, "over 7 days": 2}
    assert figures.open_backlog == 6
    assert figures.outcomes == {"answered": 1, "feedback": 1, "fixed": 1, "thanked": 1}
    assert (figures.escalated, figures.escalations, figures.acknowledged) == (2, 2, 1)
    assert figures.by_team == [
        TeamEscalations("billing", escalations=1, acknowledged=0, median_to_acknowledge=None),
        TeamEscalations("support", escalations=1, acknowledged=1, median_to_acknowledge=timedelta(minutes=30)),
    ]


def test_who_listened_and_what_we_learned(engine):
    ids = seed_week(engine)
    figures = finished_week(engine)
    # Claimed or replied this week, in how many mentions: Dee's acknowledgement is not listening, Fay acted
    # before the week and Gus after it, and the bot is nobody.
    assert figures.handled_by == {BEN: 2, ANA: 1, CY: 1, DEE: 1, EVE: 1}
    assert figures.people == 5
    # Ben handled M2 and M3, of the five mentions someone did: M1, M2 (Ben and Cy, once), M3, M7 and old-busy.
    assert figures.handled == 5
    assert figures.busiest == Share(2, 5)
    assert figures.busiest.percent == 40
    assert figures.teams == {"support": 2, "engineering": 1, "product": 1}
    assert figures.without_team == 1  # Eve
    assert figures.learned == [
        TopicGroup(
            "export",
            1,
            [
                Quote(
                    id=ids["m7"],
                    text="Please let me export reports as CSV",
                    source="forum",
                    url="https://example.com/posts/m7",
                    polarity=0.1,
                    note="Wants CSV export",
                )
            ],
        )
    ]


def test_the_chart_data_is_the_week_day_by_day(engine):
    seed_week(engine)
    days = finished_week(engine).days
    assert [day.day for day in days] == [date(2026, 11, 16) + timedelta(days=n) for n in range(7)]
    assert [day.by_sentiment for day in days] == [
        {"negative": 1, "neutral": 1},  # M1, M2
        {"positive": 1},  # M3
        {"negative": 1},  # M4
        {"neutral": 1},  # M7
        {},
        {},
        {"negative": 1, "positive": 1},  # M5, M8
    ]
    # Monday's first claims: M1 10m, M2 12m; Tuesday's: M3 20m; Thursday's: M7 60m.
    assert [day.median_to_claim for day in days] == [
        timedelta(minutes=11),
        timedelta(minutes=20),
        None,
        timedelta(minutes=60),
        None,
        None,
        None,
    ]
    # Monday's first replies: M1 30m and old-busy 4 days.
    assert days[0].median_to_first_reply == (timedelta(minutes=30) + timedelta(days=4)) / 2


def test_a_week_in_progress_counts_only_what_happened_so_far(engine):
    seed_week(engine)
    tuesday = at(17, 10)
    with session_scope(engine) as session:
        figures = weekly_figures(session, W47, now=tuesday, sla=SLA)
    assert figures.until == tuesday
    assert (figures.heard, figures.claimed, figures.replied, figures.resolved) == (3, 3, 3, 2)
    assert figures.last_week.heard == 1, "last week up to Tuesday 10:00 as well: old-open only"
    assert (figures.escalated, figures.acknowledged, figures.by_team) == (0, 0, [])
    assert figures.outcomes == {"answered": 1, "thanked": 1}
    assert figures.open_backlog == 3  # old-open, old-busy, M2; M3 is resolved until Wednesday
    assert figures.people == 4  # Ana, Ben, Cy, Eve
    assert (figures.teams, figures.without_team) == ({}, 0), "teams are counted only when asked"


@pytest.mark.parametrize("now", [at(17, 10), at(25, 12)], ids=["tuesday, three claims", "after, four claims"])
def test_the_home_tabs_few_numbers_are_the_summarys(engine, now):
    seed_week(engine)
    with session_scope(engine) as session:
        full = weekly_figures(session, W47, now=now)
        home = week_so_far(session, W47, now=now)
    assert home == WeekSoFar(W47, full.heard, full.claimed, full.to_claim.median, full.open_backlog)
    assert home.median_to_claim == (timedelta(minutes=12) if now == at(17, 10) else timedelta(minutes=16))


def test_an_empty_week_reads_as_nothing(engine):
    with session_scope(engine) as session:
        assert week_so_far(session, W47, now=at(25, 12)) == WeekSoFar(W47, 0, 0, None, 0)
        figures = weekly_figures(session, W47, now=at(25, 12), sla=SLA)
    assert (figures.heard, figures.claimed, figures.open_backlog, figures.people) == (0, 0, 0, 0)
    assert (figures.to_claim, figures.to_first_reply, figures.to_resolution) == (Waits(), Waits(), Waits())
    assert (figures.within_sla, figures.topics, figures.praise, figures.learned) == ({}, [], [], [])
    assert (figures.most_negative_open, figures.busiest) == (None, None)
    assert [day.by_sentiment for day in figures.days] == [{}] * 7


def test_a_mention_reopened_twice_counts_once_by_its_last_outcome_in_the_week(engine):
    """Outcomes add up to "Resolved": each mention is counted by how it was last closed that week."""
    mention = hear(engine, "flip-flop", at(16, 9))
    for outcome, resolved_at in (
        (Outcome.SPAM, at(16, 10)),
        (Outcome.ANSWERED, at(17, 10)),
        (Outcome.FIXED, at(18, 10)),
    ):
        act(engine, actions.resolve, mention_id=mention, user_id=ANA, outcome=outcome, now=resolved_at)
        act(engine, actions.reopen, mention_id=mention, user_id=BEN, now=resolved_at + timedelta(hours=1))
    act(engine, actions.resolve, mention_id=mention, user_id=ANA, outcome=Outcome.THANKED, now=at(24, 9))
    figures = finished_week(engine)
    assert (figures.resolved, figures.outcomes) == (1, {"fixed": 1}), "the resolve after the week is next week's"
    assert figures.to_resolution == Waits(1, timedelta(hours=1), timedelta(hours=1)), "from the first resolve"
    assert figures.open_backlog == 1, "reopened at the end of the week"


def test_a_mention_escalated_twice_is_one_mention_and_two_escalations(engine):
    mention = hear(engine, "twice", at(16, 9))
    for user_id, moment, acknowledged_after in ((ANA, at(16, 10), timedelta(hours=1)), (BEN, at(17, 10), None)):
        escalation = act(
            engine,
            actions.escalate,
            mention_id=mention,
            user_id=user_id,
            team_name="support",
            team=TEAMS["support"],
            now=moment,
        )
        if acknowledged_after:
            act(engine, actions.acknowledge, escalation_id=escalation.id, user_id=DEE, now=moment + acknowledged_after)
    figures = finished_week(engine)
    assert (figures.escalated, figures.escalations, figures.acknowledged) == (1, 2, 1)
    assert figures.by_team == [TeamEscalations("support", 2, 1, timedelta(hours=1))]


def test_an_acknowledgement_after_the_week_is_next_weeks(engine):
    mention = hear(engine, "late-ack", at(22, 20))
    escalation = act(
        engine,
        actions.escalate,
        mention_id=mention,
        user_id=ANA,
        team_name="billing",
        team=TEAMS["billing"],
        now=at(22, 21),
    )
    act(engine, actions.acknowledge, escalation_id=escalation.id, user_id=DEE, now=at(23, 9))
    assert finished_week(engine).by_team == [TeamEscalations("billing", 1, 0, None)]


def test_sla_time_counts_only_business_hours_when_they_are_set(engine):
    """Heard on Tuesday at 16:50 and claimed on Wednesday at 09:05: 16 hours on the clock, 15 business minutes.
    Heard on Friday at 16:50 and not claimed by Sunday night: only 10 business minutes, so not due yet."""
    overnight = hear(engine, "overnight", at(17, 16, 50))
    act(engine, actions.claim, mention_id=overnight, user_id=ANA, now=at(18, 9, 5))
    hear(engine, "friday", at(20, 16, 50))
    office = SLA.model_copy(update={"business_hours": BusinessHours(start=time(9), end=time(17))})
    with session_scope(engine) as session:
        assert weekly_figures(session, W47, now=at(25, 12), sla=SLA).within_sla["claim"] == Share(0, 2)
        assert weekly_figures(session, W47, now=at(25, 12), sla=office).within_sla["claim"] == Share(1, 1)


def test_sla_clocks_run_as_the_reminders_run_them(engine):
    """Snoozed time does not count; an unclaim starts the claim clock again, a reopen the reply and resolve
    clocks; and a storm's members, reminded as one storm, count in none."""
    sla = Sla(normal=SlaTargets(reply_within=timedelta(hours=1), resolve_within=timedelta(days=1)))
    # Snoozed for 2h five minutes after it was heard, claimed at 11:15: 15 minutes on the clock. Answered in
    # 15 minutes, resolved after 22 hours that count.
    snoozed = hear(engine, "snoozed", at(16, 9))
    act(engine, actions.snooze, mention_id=snoozed, user_id=ANA, duration=timedelta(hours=2), now=at(16, 9, 5))
    act(engine, actions.claim, mention_id=snoozed, user_id=ANA, now=at(16, 11, 15))
    act(engine, actions.reply, mention_id=snoozed, user_id=ANA, text="On it", now=at(16, 11, 30))
    act(engine, actions.resolve, mention_id=snoozed, user_id=ANA, outcome=Outcome.FIXED, now=at(17, 9))
    # Claimed in 5 minutes and answered in 5, but let go at 10:30 and never taken again: the claim was missed
    # (the reply was not: nobody owned it to reply), and it was never resolved.
    let_go = hear(engine, "let-go", at(16, 10))
    act(engine, actions.claim, mention_id=let_go, user_id=BEN, now=at(16, 10, 5))
    act(engine, actions.reply, mention_id=let_go, user_id=BEN, text="Hello", now=at(16, 10, 10))
    act(engine, actions.unclaim, mention_id=let_go, user_id=BEN, now=at(16, 10, 30))
    # Claimed, answered and resolved within half an hour, then reopened on Wednesday and left unanswered and
    # open: the reply and the resolution were missed the second time round.
    reopened = hear(engine, "reopened", at(16, 12))
    act(engine, actions.claim, mention_id=reopened, user_id=CY, now=at(16, 12, 10))
    act(engine, actions.reply, mention_id=reopened, user_id=CY, text="Fixed", now=at(16, 12, 20))
    act(engine, actions.resolve, mention_id=reopened, user_id=CY, outcome=Outcome.FIXED, now=at(16, 12, 30))
    act(engine, actions.reopen, mention_id=reopened, user_id=ANA, now=at(18, 12))
    # Left alone all week, but part of a storm.
    member = hear(engine, "storm member", at(16, 13))
    with session_scope(engine) as session:
        storm = Storm(
            channel="C0LISTEN", topic="outage", counted_from=at(16, 13), started_at=at(16, 13), last_at=at(16, 13)
        )
        session.add(storm)
        session.flush()
        session.execute(update(Mention).where(Mention.id == member).values(storm_id=storm.id))

    with session_scope(engine) as session:
        within = weekly_figures(session, W47, now=at(25, 12), sla=sla).within_sla
    assert within == {
        "claim": Share(2, 3),  # snoozed and reopened met, let-go missed
        "reply": Share(2, 3),  # snoozed and let-go met, reopened missed
        "resolution": Share(1, 3),  # snoozed met, let-go and reopened missed
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ("2026-47", "is not an ISO week; write it like 2026-W47"),
        ("W47", "is not an ISO week"),
        ("2026-W4", "is not an ISO week"),
        ("2026-W54", "2026 has no week 54"),
        ("2025-W53", "2025 has no week 53"),
        ("2026-W00", "2026 has no week 0"),
    ],
)
def test_a_week_that_does_not_exist_is_refused(text, message):
    with pytest.raises(UserError, match=message):
        Week.parse(text)


def test_a_week_is_written_like_2026_w47():
    assert Week.parse(" 2026-w47 ") == W47 == Week(2026, 47)
    assert (W47.label, W47.start, W47.end) == ("2026-W47", at(16, 0), at(23, 0))
    assert Week.parse("2026-W53").start == datetime(2026, 12, 28, tzinfo=UTC), "2026 has 53 ISO weeks"
    assert Week.parse("2026-W01").start == datetime(2025, 12, 29, tzinfo=UTC)
    assert (W47.previous, Week(2026, 1).previous) == (Week(2026, 46), Week(2025, 52))


def test_the_week_containing_a_moment_is_judged_in_utc_unless_told():
    sunday_night_utc = datetime(2026, 11, 23, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert Week.containing(sunday_night_utc) == W47
    assert Week.containing(at(23, 0)) == Week(2026, 48)
    assert Week.containing(datetime(2027, 1, 1, tzinfo=UTC)) == Week(2026, 53)


def test_a_week_in_a_time_zone_runs_from_its_own_monday_midnight():
    paris = Week.parse("2026-W47", "Europe/Paris")
    assert (paris.start, paris.end) == (at(15, 23), at(22, 23)), "Paris is an hour ahead in November"
    assert Week.containing(at(22, 23, 30), "Europe/Paris") == Week(2026, 48, "Europe/Paris")
    assert Week.containing(at(22, 23, 30), "America/New_York") == Week(2026, 47, "America/New_York")
    # The clocks go forward on Sunday 29 March 2026: that week is an hour short.
    spring = Week.parse("2026-W13", "Europe/Paris")
    assert spring.start == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)
    assert spring.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert spring.end - spring.start == timedelta(days=6, hours=23)


def test_figures_in_a_time_zone_follow_its_days(engine):
    """Monday 23:30 UTC is already Tuesday in Paris; Sunday 23:30 UTC is already the next week there."""
    hear(engine, "monday-night", at(16, 23, 30), sentiment=Sentiment.POSITIVE)
    hear(engine, "sunday-night", at(22, 23, 30))
    with session_scope(engine) as session:
        utc = weekly_figures(session, W47, now=at(25, 12))
        paris = weekly_figures(session, Week(2026, 47, "Europe/Paris"), now=at(25, 12))
        next_in_paris = weekly_figures(session, Week(2026, 48, "Europe/Paris"), now=at(30, 12))
    assert (utc.heard, paris.heard, next_in_paris.heard) == (2, 1, 1)
    assert utc.days[0].by_sentiment == {"positive": 1}
    assert paris.days[0].by_sentiment == {} and paris.days[1].by_sentiment == {"positive": 1}
    assert paris.until == at(22, 23)
