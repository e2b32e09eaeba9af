"""Whether a mention met its SLA targets, its clocks replayed from its events as the reminders run them
(`bot.act.sla.timers`); and each resolved mention's verdicts recorded once its timers stopped, so the weekly
summary counts them instead of replaying a busy week's tens of thousands of histories.

A resolve stops every clock, and until a reopen nothing else starts one: the verdicts a mention had at its last
resolve are those of any later moment it stayed resolved. They are recorded with that moment and with what they
depend on in `[sla]` (`fingerprint`); a reopen clears them (`bot.ground.mentions.reopen_resolved`), and a summary
replays any mention whose record is missing, later than its week, or made under other targets.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from hashlib import sha256
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import Connection, Engine, Row, bindparam, case, select, update
from sqlmodel import col

from bot.act.sla.timers import running_timers, timeline
from bot.act.sla.worktime import counted
from bot.ground.config import Sla, SlaTargets
from bot.ground.config_types import Urgency
from bot.ground.db import UTCDateTime, among, session_scope
from bot.ground.models import Event, EventKind, Mention, MentionStatus

TARGETS = ("claim", "reply", "resolve")
"""Each `bot.act.sla.timers` timer by name."""
CLOCK_EVENTS = [
    kind.value
    for kind in (
        EventKind.CLAIMED,
        EventKind.UNCLAIMED,
        EventKind.CLAIM_EXPIRED,
        EventKind.REPLIED,
        EventKind.RESOLVED,
        EventKind.REOPENED,
        EventKind.SNOOZED,
        EventKind.UNSNOOZED,
    )
]
OTHER_EVENTS = [kind.value for kind in EventKind if kind.value not in CLOCK_EVENTS]
"""Left out by name: a filter on the mention's events, where eight kinds to keep made PostgreSQL probe an
index eight times per mention, or read the whole table."""
# Which timers an event stops: the first set as done (met if in time), the second cut short (only a late one counts).
_STOPS: dict[str, tuple[set[str], set[str]]] = {
    EventKind.CLAIMED: ({"claim"}, set()),
    EventKind.REPLIED: ({"reply"}, set()),
    EventKind.RESOLVED: (set(TARGETS), set()),
    EventKind.UNCLAIMED: (set(), {"reply"}),
    EventKind.CLAIM_EXPIRED: (set(), {"reply"}),
}
_CHANGES = (EventKind.RESOLVED, EventKind.REOPENED)
BATCH = 900
"""Mentions whose events one statement reads on SQLite: under its oldest limit on parameters (999)."""
RECORDED_AT_ONCE = 5000
"""Resolved mentions judged by one run of the job: after an upgrade, a year's are recorded over a few hours."""
UNRECORDABLE = ""
"""Recorded for a resolved mention whose history does not end with a resolve (nothing to record): it matches no
`fingerprint`, so summaries replay it, and the job does not take it up again."""


class Heard(Protocol):
    """What a replay reads of the mention itself."""

    @property
    def heard_at(self) -> datetime: ...
    @property
    def urgency(self) -> str: ...


def fingerprint(sla: Sla, urgency: str) -> str:
    """What a mention's verdicts depend on in `[sla]`, for its urgency: its targets, the business hours, the zone."""
    targets = sla.targets(urgency)
    hours = sla.business_hours
    office = None if hours is None else (hours.start.isoformat(), hours.end.isoformat(), sorted(hours.weekdays))
    limits = [targets.claim_within, targets.reply_within, targets.resolve_within]
    return sha256(repr((limits, office, sla.timezone)).encode()).hexdigest()[:16]


def fingerprints(sla: Sla) -> Any:
    """`fingerprint` of each mention's own urgency, in SQL."""
    return case(*((col(Mention.urgency) == urgency.value, fingerprint(sla, urgency)) for urgency in Urgency))


def clock_events(connection: Connection, ids: Sequence[int], *where: Any) -> defaultdict[int, list[Event]]:
    """These mentions' clock events in order (as rows: what a replay reads), a statement per `of_mentions` condition."""
    events: defaultdict[int, list[Event]] = defaultdict(list)
    snooze_data = case((col(Event.kind) == EventKind.SNOOZED, col(Event.data))).label("data")
    for batch in of_mentions(ids, connection.dialect.name):
        for event in connection.execute(
            select(col(Event.mention_id), col(Event.kind), col(Event.actor), col(Event.at), snooze_data)
            .where(batch, col(Event.kind).not_in(OTHER_EVENTS), *where)
            .order_by(col(Event.mention_id), col(Event.at), col(Event.id))
        ).all():
            events[event.mention_id].append(cast(Event, event))
    return events


def of_mentions(ids: Sequence[int], dialect: str) -> list[Any]:
    """Conditions on the events of these mentions: on PostgreSQL one, the ids an array (`among`); else `BATCH`
    mentions each."""
    if dialect == "postgresql":
        return [among(col(Event.mention_id), ids, dialect)] if ids else []
    return [col(Event.mention_id).in_(ids[index : index + BATCH]) for index in range(0, len(ids), BATCH)]


def judged(
    began: datetime, stop: datetime, limit: timedelta, done: bool, sla: Sla, paused: list[tuple[datetime, datetime]]
) -> bool | None:
    """A clock that ran from `began` to `stop`: missed if it ran out, met if `done` in time, else undecided."""
    if stop - began < limit:  # counted time is never more than the time that passed
        return True if done else None
    waited = counted(began, stop, sla.business_hours, sla.timezone, paused=paused)
    if waited > limit or (waited == limit and not done):
        return False
    return True if done else None


class _AsItStood(NamedTuple):
    """What `bot.act.sla.timers.timeline` and `running_timers` read of a mention: when it was heard, who owned it then.
    Building a `Mention` for each step instead made a busy week's summary take a minute."""

    heard_at: datetime
    owner_id: str | None
    claimed_at: datetime | None


def _could_run(targets: SlaTargets, owner: str | None, claimed_at: datetime | None) -> set[str]:
    """The timers `running_timers` can return for this owner and these targets, told without reading the
    events: most steps of most mentions stop no timer that runs, and the summary skips them."""
    could = {"claim"} if owner is None else {"reply"} if claimed_at and targets.reply_within else set()
    return could | {"resolve"} if targets.resolve_within else could


def replay(mention: Heard, events: Sequence[Event], sla: Sla, until: datetime) -> dict[str, bool]:
    """Whether the mention met each of its targets that came due by `until`, reading its events in order."""
    targets = sla.targets(mention.urgency)
    verdicts: dict[str, bool] = {}
    owner: str | None = None
    claimed_at: datetime | None = None
    is_open = True

    def settle(events_before: Sequence[Event], stop: datetime, done: set[str], cut: set[str]) -> None:
        """The running timers that stop at `stop`: any that ran out is missed, one `done` in time is met."""
        if not is_open or not (done | cut) & _could_run(targets, owner, claimed_at):
            return
        # The mention as it stood then: whoever owned it is what decides which timers ran.
        then = cast(Mention, _AsItStood(mention.heard_at, owner, claimed_at))
        line = timeline(then, events_before)
        for timer in running_timers(then, line, targets):
            if timer.name not in done | cut:
                continue
            verdict = judged(timer.start, stop, timer.limit, timer.name in done, sla, line.paused)
            if verdict is False:
                verdicts[timer.name] = False
            elif verdict:
                verdicts.setdefault(timer.name, True)

    for index, event in enumerate(events):
        if event.kind in _STOPS:
            settle(events[:index], event.at, *_STOPS[event.kind])
        if event.kind == EventKind.CLAIMED:
            owner, claimed_at = event.actor, event.at
        elif event.kind in (EventKind.UNCLAIMED, EventKind.CLAIM_EXPIRED):
            owner, claimed_at = None, None
        elif event.kind in (EventKind.RESOLVED, EventKind.REOPENED):
            is_open = event.kind == EventKind.REOPENED
    settle(events, until, set(), set(TARGETS))
    return verdicts


def record_verdicts(engine: Engine, sla: Sla, *, limit: int = RECORDED_AT_ONCE) -> int:
    """Record the verdicts of up to `limit` resolved mentions that have none (just resolved, or from before the
    records were kept); how many. Run every minute: a summary replays what is not recorded yet, so it is never
    wrong, only slower. Each record is written only if the mention is still resolved as it was read (a reopen and
    a resolve meanwhile leave it to the next run)."""
    with session_scope(engine) as session:
        connection = session.connection()
        unrecorded = connection.execute(
            select(col(Mention.id), col(Mention.heard_at), col(Mention.urgency), col(Mention.resolved_at))
            .where(col(Mention.status) == MentionStatus.RESOLVED, col(Mention.sla_judged_at).is_(None))
            .order_by(col(Mention.id))
            .limit(limit)
        ).all()
        if not unrecorded:
            return 0
        events = clock_events(connection, [mention.id for mention in unrecorded])
        connection.execute(
            update(Mention)
            .where(
                col(Mention.id) == bindparam("mention_id"),
                col(Mention.status) == MentionStatus.RESOLVED,
                col(Mention.sla_judged_at).is_(None),
                col(Mention.resolved_at).is_not_distinct_from(bindparam("as_read", type_=UTCDateTime)),
            )
            .values(
                sla_judged_at=bindparam("judged_at", type_=UTCDateTime),
                sla_judged_for=bindparam("judged_for"),
                sla_claim_met=bindparam("claim"),
                sla_reply_met=bindparam("reply"),
                sla_resolve_met=bindparam("resolve"),
            ),
            [_record(mention, events[mention.id], sla) for mention in unrecorded],
        )
    return len(unrecorded)


def _record(
    mention: Row[int | None, datetime, str, datetime | None], events: Iterable[Event], sla: Sla
) -> dict[str, Any]:
    """The mention's verdicts as of its last resolve, or `UNRECORDABLE` if its history does not end with one."""
    history = list(events)
    last = next((event for event in reversed(history) if event.kind in _CHANGES), None)
    found = {"mention_id": mention.id, "as_read": mention.resolved_at}
    if last is None or last.kind != EventKind.RESOLVED:
        empty = dict.fromkeys(TARGETS)
        return {**found, "judged_at": mention.resolved_at or mention.heard_at, "judged_for": UNRECORDABLE, **empty}
    verdicts = replay(mention, history, sla, last.at)
    return {
        **found,
        "judged_at": last.at,
        "judged_for": fingerprint(sla, mention.urgency),
        **{target: verdicts.get(target) for target in TARGETS},
    }
