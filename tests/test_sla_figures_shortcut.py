"""The weekly summary judges plain SLA histories from one aggregate row, and replays only the rest event by event:
on randomized weeks of histories, on SQLite and PostgreSQL, the shortcut must reach exactly the replay's verdicts."""

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.ground.config import BusinessHours, Sla, SlaTargets, Weekday
from bot.ground.db import session_scope
from bot.ground.models import Event, EventKind, Mention, MentionStatus
from bot.remember import sla_shares
from bot.remember.sla_shares import mention_verdicts
from bot.remember.weeks import Week

WEEK = Week.parse("2026-W12")  # Monday 16 March 2026 to Monday 23 March; Paris springs forward on 29 March
NOT_PLAIN = [EventKind.UNCLAIMED, EventKind.CLAIM_EXPIRED, EventKind.REOPENED, EventKind.SNOOZED, EventKind.UNSNOOZED]
PEOPLE = ["U0ANA", "U0BEN"]
SLAS = {
    "claim only, wall clock": Sla(),
    "every target, wall clock": Sla(
        normal=SlaTargets(reply_within=timedelta(hours=1), resolve_within=timedelta(days=1)),
        high=SlaTargets(claim_within=timedelta(minutes=10), reply_within=timedelta(minutes=30)),
        low=SlaTargets(claim_within=timedelta(hours=4), resolve_within=timedelta(hours=8)),
    ),
    "every target, office hours in Paris": Sla(
        normal=SlaTargets(reply_within=timedelta(hours=1), resolve_within=timedelta(days=1)),
        high=SlaTargets(claim_within=timedelta(minutes=10), reply_within=timedelta(minutes=30)),
        low=SlaTargets(claim_within=timedelta(hours=4), resolve_within=timedelta(hours=8)),
        business_hours=BusinessHours(start=time(9), end=time(18)),
        timezone="Europe/Paris",
    ),
    "weekends only, in New York": Sla(
        normal=SlaTargets(claim_within=timedelta(minutes=30), reply_within=timedelta(hours=2)),
        business_hours=BusinessHours(start=time(10), end=time(14), days=[Weekday.SATURDAY, Weekday.SUNDAY]),
        timezone="America/New_York",
    ),
}


def a_history(rng: random.Random, heard_at: datetime) -> list[tuple[str, str | None, datetime, dict[str, Any]]]:
    """What people did about one mention: mostly the usual claim, answer and resolve, often at the same moment
    as another event (then in either order); sometimes a let-go, a reopen or a snooze; sometimes anything."""
    taken: list[datetime] = []

    def moment() -> datetime:
        if taken and rng.random() < 0.25:
            return rng.choice(taken)
        minutes = rng.choice([rng.randrange(-30, 90), rng.randrange(0, 4 * 24 * 60)])
        taken.append(heard_at + timedelta(minutes=minutes - minutes % rng.choice([1, 15])))
        return taken[-1]

    def one(kind: str) -> tuple[str, str | None, datetime, dict[str, Any]]:
        when = moment()
        data = {"until": (when + timedelta(minutes=rng.randrange(10, 600))).isoformat()} if kind == "snoozed" else {}
        actor = None if kind == "claimed" and rng.random() < 0.05 else rng.choice(PEOPLE)
        return kind, actor, when, data

    if rng.random() < 0.3:
        kinds = rng.choices([kind.value for kind in EventKind], k=rng.randrange(0, 8))
    else:
        kinds = [kind for kind in ("claimed", "replied", "replied", "resolved") if rng.random() < 0.8]
        kinds += [rng.choice(NOT_PLAIN).value] if rng.random() < 0.2 else []
        kinds += ["nudged", "posted"] if rng.random() < 0.3 else []
    history = sorted((one(kind) for kind in kinds), key=lambda event: (event[2], rng.random()))  # ties in any order
    if rng.random() < 0.5:  # in the usual order: the claim before the answers, the resolve last
        order = {"claimed": 0, "replied": 1, "resolved": 2}
        ordered = sorted(history, key=lambda event: order.get(event[0], 1))
        history = [
            (kind, actor, when, data) for (kind, actor, _, data), (_, _, when, _) in zip(ordered, history, strict=True)
        ]
    return history


def seed_random_week(engine: Engine, seed: int, mentions: int) -> None:
    """Mentions heard through the week (a few just before or after it, a few joined), each with a random history."""
    rng = random.Random(seed)
    with session_scope(engine) as session:
        for number in range(mentions):
            heard_at = WEEK.start + timedelta(minutes=rng.randrange(-600, 7 * 24 * 60 + 600))
            mention = Mention(
                source="status-feed",
                source_kind="rss",
                external_id=f"{seed}-{number}",
                text=f"Post {number} about Acme",
                heard_at=heard_at,
                polarity=-0.4,
                sentiment="negative",
                urgency=rng.choice(["low", "normal", "normal", "high"]),
                channel="C0LISTEN",
                status=MentionStatus.JOINED if rng.random() < 0.03 else MentionStatus.OPEN,
            )
            session.add(mention)
            session.flush()
            assert mention.id is not None
            for kind, actor, when, data in a_history(rng, heard_at):
                session.add(Event(mention_id=mention.id, kind=kind, actor=actor, at=when, data=data))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_shortcut_reaches_the_replays_verdicts_on_random_weeks(engine, seed):
    """Ana and Ben handle a week of 400 mentions every which way; whatever the targets, the business hours and
    the moment the summary is asked for, each mention's verdicts are the replay's, and most histories were plain."""
    seed_random_week(engine, seed, mentions=400)
    untils = [WEEK.end, WEEK.start + timedelta(days=3, hours=13, minutes=7)]
    with session_scope(engine) as session:
        for name, sla in SLAS.items():
            for until in untils:
                replayed = mention_verdicts(session, sla, WEEK.start, until, replay_all=True)
                assert mention_verdicts(session, sla, WEEK.start, until) == replayed, (name, until)
        whole_week = mention_verdicts(session, SLAS["every target, wall clock"], WEEK.start, WEEK.end)
    assert 300 < len(whole_week) < 400  # those heard before or after the week, or joined, count in none
    judged = {(target, met) for verdicts in whole_week.values() for target, met in verdicts.items()}
    assert judged == {(target, met) for target in ("claim", "reply", "resolve") for met in (True, False)}


def test_plain_histories_are_judged_without_reading_their_events(engine, monkeypatch):
    """The point of the shortcut: plain histories are not replayed (this random week has many that are not)."""
    seed_random_week(engine, 7, mentions=200)
    with session_scope(engine) as session:
        everyone = mention_verdicts(session, SLAS["every target, office hours in Paris"], WEEK.start, WEEK.end)
    replayed: list[int] = []
    original = sla_shares._verdicts

    def counting(mention: Any, *args: Any) -> dict[str, bool]:
        replayed.append(mention.id)
        return original(mention, *args)

    monkeypatch.setattr(sla_shares, "_verdicts", counting)
    with session_scope(engine) as session:
        assert mention_verdicts(session, SLAS["every target, office hours in Paris"], WEEK.start, WEEK.end) == everyone
    assert 0 < len(replayed) < 0.7 * len(everyone)


def test_a_summary_over_no_mentions_has_no_verdicts(engine):
    with session_scope(engine) as session:
        assert mention_verdicts(session, Sla(), WEEK.start, WEEK.end) == {}
        assert mention_verdicts(session, Sla(), datetime(2026, 1, 1, tzinfo=UTC), WEEK.end, replay_all=True) == {}
