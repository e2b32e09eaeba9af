"""SLA timers: who is reminded of what and when, each reminder once however many processes check.

A timer counts business time (`[sla] business_hours`, if set) from the moment its cycle started,
less the time the mention was snoozed. Each reminder is keyed by its step and that moment in the
`Nudge` table: the first process to insert the key sends it, and a new cycle (an unclaim, a
reopen, a new claim) has new keys, so it is reminded again.
"""

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from bot import actions
from bot.clock import utcnow
from bot.config import Config
from bot.db import read_scope, session_scope
from bot.mentions import append_event
from bot.models import Escalation, Event, EventKind, Mention, MentionStatus, Nudge, OutboxKind
from bot.outbox import enqueue
from bot.worktime import counted

log = logging.getLogger(__name__)

NEWS_FOR = timedelta(days=1)
"""A reminder whose moment passed longer ago than this (in counted time) is history, not news: after an
outage, or when the SLA is first switched on, an old backlog is not announced all at once."""
CLAIM_LEVELS = 3
"""At 1× `claim_within` the thread asks, at 2× the user group is pinged, at 3× the lead."""

Done = tuple[int, str]
"""A mention id and what was done for it: "claim 1", "reply", "escalation", "expired", "awake"…"""


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
    steps: list[Step] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.wake or self.expire or bool(self.steps)


def timeline(mention: Mention, events: Sequence[Event]) -> Timeline:
    """Read the timers' starting points and the snoozed intervals from the events, oldest first."""
    line = Timeline(unclaimed_since=mention.heard_at, open_since=mention.heard_at)
    snooze: tuple[datetime, datetime] | None = None
    for event in events:
        if event.kind in (EventKind.UNCLAIMED, EventKind.CLAIM_EXPIRED, EventKind.REOPENED):
            line.unclaimed_since = event.at
        if event.kind == EventKind.REOPENED:
            line.open_since = event.at
        if event.kind == EventKind.REPLIED:
            line.last_reply = event.at
        if event.kind in (EventKind.SNOOZED, EventKind.UNSNOOZED):
            if snooze:  # a new snooze or a wake ends the one before
                line.paused.append((snooze[0], min(snooze[1], event.at)))
            snooze = (
                (event.at, datetime.fromisoformat(event.data["until"])) if event.kind == EventKind.SNOOZED else None
            )
        if event.actor:
            line.last_act[event.actor] = event.at
    if snooze:
        line.paused.append(snooze)
    return line


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
            result.expire = True
            return result  # its other timers start again from the expiry
    targets = sla.targets(mention.urgency)
    group, lead = pings(config, mention.channel)
    steps: list[Step] = []
    if owner is None:
        steps += _claim_step(since(line.unclaimed_since), line.unclaimed_since, targets.claim_within, group, lead)
    if owner and claimed_at and targets.reply_within and (line.last_reply is None or line.last_reply < claimed_at):
        steps += _timer("reply", claimed_at, since(claimed_at), targets.reply_within, {"user": owner})
    if targets.resolve_within:
        who = {"user": owner} if owner else ({"usergroup": group} if group else {})
        steps += _timer("resolve", line.open_since, since(line.open_since), targets.resolve_within, who)
    for escalation in escalations:
        steps += _reping(escalation, since, sla.reping_every)
    result.steps = [step for step in steps if step.key not in done]
    return result


def _claim_step(
    waited: timedelta, start: datetime, limit: timedelta, group: str | None, lead: str | None
) -> list[Step]:
    """The highest level reached whose recipient is configured; levels with nobody to ping are skipped."""
    recipients: list[dict[str, str] | None] = [
        {},
        {"usergroup": group} if group else None,
        {"user": lead} if lead else None,
    ]
    for level in range(CLAIM_LEVELS, 0, -1):
        recipient, after = recipients[level - 1], limit * level
        if recipient is None or waited < after:
            continue
        if waited >= after + NEWS_FOR:
            return []
        data = {"step": "claim", "level": level, "after": after.total_seconds(), **recipient}
        return [Step(key=f"claim:{level}:{start.isoformat()}", label=f"claim {level}", data=data)]
    return []


def _timer(name: str, start: datetime, waited: timedelta, limit: timedelta, recipient: dict[str, str]) -> list[Step]:
    if not limit <= waited < limit + NEWS_FOR:
        return []
    data = {"step": name, "after": limit.total_seconds(), **recipient}
    return [Step(key=f"{name}:{start.isoformat()}", label=name, data=data)]


def _reping(escalation: Escalation, since: Callable[[datetime], timedelta], every: timedelta) -> list[Step]:
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
        **recipient,
    }
    return [Step(key=f"{name}:{escalation.id}:{times}", label=name, data=data, escalation=escalation)]


def check(engine: Engine, config: Config, *, now: datetime | None = None) -> list[Done]:
    """Take every SLA step that is due; each mention in its own transaction, so one failure stops no other."""
    now = now or utcnow()
    with read_scope(engine) as session:
        mentions, events, escalations, done = _open_work(session)
    taken: list[Done] = []
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
        if not todo:
            continue
        try:
            with session_scope(engine) as session:
                taken += _carry_out(session, mention, todo, now)
        except Exception:
            log.exception("SLA check of %s failed; it is checked again next time", mention.reference)
    return taken


def _open_work(
    session: Session,
) -> tuple[list[Mention], dict[int, list[Event]], dict[int, list[Escalation]], dict[int, set[str]]]:
    """Open mentions with their events, escalations and the reminders already sent, in four queries."""
    is_open = (Mention.status == MentionStatus.OPEN, Mention.storm_id.is_(None))  # type: ignore[union-attr]
    mentions = list(session.exec(select(Mention).where(*is_open).order_by(Mention.id)))  # type: ignore[arg-type]
    events: dict[int, list[Event]] = {}
    for event in session.exec(select(Event).join(Mention).where(*is_open).order_by(Event.id)):  # type: ignore[arg-type]
        events.setdefault(event.mention_id, []).append(event)
    escalations: dict[int, list[Escalation]] = {}
    for escalation in session.exec(select(Escalation).join(Mention).where(*is_open).order_by(Escalation.id)):  # type: ignore[arg-type]
        escalations.setdefault(escalation.mention_id, []).append(escalation)
    done: dict[int, set[str]] = {}
    for mention_id, key in session.exec(select(Nudge.mention_id, Nudge.key).join(Mention).where(*is_open)):
        done.setdefault(mention_id, set()).add(key)
    return mentions, events, escalations, done


def _carry_out(session: Session, mention: Mention, todo: Plan, now: datetime) -> list[Done]:
    assert mention.id is not None
    taken: list[Done] = []
    if todo.wake and mention.snoozed_until:
        if actions.snooze_ran_out(session, mention_id=mention.id, until=mention.snoozed_until, now=now):
            taken.append((mention.id, "awake"))
    if todo.expire and mention.owner_id and mention.claimed_at:
        if actions.expire_claim(
            session, mention_id=mention.id, owner_id=mention.owner_id, claimed_at=mention.claimed_at, now=now
        ):
            taken.append((mention.id, "expired"))
        return taken
    if not todo.steps or not _unchanged(session, mention, now):
        return taken
    for step in todo.steps:
        if step.escalation is not None and not _escalation_unchanged(session, step.escalation):
            continue
        if not _first_to(session, mention.id, step.key, now):
            continue  # another process took this step
        event = append_event(session, mention.id, EventKind.NUDGED, None, now, refresh=False, **step.data)
        if step.escalation is None:
            enqueue(session, OutboxKind.THREAD_NOTE, mention_id=mention.id, channel=mention.channel, event_id=event.id)
        else:
            channel = step.escalation.channel
            enqueue(session, OutboxKind.TEAM_ALERT_NOTE, mention_id=mention.id, channel=channel, event_id=event.id)
        taken.append((mention.id, step.label))
    return taken


def _unchanged(session: Session, mention: Mention, now: datetime) -> bool:
    """Still open, owned as when it was read, and awake: checked by a no-op update that also locks the row,
    so a claim or a snooze committing meanwhile cannot slip in between."""
    owner = (
        (Mention.owner_id.is_(None),)  # type: ignore[union-attr]
        if mention.owner_id is None
        else (Mention.owner_id == mention.owner_id, Mention.claimed_at == mention.claimed_at)
    )
    result = session.execute(
        update(Mention)
        .where(
            Mention.id == mention.id,
            Mention.status == MentionStatus.OPEN,
            or_(Mention.snoozed_until.is_(None), Mention.snoozed_until <= now),  # type: ignore[union-attr,operator]
            *owner,
        )
        .values(status=MentionStatus.OPEN)
    )
    return result.rowcount == 1


def _escalation_unchanged(session: Session, escalation: Escalation) -> bool:
    """Acknowledged (or not) as when it was read, so nobody is asked to acknowledge what was just acknowledged."""
    acknowledged = (
        Escalation.acknowledged_by.is_(None)  # type: ignore[union-attr]
        if escalation.acknowledged_by is None
        else Escalation.acknowledged_by == escalation.acknowledged_by
    )
    result = session.execute(
        update(Escalation).where(Escalation.id == escalation.id, acknowledged).values(team=Escalation.team)
    )
    return result.rowcount == 1


def _first_to(session: Session, mention_id: int, key: str, now: datetime) -> bool:
    """Record the step; False when it was recorded already (a concurrent one waits for the first to commit)."""
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    statement = (
        dialect.insert(Nudge)
        .values(mention_id=mention_id, key=key, at=now)
        .on_conflict_do_nothing(index_elements=["mention_id", "key"])
        .returning(Nudge.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None
