"""Weekly figures from a week seeded by hand, on SQLite and PostgreSQL, and the summary that shows them."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from bot import actions
from bot.config import Sentiment, Team
from bot.db import session_scope
from bot.errors import UserError
from bot.metrics import Week, weekly_figures
from bot.models import Event, EventKind, Mention, Outcome
from bot.summary import format_duration, summary_text
from tests.factories import store_mention

ANA, BEN, CY, DEE, EVE, FAY, GUS = "U_ANA", "U_BEN", "U_CY", "U_DEE", "U_EVE", "U_FAY", "U_GUS"
TEAMS = {"support": Team(channel="C0SUPPORT", usergroup="S0SUPPORT"), "billing": Team(channel="C0BILLING")}
W47 = Week.parse("2026-W47")  # Monday 16 November 2026 00:00 UTC to Monday 23 November


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def hear(engine, key, heard_at, *, source="status-feed", sentiment=Sentiment.NEGATIVE):
    mention_id = store_mention(engine, external_id=key, source=source, sentiment=sentiment)
    with session_scope(engine) as session:
        session.execute(update(Mention).where(Mention.id == mention_id).values(heard_at=heard_at))
    return mention_id


def act(engine, action, **kwargs):
    with session_scope(engine) as session:
        return action(session, **kwargs)


def seed_week(engine):
    """The week told as it happened; the expected figures are worked out by hand in the tests."""
    # Before the week: one left open, one closed, one claimed then first answered inside the week.
    hear(engine, "old-open", at(10, 9))
    old_closed = hear(engine, "old-closed", at(12, 9))
    act(engine, actions.resolve, mention_id=old_closed, user_id=FAY, outcome=Outcome.ANSWERED, now=at(13, 9))
    old_busy = hear(engine, "old-busy", at(12, 10))
    act(engine, actions.claim, mention_id=old_busy, user_id=FAY, now=at(14, 9))
    act(engine, actions.reply, mention_id=old_busy, user_id=EVE, text="Sorry for the wait", now=at(16, 10))  # 4 days

    # M1: claimed after 10 minutes, answered after 30, resolved; the bot's own "posted" event has no actor.
    m1 = hear(engine, "m1", at(16, 9))
    with session_scope(engine) as session:
        session.add(Event(mention_id=m1, kind=EventKind.POSTED, actor=None, at=at(16, 9, 1), data={"ts": "1.1"}))
    act(engine, actions.claim, mention_id=m1, user_id=ANA, now=at(16, 9, 10))
    act(engine, actions.reply, mention_id=m1, user_id=ANA, text="Looking", now=at(16, 9, 30))
    act(engine, actions.resolve, mention_id=m1, user_id=ANA, outcome=Outcome.ANSWERED, now=at(17, 9))

    # M2: Ben claims after 12 minutes and lets go, Cy takes it, escalates to support, Dee acknowledges.
    m2 = hear(engine, "m2", at(16, 10), sentiment=Sentiment.NEUTRAL)
    act(engine, actions.claim, mention_id=m2, user_id=BEN, now=at(16, 10, 12))
    act(engine, actions.unclaim, mention_id=m2, user_id=BEN, now=at(16, 10, 20))
    act(engine, actions.claim, mention_id=m2, user_id=CY, now=at(16, 10, 40))
    escalation = act(
        engine, actions.escalate, mention_id=m2, user_id=CY, team_name="support", team=TEAMS["support"], now=at(17, 11)
    )
    act(engine, actions.acknowledge, escalation_id=escalation.id, user_id=DEE, now=at(17, 11, 30))
    act(engine, actions.resolve, mention_id=m2, user_id=CY, outcome=Outcome.FIXED, now=at(18, 12))

    # M3: Ben's reply after 20 minutes claims it; resolved, then reopened by Ana inside the week.
    m3 = hear(engine, "m3", at(17, 8), source="forum", sentiment=Sentiment.POSITIVE)
    act(engine, actions.reply, mention_id=m3, user_id=BEN, text="Thanks!", now=at(17, 8, 20))
    act(engine, actions.resolve, mention_id=m3, user_id=BEN, outcome=Outcome.THANKED, now=at(17, 9))
    act(engine, actions.reopen, mention_id=m3, user_id=ANA, now=at(18, 10))

    # M4: escalated to billing, never acknowledged, resolved by Gus only after the week ended.
    m4 = hear(engine, "m4", at(18, 14), source="forum")
    act(
        engine, actions.escalate, mention_id=m4, user_id=ANA, team_name="billing", team=TEAMS["billing"], now=at(18, 15)
    )
    act(engine, actions.resolve, mention_id=m4, user_id=GUS, outcome=Outcome.NO_ACTION, now=at(24, 9))

    hear(engine, "m5", at(22, 23, 59))  # the week's last minute
    hear(engine, "m6", at(23, 0))  # the next week's first


def test_a_finished_week_adds_up(engine):
    seed_week(engine)
    with session_scope(engine) as session:
        figures = weekly_figures(session, W47, now=at(25, 12))
    assert (figures.week, figures.until) == (W47, at(23, 0))
    assert figures.heard == 5
    assert figures.by_source == {"status-feed": 3, "forum": 2}
    assert figures.by_sentiment == {"negative": 3, "neutral": 1, "positive": 1}
    assert list(figures.by_sentiment)[0] == "negative", "the biggest share comes first"
    assert figures.claimed == 3  # M1, M2 (twice, counted once), M3 by replying; old-busy was claimed last week
    assert figures.replied == 3  # M1, M3 and old-busy
    assert (figures.escalated, figures.escalations) == (2, 2)
    assert figures.acknowledged == 1
    assert figures.resolved == 3  # M1, M2, M3; M4 only next week
    assert figures.median_to_claim == timedelta(minutes=12)  # 10m, 12m, 20m
    assert figures.median_to_first_reply == timedelta(minutes=30)  # 20m, 30m, 4 days
    assert figures.outcomes == {"answered": 1, "fixed": 1, "thanked": 1}
    assert figures.escalations_by_team == {"support": 1, "billing": 1}
    assert figures.open_backlog == 5  # old-open, old-busy, M3 (reopened), M4 (resolved later), M5
    assert figures.people == 5  # Ana, Ben, Cy, Dee, Eve; Fay acted before, Gus after, the bot is nobody


def test_a_week_in_progress_counts_only_what_happened_so_far(engine):
    seed_week(engine)
    tuesday = at(17, 10)
    with session_scope(engine) as session:
        figures = weekly_figures(session, W47, now=tuesday)
    assert figures.until == tuesday
    assert (figures.heard, figures.claimed, figures.replied, figures.resolved) == (3, 3, 3, 2)
    assert (figures.escalated, figures.acknowledged, figures.escalations_by_team) == (0, 0, {})
    assert figures.outcomes == {"answered": 1, "thanked": 1}
    assert figures.open_backlog == 3  # old-open, old-busy, M2; M3 is resolved until Wednesday
    assert figures.people == 4  # Ana, Ben, Cy, Eve
    assert "(so far)" in summary_text(figures).splitlines()[0]


def test_an_empty_week_reads_as_nothing(engine):
    with session_scope(engine) as session:
        figures = weekly_figures(session, W47, now=at(25, 12))
    assert (figures.heard, figures.claimed, figures.open_backlog, figures.people) == (0, 0, 0, 0)
    assert (figures.median_to_claim, figures.median_to_first_reply) == (None, None)
    lines = summary_rows(summary_text(figures))
    assert lines["Median time to claim"] == "n/a"
    assert lines["By source"] == "none"


def summary_rows(text):
    return dict((part.strip() for part in line.split(":", 1)) for line in text.splitlines()[2:])


def test_the_summary_shows_each_figure_under_its_label(engine):
    seed_week(engine)
    with session_scope(engine) as session:
        text = summary_text(weekly_figures(session, W47, now=at(25, 12)))
    title, blank, *_ = text.splitlines()
    assert title == "All Ears weekly summary, 2026-W47: Mon 16 Nov – Sun 22 Nov 2026"
    assert blank == ""
    rows = summary_rows(text)
    assert rows["Mentions heard"] == "5"
    assert rows["By source"] == "status-feed 3, forum 2"
    assert rows["By sentiment"].startswith("negative 3, ")
    assert set(rows["By sentiment"].split(", ")) == {"negative 3", "neutral 1", "positive 1"}
    assert (rows["Claimed"], rows["Replied"], rows["Resolved"]) == ("3", "3", "3")
    assert rows["Escalated"] in (
        "2 mentions (2 escalations: support 1, billing 1), acknowledged 1",
        "2 mentions (2 escalations: billing 1, support 1), acknowledged 1",
    )
    assert set(rows["Outcomes"].split(", ")) == {"answered 1", "fixed 1", "thanked 1"}
    assert rows["Median time to claim"] == "12m 00s"
    assert rows["Median time to first reply"] == "30m 00s"
    assert rows["Open backlog"] == "5"
    assert rows["People who took part"] == "5"
    assert "Median time to claim:       12m 00s" in text, "values line up in one column"


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
    with session_scope(engine) as session:
        figures = weekly_figures(session, W47, now=at(25, 12))
    assert (figures.resolved, figures.outcomes) == (1, {"fixed": 1}), "the resolve after the week is next week's"
    rows = summary_rows(summary_text(figures))
    assert (rows["Resolved"], rows["Outcomes"]) == ("1", "fixed 1")


def test_a_mention_escalated_twice_is_one_mention_and_two_escalations(engine):
    mention = hear(engine, "twice", at(16, 9))
    first = act(
        engine,
        actions.escalate,
        mention_id=mention,
        user_id=ANA,
        team_name="support",
        team=TEAMS["support"],
        now=at(16, 10),
    )
    act(engine, actions.acknowledge, escalation_id=first.id, user_id=DEE, now=at(16, 11))
    act(
        engine,
        actions.escalate,
        mention_id=mention,
        user_id=BEN,
        team_name="support",
        team=TEAMS["support"],
        now=at(17, 10),
    )
    with session_scope(engine) as session:
        figures = weekly_figures(session, W47, now=at(25, 12))
    assert (figures.escalated, figures.escalations, figures.escalations_by_team) == (1, 2, {"support": 2})
    assert summary_rows(summary_text(figures))["Escalated"] == "1 mention (2 escalations: support 2), acknowledged 1"


@pytest.mark.parametrize(
    "duration, text",
    [
        (None, "n/a"),
        (timedelta(0), "0s"),
        (timedelta(seconds=-5), "0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=12), "12m 00s"),
        (timedelta(minutes=3, seconds=7), "3m 07s"),
        (timedelta(hours=1, minutes=1, seconds=5), "1h 01m"),
        (timedelta(days=2, hours=3, minutes=59), "2d 3h"),
    ],
)
def test_durations_read_at_a_glance(duration, text):
    assert format_duration(duration) == text


def test_a_week_is_written_like_2026_w47():
    assert Week.parse(" 2026-w47 ") == W47 == Week(2026, 47)
    assert (W47.label, W47.start, W47.end) == ("2026-W47", at(16, 0), at(23, 0))
    assert Week.parse("2026-W53").start == datetime(2026, 12, 28, tzinfo=UTC), "2026 has 53 ISO weeks"
    assert Week.parse("2026-W01").start == datetime(2025, 12, 29, tzinfo=UTC)


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


def test_the_week_containing_a_moment_is_judged_in_utc():
    sunday_night_utc = datetime(2026, 11, 23, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert Week.containing(sunday_night_utc) == W47
    assert Week.containing(at(23, 0)) == Week(2026, 48)
    assert Week.containing(datetime(2027, 1, 1, tzinfo=UTC)) == Week(2026, 53)
