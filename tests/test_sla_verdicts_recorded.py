"""A resolved mention's SLA verdicts are recorded once its timers stopped, and the weekly summary counts the records
instead of replaying the week's histories: on random weeks, on SQLite and PostgreSQL, what it counts must be exactly
what the replay finds, whatever was recorded, under whatever targets, and whenever the summary is asked for."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlmodel import col

from bot.act import actions
from bot.act.sla import verdicts
from bot.act.sla.verdicts import UNRECORDABLE, fingerprint, record_verdicts
from bot.app.scheduler import build_scheduler
from bot.ground.config import Config, Sla, SlaTargets
from bot.ground.db import read_scope, session_scope
from bot.ground.models import Event, EventKind, Mention, MentionStatus, Outcome
from bot.remember import sla_shares
from bot.remember.figures import Share
from bot.remember.sla_shares import mention_verdicts, within_sla
from tests.factories import store_mention
from tests.test_sla_figures_shortcut import SLAS, WEEK, seed_random_week

RECORDED_UNDER = SLAS["every target, office hours in Paris"]
ANA = "U0ANA"


def resolve_as_their_events_say(engine: Engine) -> None:
    """The random week's mentions whose last resolve or reopen is a resolve are resolved, at that moment."""
    last: dict[int, tuple[str, datetime]] = {}
    with session_scope(engine) as session:
        changes = select(col(Event.mention_id), col(Event.kind), col(Event.at)).where(
            col(Event.kind).in_([EventKind.RESOLVED, EventKind.REOPENED])
        )
        for mention_id, kind, at in session.execute(changes.order_by(col(Event.at), col(Event.id))):
            last[mention_id] = (kind, at)
        for mention_id, (kind, at) in last.items():
            if kind == EventKind.RESOLVED:
                session.execute(
                    update(Mention)
                    .where(col(Mention.id) == mention_id, col(Mention.status) == MentionStatus.OPEN)
                    .values(status=MentionStatus.RESOLVED, resolved_at=at)
                )


def record_all(engine: Engine, sla: Sla) -> int:
    recorded = 0
    while taken := record_verdicts(engine, sla, limit=70):  # a few runs of the job
        recorded += taken
    return recorded


def tally(found: dict[int, dict[str, bool]]) -> dict[str, Share]:
    shown = {"claim": "claim", "reply": "reply", "resolve": "resolution"}
    counts = {name: [0, 0] for name in shown.values()}
    for mention in found.values():
        for target, met in mention.items():
            counts[shown[target]][0] += met
            counts[shown[target]][1] += 1
    return {name: Share(*numbers) for name, numbers in counts.items() if numbers[1]}


@pytest.mark.parametrize("seed", [4, 5])
def test_the_records_reach_the_replays_verdicts_on_random_weeks(engine, seed):
    """A random week, its resolved mentions recorded under Paris office hours: asked at the week's end or in its
    middle, under those targets or others, each mention's verdicts and the shares are the replay's."""
    seed_random_week(engine, seed, mentions=400)
    resolve_as_their_events_say(engine)
    assert record_all(engine, RECORDED_UNDER) > 150
    untils = [WEEK.end, WEEK.start + timedelta(days=3, hours=13, minutes=7)]
    with read_scope(engine) as session:
        for name, sla in SLAS.items():
            for until in untils:
                replayed = mention_verdicts(session, sla, WEEK.start, until, replay_all=True)
                assert mention_verdicts(session, sla, WEEK.start, until) == replayed, (name, until)
                assert within_sla(session, sla, WEEK.start, until) == tally(replayed), (name, until)


def test_the_summary_replays_only_what_is_not_recorded(engine, monkeypatch):
    """The point of the records: under the targets they were made with, the week's resolved mentions are neither
    judged from their aggregate nor replayed; under other targets, all of them are."""
    seed_random_week(engine, 8, mentions=200)
    resolve_as_their_events_say(engine)
    record_all(engine, RECORDED_UNDER)
    judged: list[int] = []
    for helper in ("_plain_verdicts", "_verdicts"):
        original = getattr(sla_shares, helper)

        def counting(mention: Any, *args: Any, original: Any = original) -> Any:
            judged.append(mention.id)
            return original(mention, *args)

        monkeypatch.setattr(sla_shares, helper, counting)
    with read_scope(engine) as session:
        everyone = mention_verdicts(session, RECORDED_UNDER, WEEK.start, WEEK.end)
        with_records = len(set(judged))
        judged.clear()
        mention_verdicts(session, SLAS["every target, wall clock"], WEEK.start, WEEK.end)
        without_records = len(set(judged))
        resolved = session.execute(
            select(col(Mention.id)).where(
                col(Mention.id).in_(list(everyone)),
                col(Mention.status) == MentionStatus.RESOLVED,
                col(Mention.resolved_at) < WEEK.end,
            )
        ).all()
    assert len(resolved) > 50
    assert with_records == len(everyone) - len(resolved)
    assert without_records == len(everyone)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 17, hour, minute, tzinfo=UTC)  # a Tuesday of WEEK


def act(engine: Engine, action: Any, **kwargs: Any) -> Any:
    with session_scope(engine) as session:
        return action(session, **kwargs)


def recorded(engine: Engine, mention_id: int) -> tuple[Any, ...]:
    with read_scope(engine) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        return (
            mention.sla_judged_at,
            mention.sla_judged_for,
            mention.sla_claim_met,
            mention.sla_reply_met,
            mention.sla_resolve_met,
        )


SLA = Sla(normal=SlaTargets(reply_within=timedelta(hours=1), resolve_within=timedelta(hours=2)))


def a_mention_heard_at_nine(engine: Engine) -> int:
    mention_id = store_mention(engine)
    with session_scope(engine) as session:
        session.execute(update(Mention).where(col(Mention.id) == mention_id).values(heard_at=at(9)))
    return mention_id


def test_a_resolve_is_recorded_by_the_next_run_and_a_reopen_clears_it(engine):
    """Ana claims at 9:10, answers at 9:30 and resolves at 10:30: every target met, recorded by the next run, and
    counted from the record. The customer is back at 12:00 and Ana resolves again at 15:00 without a word: until
    the job records that, the summary replays it; then the record says the reply and the resolution were missed."""
    mention_id = a_mention_heard_at_nine(engine)
    act(engine, actions.claim, mention_id=mention_id, user_id=ANA, now=at(9, 10))
    act(engine, actions.reply, mention_id=mention_id, user_id=ANA, text="On it", now=at(9, 30))
    assert record_verdicts(engine, SLA) == 0  # open: its clocks still run
    act(engine, actions.resolve, mention_id=mention_id, user_id=ANA, outcome=Outcome.FIXED, now=at(10, 30))
    assert recorded(engine, mention_id) == (None, None, None, None, None)

    assert record_verdicts(engine, SLA) == 1
    assert recorded(engine, mention_id) == (at(10, 30), fingerprint(SLA, "normal"), True, True, True)
    assert record_verdicts(engine, SLA) == 0  # taken up once
    every_target_met = {"claim": Share(1, 1), "reply": Share(1, 1), "resolution": Share(1, 1)}
    with read_scope(engine) as session:
        assert within_sla(session, SLA, WEEK.start, WEEK.end) == every_target_met
        assert within_sla(session, SLA, WEEK.start, at(10, 30)) == {"claim": Share(1, 1), "reply": Share(1, 1)}

    act(engine, actions.reopen, mention_id=mention_id, user_id=ANA, now=at(12))
    assert recorded(engine, mention_id)[0] is None
    act(engine, actions.resolve, mention_id=mention_id, user_id=ANA, outcome=Outcome.FIXED, now=at(15))
    resolution_missed = {"claim": Share(1, 1), "reply": Share(0, 1), "resolution": Share(0, 1)}
    with read_scope(engine) as session:
        assert within_sla(session, SLA, WEEK.start, WEEK.end) == resolution_missed
    assert record_verdicts(engine, SLA) == 1
    assert recorded(engine, mention_id) == (at(15), fingerprint(SLA, "normal"), True, False, False)
    with read_scope(engine) as session:
        assert within_sla(session, SLA, WEEK.start, WEEK.end) == resolution_missed
        assert within_sla(session, SLA, WEEK.start, at(12, 30)) == every_target_met  # the reopen's clocks still run


def test_a_record_is_not_written_over_a_reopen_and_resolve_made_meanwhile(engine, monkeypatch):
    """The job reads the 10:30 resolve; before it writes, the mention is reopened and resolved again at 15:00 (by
    someone else, committed meanwhile): the verdicts it worked out are not written, and the next run records 15:00."""
    mention_id = a_mention_heard_at_nine(engine)
    act(engine, actions.claim, mention_id=mention_id, user_id=ANA, now=at(9, 10))
    act(engine, actions.resolve, mention_id=mention_id, user_id=ANA, outcome=Outcome.FIXED, now=at(10, 30))
    original = verdicts.clock_events

    def reopened_and_resolved_meanwhile(connection: Any, ids: Any, *where: Any) -> Any:
        events = original(connection, ids, *where)
        for kind, moment, status in ((EventKind.REOPENED, 12, "open"), (EventKind.RESOLVED, 15, "resolved")):
            connection.execute(
                update(Mention).where(col(Mention.id) == mention_id).values(status=status, resolved_at=at(moment))
            )
            connection.execute(
                Event.__table__.insert().values(mention_id=mention_id, kind=kind, actor=ANA, at=at(moment), data={})
            )
        return events

    monkeypatch.setattr(verdicts, "clock_events", reopened_and_resolved_meanwhile)
    assert record_verdicts(engine, SLA) == 1
    assert recorded(engine, mention_id)[0] is None
    monkeypatch.setattr(verdicts, "clock_events", original)
    assert record_verdicts(engine, SLA) == 1
    assert recorded(engine, mention_id) == (at(15), fingerprint(SLA, "normal"), True, False, False)


def test_a_resolved_mention_whose_history_ends_otherwise_is_replayed_every_time(engine):
    """Resolved, but its last event says reopened (a history written before the records, or by hand): nothing is
    recorded that a summary could count, it is not taken up again, and the summary replays it."""
    mention_id = a_mention_heard_at_nine(engine)
    act(engine, actions.claim, mention_id=mention_id, user_id=ANA, now=at(9, 10))
    act(engine, actions.resolve, mention_id=mention_id, user_id=ANA, outcome=Outcome.FIXED, now=at(10, 30))
    with session_scope(engine) as session:
        session.add(Event(mention_id=mention_id, kind=EventKind.REOPENED, actor=ANA, at=at(11)))
    assert record_verdicts(engine, SLA) == 1
    assert recorded(engine, mention_id) == (at(10, 30), UNRECORDABLE, None, None, None)
    assert record_verdicts(engine, SLA) == 0
    with read_scope(engine) as session:
        replayed = mention_verdicts(session, SLA, WEEK.start, WEEK.end, replay_all=True)
        as_replayed = {mention_id: {"claim": True, "reply": False, "resolve": False}}  # the reopen's clocks ran out
        assert mention_verdicts(session, SLA, WEEK.start, WEEK.end) == replayed == as_replayed


def test_the_targets_a_record_was_made_under_are_told_apart():
    """Another limit, other business hours or another zone is another fingerprint; who is pinged is not."""
    sla = Sla(normal=SlaTargets(reply_within=timedelta(hours=1)))
    assert fingerprint(sla, "normal") != fingerprint(sla, "high")
    assert fingerprint(sla, "normal") != fingerprint(sla.model_copy(update={"timezone": "Europe/Paris"}), "normal")
    assert fingerprint(sla, "normal") != fingerprint(RECORDED_UNDER, "normal")
    assert fingerprint(sla, "normal") == fingerprint(sla.model_copy(update={"lead": "U0LEAD"}), "normal")
    assert len(fingerprint(sla, "normal")) == 16


def test_the_scheduler_records_verdicts_every_minute_whether_or_not_anyone_is_reminded(engine, http):
    config = Config.model_validate(
        {"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}, "sla": {"enabled": False}}
    )
    scheduler = build_scheduler(engine, config, http=http, on_new_mentions=lambda: None)
    assert scheduler.get_job("sla-verdicts").trigger.interval == timedelta(minutes=1)
