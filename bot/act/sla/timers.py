"""SLA timers: who is reminded of what and when, each reminder once however many processes check.

A timer counts business time (`[sla] business_hours`, if set) from the moment its cycle started,
less the time the mention was snoozed. Each reminder is keyed by its step and that moment in the
`Nudge` table: the first process to insert the key sends it, and a new cycle (an unclaim, a
reopen, a new claim) has new keys, so it is reminded again. The Home tab shows the same timers
(`standing`), so what it says is left is what the reminders wait for.

A storm's mentions are not reminded one by one: the storm gets one note of its own when nobody has
claimed any of its mentions in time.
"""

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from bot.act import actions
from bot.act.sla.nudges import NEWS_FOR, Done, first_to
from bot.act.sla.storm_reminders import remind_storms
from bot.act.sla.worktime import counted
from bot.ground import prometheus
from bot.ground.clock import utcnow
from bot.ground.config import Config, Sla, SlaTargets
from bot.ground.db import read_scope, rows_changed, session_scope
from bot.ground.mentions import append_event
from bot.ground.models import Escalation, Event, EventKind, Mention, MentionStatus, Nudge, OutboxKind
from bot.ground.outbox import enqueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    """One reminder that is due: its once-only key, what its event records, and where it is posted."""

    key: str
    label: str
    data: dict[str, Any]
    escalation: Escalation | None = None
    """Set for a re-ping, which goes to the team alert's thread rather than the card's."""


@dataclass
class Timeline:
    """What a mention's events say about its timers."""

    unclaimed_since: datetime
    open_since: datetime
    paused: list[tuple[datetime, datetime]] = field(default_factory=list)
    last_reply: datetime | None = None
    last_act: dict[str, datetime] = field(default_factory=dict)
    """Each person's latest event on the mention."""


@dataclass
class Plan:
    """What a check should do for one mention."""

    wake: bool = False
    expire: bool = False
    idle_since: datetime | None = None
    """For an expiry: the owner's last action (or the claim), told in the thread."""
    steps: list[Step] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.wake or self.expire or bool(self.steps)


def timeline(mention: Mention, events: Sequence[Event]) -> Timeline:
    """Read the timers' starting points and the snoozed intervals from the events, oldest first."""
    line = Timeline(unclaimed_since=mention.heard_at, open_since=mention.heard_at)
    snooze: tuple[datetime, datetime] | None = None
    for event in events:
        if event.kind in (EventKind.UNCLAIMED, EventKind.CLAIM_EXPIRED, EventKind.REOPENED, EventKind.UNMUTED):
            line.unclaimed_since = event.at
        if event.kind in (EventKind.REOPENED, EventKind.UNMUTED):  # a muted mention's clock starts with its card
            line.open_since = event.at
        if event.kind == EventKind.REPLIED:
            line.last_reply = event.at
        if event.kind in (EventKind.SNOOZED, EventKind.UNSNOOZED, EventKind.RESOLVED):
            if snooze:  # a new snooze, a wake or a resolve ends the one before
                line.paused.append((snooze[0], min(snooze[1], event.at)))
            snooze = (
                (event.at, datetime.fromisoformat(event.data["until"])) if event.kind == EventKind.SNOOZED else None
            )
        if event.actor:
            line.last_act[event.actor] = event.at
    if snooze:
        line.paused.append(snooze)
    return line


@dataclass(frozen=True)
class Timer:
    """A target whose clock runs: "claim", "reply" or "resolve", counted from `start`."""

    name: str
    start: datetime
    limit: timedelta


def running_timers(mention: Mention, line: Timeline, targets: SlaTargets) -> list[Timer]:
    """The targets running for an open, awake mention; the reminders, the Home tab and the weekly summary read these."""
    timers = []
    owner, claimed_at = mention.owner_id, mention.claimed_at
    if owner is None:
        timers.append(Timer("claim", line.unclaimed_since, targets.claim_within))
    elif claimed_at and targets.reply_within:
        # A reopened mention keeps its owner, who owes the customer an answer to what reopened it.
        reply_from = max(claimed_at, line.open_since)
        if line.last_reply is None or line.last_reply < reply_from:
            timers.append(Timer("reply", reply_from, targets.reply_within))
    if targets.resolve_within:
        timers.append(Timer("resolve", line.open_since, targets.resolve_within))
    return timers


@dataclass(frozen=True)
class Standing:
    """How an open mention stands against its SLA, as the Home tab shows it."""

    target: str | None
    """The target due soonest ("claim", "reply" or "resolve"); None while snoozed."""
    left: timedelta = timedelta(0)
    """Counted time left to meet it; negative once it is missed."""
    snoozed_until: datetime | None = None
    business_time: bool = False
    """`left` counts only business hours."""


def standing(mention: Mention, events: Sequence[Event], sla: Sla, now: datetime) -> Standing | None:
    """The timer the reminders will act on next, counted as they count it; None when no timer runs."""
    if mention.status != MentionStatus.OPEN:
        return None
    if mention.snoozed_until and mention.snoozed_until > now:
        return Standing(target=None, snoozed_until=mention.snoozed_until)
    if not sla.enabled or mention.storm_id is not None:
        return None
    line = timeline(mention, events)
    timers = running_timers(mention, line, sla.targets(mention.urgency))
    if not timers:
        return None
    left = {
        timer.name: timer.limit - counted(timer.start, now, sla.business_hours, sla.timezone, paused=line.paused)
        for timer in timers
    }
    target = min(left, key=lambda name: left[name])
    return Standing(target=target, left=left[target], business_time=sla.business_hours is not None)


def pings(config: Config, channel: str) -> tuple[str | None, str | None]:
    """The user group and lead for mentions in `channel`: its routes' own, else `[sla]`'s."""
    routes = [route for route in config.routes if route.channel == channel]
    group = next((route.usergroup for route in routes if route.usergroup), None) or config.sla.usergroup
    lead = next((route.lead for route in routes if route.lead), None) or config.sla.lead
    return group, lead


def plan(
    mention: Mention,
    events: Sequence[Event],
    escalations: Sequence[Escalation],
    config: Config,
    now: datetime,
    *,
    done: Collection[str] = (),
) -> Plan:
    """What is due for an open mention now; steps whose key is in `done` were taken already."""
    sla = config.sla
    if mention.status != MentionStatus.OPEN or mention.storm_id is not None:
        return Plan()  # a storm is handled as a whole; its mentions are not nagged one by one
    if mention.snoozed_until and mention.snoozed_until > now:
        return Plan()
    line = timeline(mention, events)

    def since(start: datetime) -> timedelta:
        return counted(start, now, sla.business_hours, sla.timezone, paused=line.paused)

    result = Plan(wake=mention.snoozed_until is not None)
    owner, claimed_at = mention.owner_id, mention.claimed_at
    if owner and claimed_at and sla.claim_expires:
        idle_since = max(claimed_at, line.last_act.get(owner, claimed_at))
        if since(idle_since) >= sla.claim_expires:
            result.expire, result.idle_since = True, idle_since
            return result  # its other timers start again from the expiry
    group, lead = pings(config, mention.channel)
    who = {"user": owner} if owner else ({"usergroup": group} if group else {})
    # For the note to say what the wait was: counted in business hours, and from when (for an "ago").
    told = {"business_time": True} if sla.business_hours else {}
    steps: list[Step] = []
    for timer in running_timers(mention, line, sla.targets(mention.urgency)):
        waited, told_since = since(timer.start), {**told, "since": timer.start.isoformat()}
        if timer.name == "claim":
            steps += _claim_step(sla, waited, timer, group, lead, told_since)
        else:
            reopened = {"reopened": True} if timer.name == "reply" and timer.start != claimed_at else {}
            steps += _timer(timer, waited, {**who, **reopened, **told_since})
    for escalation in escalations:
        steps += _reping(escalation, since, sla.reping_every, told)
    result.steps = [step for step in steps if step.key not in done]
    return result


def _claim_step(
    sla: Sla, waited: timedelta, timer: Timer, group: str | None, lead: str | None, told: dict[str, Any]
) -> list[Step]:
    """The highest level reached whose recipient is configured; levels with nobody to ping are skipped.
    At `claim_within` the thread asks, at `group_after` times it the user group is pinged, at `lead_after` the lead."""
    levels: list[tuple[int, float, dict[str, str] | None]] = [
        (3, sla.lead_after, {"user": lead} if lead else None),
        (2, sla.group_after, {"usergroup": group} if group else None),
        (1, 1.0, {}),
    ]
    for level, factor, recipient in levels:
        after = timer.limit * factor
        if recipient is None or waited < after:
            continue
        if waited >= after + NEWS_FOR:
            return []
        data = {"step": "claim", "level": level, "after": after.total_seconds(), **recipient, **told}
        return [Step(key=f"claim:{level}:{timer.start.isoformat()}", label=f"claim {level}", data=data)]
    return []


def _timer(timer: Timer, waited: timedelta, data: dict[str, Any]) -> list[Step]:
    if not timer.limit <= waited < timer.limit + NEWS_FOR:
        return []
    data = {"step": timer.name, "after": timer.limit.total_seconds(), **data}
    return [Step(key=f"{timer.name}:{timer.start.isoformat()}", label=timer.name, data=data)]


def _reping(
    escalation: Escalation, since: Callable[[datetime], timedelta], every: timedelta, told: dict[str, Any]
) -> list[Step]:
    """Every `every` of an escalation left unacknowledged, its team is pinged again; once acknowledged,
    every `every` the acknowledger is, for as long as the mention stays open."""
    if escalation.acknowledged_by and escalation.acknowledged_at:
        name, start, recipient = "acknowledged", escalation.acknowledged_at, {"user": escalation.acknowledged_by}
    else:
        name, start = "escalation", escalation.escalated_at
        recipient = {"usergroup": escalation.usergroup} if escalation.usergroup else {}
    times = int(since(start) / every)
    if times < 1:
        return []
    data = {
        "step": name,
        "escalation_id": escalation.id,
        "team": escalation.team,
        "after": (every * times).total_seconds(),
        "since": start.isoformat(),
        **recipient,
        **told,
    }
    return [Step(key=f"{name}:{escalation.id}:{times}", label=name, data=data, escalation=escalation)]


def check(engine: Engine, config: Config, *, now: datetime | None = None) -> list[Done]:
    """Take every SLA step that is due; each mention in its own transaction, so one failure stops no other."""
    now = now or utcnow()
    taken: list[Done] = []
    for mention, todo in due(engine, config, now=now):
        taken += carry_out(engine, config, mention, todo, now=now)
    taken += remind_storms(engine, config, now)
    prometheus.reminders_sent(taken)
    return taken


def due(engine: Engine, config: Config, *, now: datetime) -> list[tuple[Mention, Plan]]:
    """What each open mention needs, as all were read at once; `carry_out` reads each again before acting."""
    with read_scope(engine) as session:
        mentions, events, escalations, done = _work(
            session,
            col(Mention.status) == MentionStatus.OPEN,
            col(Mention.storm_id).is_(None),
        )
    plans = []
    for mention in mentions:
        assert mention.id is not None
        todo = plan(
            mention,
            events.get(mention.id, []),
            escalations.get(mention.id, []),
            config,
            now,
            done=done.get(mention.id, set()),
        )
        if todo:
            plans.append((mention, todo))
    return plans


def carry_out(engine: Engine, config: Config, mention: Mention, todo: Plan, *, now: datetime) -> list[Done]:
    """Take one mention's planned steps in a transaction of its own; a failure is logged, and tried next time."""
    try:
        with session_scope(engine) as session:
            return _carry_out(session, config, mention, todo, now)
    except Exception:
        log.exception("SLA check of %s failed; it is checked again next time", mention.reference)
        return []


def _work(
    session: Session, *where: Any
) -> tuple[list[Mention], dict[int, list[Event]], dict[int, list[Escalation]], dict[int, set[str]]]:
    """The mentions `where` says with their events, escalations and the reminders already sent, in four queries."""
    statement = select(Mention).where(*where).order_by(col(Mention.id))
    mentions = list(session.exec(statement.execution_options(populate_existing=True)))
    events: dict[int, list[Event]] = {}
    # Rows, not ORM objects: an open backlog of tens of thousands has several events each, read every minute.
    event_rows = (
        core_select(col(Event.mention_id), col(Event.kind), col(Event.actor), col(Event.at), col(Event.data))
        .join(Mention)
        .where(*where)
    )
    for event in session.execute(event_rows.order_by(col(Event.id))):
        events.setdefault(event.mention_id, []).append(cast(Event, event))
    escalations: dict[int, list[Escalation]] = {}
    for escalation in session.exec(
        select(Escalation)
        .join(Mention)
        .where(*where)
        .order_by(col(Escalation.id))
        .execution_options(populate_existing=True)
    ):
        escalations.setdefault(escalation.mention_id, []).append(escalation)
    done: dict[int, set[str]] = {}
    for mention_id, key in session.exec(select(col(Nudge.mention_id), col(Nudge.key)).join(Mention).where(*where)):
        done.setdefault(mention_id, set()).add(key)
    return mentions, events, escalations, done


def _carry_out(session: Session, config: Config, mention: Mention, todo: Plan, now: datetime) -> list[Done]:
    assert mention.id is not None
    taken: list[Done] = []
    if (
        todo.wake
        and mention.snoozed_until
        and actions.snooze_ran_out(session, mention_id=mention.id, until=mention.snoozed_until, now=now)
    ):
        taken.append((mention.id, "awake"))
    if not (todo.expire or todo.steps) or not _lock_awake(session, mention.id, now):
        return taken
    # The plan was made from a read taken before any of the checks' transactions: under the row's lock, it is
    # made again from what is committed now, so an owner who replied meanwhile is neither expired nor reminded.
    [fresh], events, escalations, done = _work(session, col(Mention.id) == mention.id)
    todo = plan(
        fresh,
        events.get(mention.id, []),
        escalations.get(mention.id, []),
        config,
        now,
        done=done.get(mention.id, set()),
    )
    if todo.expire and fresh.owner_id and fresh.claimed_at and todo.idle_since:
        expired = actions.expire_claim(
            session,
            mention_id=mention.id,
            owner_id=fresh.owner_id,
            claimed_at=fresh.claimed_at,
            idle_since=todo.idle_since,
            now=now,
        )
        return taken + ([(mention.id, "expired")] if expired else [])
    for step in todo.steps:
        if step.escalation is not None and not _escalation_unchanged(session, step.escalation):
            continue
        if not first_to(session, mention.id, step.key, now):
            continue  # another process took this step
        event = append_event(session, mention.id, EventKind.NUDGED, None, now, refresh=False, **step.data)
        if step.escalation is None:
            enqueue(session, OutboxKind.THREAD_NOTE, mention_id=mention.id, channel=fresh.channel, event_id=event.id)
        else:
            channel = step.escalation.channel
            enqueue(session, OutboxKind.TEAM_ALERT_NOTE, mention_id=mention.id, channel=channel, event_id=event.id)
        taken.append((mention.id, step.label))
    return taken


def _lock_awake(session: Session, mention_id: int, now: datetime) -> bool:
    """Still open and awake: checked by a no-op update that also locks the row, so a claim, a reply or a
    snooze committing meanwhile is either seen by the plan made next or waits until the reminder is sent."""
    result = session.execute(
        update(Mention)
        .where(
            col(Mention.id) == mention_id,
            col(Mention.status) == MentionStatus.OPEN,
            or_(col(Mention.snoozed_until).is_(None), col(Mention.snoozed_until) <= now),
        )
        .values(status=MentionStatus.OPEN)
    )
    return rows_changed(result) == 1


def _escalation_unchanged(session: Session, escalation: Escalation) -> bool:
    """Acknowledged (or not) as when it was read, so nobody is asked to acknowledge what was just acknowledged."""
    acknowledged = (
        col(Escalation.acknowledged_by).is_(None)
        if escalation.acknowledged_by is None
        else col(Escalation.acknowledged_by) == escalation.acknowledged_by
    )
    result = session.execute(
        update(Escalation).where(col(Escalation.id) == escalation.id, acknowledged).values(team=col(Escalation.team))
    )
    return rows_changed(result) == 1
