"""Spikes: more mentions in the last hour than the same hour of the week usually brings posts one alert, whose
thread hears when it grows and when it ends, and nothing more."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.app.scheduler import build_scheduler
from bot.ground.config import Config, SpikeRule
from bot.ground.db import session_scope
from bot.ground.models import Outbox, OutboxKind, Spike, SpikeEvent
from bot.hear.batches import record
from bot.hear.spike_watch import check_spikes
from bot.hear.spikes import Step, new_words, next_step, usual_of
from tests.factories import heard
from tests.test_actions import race
from tests.test_storms import drain

NOW = datetime(2026, 12, 8, 14, 0, tzinfo=UTC)  # a Tuesday
RULE = SpikeRule()
CONFIG = Config.model_validate(
    {
        "listen": {"keywords": ["quillo"], "products": [{"name": "Quillo", "query": "quillo"}]},
        "channels": {"default": "C0LISTEN"},
    }
)
USUAL_TEXTS = ("Quillo templates are lovely", "How do I export from Quillo?", "Quillo pricing for teams?")
OUTAGE_TEXTS = ("Quillo is down, outage again", "Cannot login to Quillo, is it down?", "Quillo outage: login fails")


# --- the rule ----------------------------------------------------------------------------------------------


def test_two_weeks_of_history_are_too_little_to_call_anything_a_spike():
    assert usual_of([4, 5]) is None
    assert next_step(500, usual_of([4, 5]), told=None, rule=RULE) == Step.QUIET


def test_an_hour_like_the_past_weeks_is_no_spike():
    usual = usual_of([3, 4, 5, 4, 6, 3])
    assert usual is not None and (usual.low, usual.high) == (2, 6)
    assert all(next_step(count, usual, told=None, rule=RULE) == Step.QUIET for count in range(0, 10))


def test_a_real_jump_starts_one_spike_that_grows_then_ends_once_back_within_the_usual():
    usual = usual_of([3, 4, 5, 4, 6, 3])
    assert next_step(46, usual, told=None, rule=RULE) == Step.START
    assert next_step(50, usual, told=46, rule=RULE) == Step.STAY, "a little more is nothing to tell"
    assert next_step(69, usual, told=46, rule=RULE) == Step.GROW
    assert next_step(9, usual, told=69, rule=RULE) == Step.STAY, "still above the usual: not over yet"
    assert next_step(6, usual, told=69, rule=RULE) == Step.END


def test_a_quiet_hour_needs_at_least_a_handful_and_a_past_spike_does_not_raise_the_usual():
    quiet = usual_of([0, 1, 0, 0])
    assert next_step(RULE.at_least - 1, quiet, told=None, rule=RULE) == Step.QUIET
    assert next_step(RULE.at_least, quiet, told=None, rule=RULE) == Step.START
    with_a_past_spike = usual_of([4, 5, 80, 4, 5])
    assert next_step(40, with_a_past_spike, told=None, rule=RULE) == Step.START


def test_top_new_words_are_frequent_now_and_rare_in_the_usual_hours():
    recent = [*OUTAGE_TEXTS, "Quillo down for anyone else?", "Quillo is great"]
    assert set(new_words(recent, USUAL_TEXTS * 5)) == {"down", "outage", "login"}
    assert new_words(USUAL_TEXTS, USUAL_TEXTS * 5) == [], "the usual talk is no news"


# --- stored, on both databases -----------------------------------------------------------------------------


def hear(engine, text: str, at: datetime, n: int, *, product: str | None = "Quillo") -> None:
    report = heard(text, external_id=f"item-{at.isoformat()}-{n}", source="reddit")
    with session_scope(engine) as session:
        record(session, replace(report, product=product), now=at)


def past_weeks(engine, *, weeks: int = 4, per_hour: tuple[int, ...] = (3, 4, 5, 4)) -> None:
    """The same Tuesday hour in past weeks, with a few ordinary mentions each."""
    for week in range(1, weeks + 1):
        for n in range(per_hour[week % len(per_hour)]):
            hear(engine, USUAL_TEXTS[n % 3], NOW - timedelta(weeks=week, minutes=50 - n), n)


def burst(engine, count: int, *, ending: datetime = NOW, over: timedelta = timedelta(minutes=50), start: int = 0):
    """`count` outage reports heard evenly over the time before `ending`."""
    step = over / count
    for n in range(count):
        hear(engine, OUTAGE_TEXTS[n % 3], ending - over + (n + 1) * step, start + n)


def spike_rows(engine) -> tuple[list[Spike], list[Outbox]]:
    with session_scope(engine) as session:
        spikes = session.exec(select(Spike).order_by(Spike.id)).all()
        kinds = [OutboxKind.SPIKE_ALERT, OutboxKind.SPIKE_NOTE]
        rows = session.exec(select(Outbox).where(Outbox.kind.in_(kinds)).order_by(Outbox.id)).all()
    return list(spikes), list(rows)


def test_a_burst_opens_one_spike_per_scope_and_checking_again_queues_nothing(engine):
    past_weeks(engine)
    burst(engine, 30)

    assert sorted(check_spikes(engine, CONFIG, now=NOW)) == [("", Step.START), ("Quillo", Step.START)]
    assert check_spikes(engine, CONFIG, now=NOW + timedelta(minutes=1)) == [], "a second check tells nothing"

    spikes, rows = spike_rows(engine)
    assert [(s.scope, s.count, s.low, s.high, s.ended_at) for s in spikes] == [
        ("", 30, 2, 6, None),
        ("Quillo", 30, 2, 6, None),
    ]
    assert [row.kind for row in rows] == [OutboxKind.SPIKE_ALERT] * 2
    with session_scope(engine) as session:
        started = session.exec(select(SpikeEvent).order_by(SpikeEvent.id)).first()
    assert started.kind == "started" and started.data["weekday"] == "Tuesday" and started.data["time"] == "14:00"
    assert set(started.data["words"]) == {"down", "outage", "login"}
    assert len(started.data["mentions"]) == 10 and started.data["more"] == 20


def test_the_scheduler_checks_for_spikes_only_when_they_are_on(engine, http):
    on = build_scheduler(engine, CONFIG, http=http, on_new_mentions=lambda: None)
    off = build_scheduler(
        engine, CONFIG.model_copy(update={"spikes": SpikeRule(enabled=False)}), http=http, on_new_mentions=lambda: None
    )
    assert on.get_job("spikes").trigger.interval == timedelta(minutes=5)
    assert off.get_job("spikes") is None


def test_without_three_weeks_of_history_a_burst_alerts_nobody(engine):
    past_weeks(engine, weeks=2)
    burst(engine, 30)
    assert check_spikes(engine, CONFIG, now=NOW) == []
    assert spike_rows(engine) == ([], [])


def test_six_checks_at_once_open_one_spike_per_scope_and_tell_each_change_once(engine):
    past_weeks(engine)
    burst(engine, 30)
    opened = race(6, lambda _: check_spikes(engine, CONFIG, now=NOW))
    assert sorted(step for outcome in opened for step in outcome) == [("", Step.START), ("Quillo", Step.START)]

    later = NOW + timedelta(minutes=10)
    burst(engine, 25, ending=later, over=timedelta(minutes=9), start=100)
    grown = race(6, lambda _: check_spikes(engine, CONFIG, now=later))
    assert sorted(step for outcome in grown for step in outcome) == [("", Step.GROW), ("Quillo", Step.GROW)]
    assert [row.kind for row in spike_rows(engine)[1]] == [OutboxKind.SPIKE_ALERT] * 2 + [OutboxKind.SPIKE_NOTE] * 2


def test_a_second_process_checking_the_same_moment_cannot_open_a_second_spike(engine):
    past_weeks(engine)
    burst(engine, 30)
    check_spikes(engine, CONFIG, now=NOW)
    [first, _], _ = spike_rows(engine)
    # As if the other process had read "no spike" before this one wrote: the database refuses its insert.
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Spike(**first.model_dump(exclude={"id"})))
    assert check_spikes(engine, CONFIG, now=NOW) == []
    assert len(spike_rows(engine)[1]) == 2, "still one alert for each spike"


# --- through Slack -----------------------------------------------------------------------------------------


def test_a_spike_posts_one_alert_then_one_update_as_it_grows_and_one_when_it_ends(sqlite_engine, fake_slack):
    config = Config.model_validate({"listen": {"keywords": ["quillo"]}, "channels": {"default": "C0LISTEN"}})
    past_weeks(sqlite_engine)
    burst(sqlite_engine, 30)
    check_spikes(sqlite_engine, config, now=NOW)
    drain(sqlite_engine, fake_slack, post_interval=0)

    alerts = [m for m in fake_slack.cards("C0LISTEN") if "in the last hour" in m.text]
    assert len(alerts) == 1
    [alert] = alerts
    assert "All mentions: 30 in the last hour, usually 2–6" in alert.text
    shown = alert.all_text()
    assert "on a Tuesday at 14:00" in shown and "Top new words:" in shown
    assert all(word in shown for word in ("outage", "login", "down")) and "…and 20 more" in shown
    past = 3 + 4 + 5 + 4
    assert len(fake_slack.cards("C0LISTEN")) == past + 30 + 1, "each mention keeps its own card beside the alert"

    later = NOW + timedelta(minutes=10)
    burst(sqlite_engine, 25, ending=later, over=timedelta(minutes=9), start=100)
    check_spikes(sqlite_engine, config, now=later)
    check_spikes(sqlite_engine, config, now=later + timedelta(minutes=5))  # a little more since: nothing to tell
    drain(sqlite_engine, fake_slack, post_interval=0)
    [grew] = fake_slack.thread("C0LISTEN", alert.ts)
    assert "Still growing: 55 in the last hour" in grew.all_text() and "was 30" in grew.all_text()
    assert "Heard since the last update:" in grew.all_text() and "…and 15 more" in grew.all_text()

    calm = NOW + timedelta(hours=2)
    check_spikes(sqlite_engine, config, now=calm)
    check_spikes(sqlite_engine, config, now=calm + timedelta(minutes=5))
    drain(sqlite_engine, fake_slack, post_interval=0)
    thread = fake_slack.thread("C0LISTEN", alert.ts)
    assert len(thread) == 2 and "Back to usual: 0 in the last hour" in thread[-1].all_text()
    assert "peaked at 55" in thread[-1].all_text()
    assert len([m for m in fake_slack.cards("C0LISTEN") if "in the last hour" in m.text]) == 1
