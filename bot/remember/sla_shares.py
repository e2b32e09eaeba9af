"""The weekly summary's shares within SLA, each target's clock run as the reminders run it (`bot.act.sla.timers`)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Row, and_, case, func, or_, select, type_coerce
from sqlmodel import Session, col

from bot.act.sla.timers import running_timers, timeline
from bot.act.sla.worktime import counted
from bot.ground.config import Sla, SlaTargets
from bot.ground.db import UTCDateTime
from bot.ground.models import Event, EventKind, Mention, MentionStatus
from bot.remember.figures import Share

_CLOCK_EVENTS = [
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
_OTHER_EVENTS = [kind.value for kind in EventKind if kind.value not in _CLOCK_EVENTS]
"""Left out by name: a filter on the mention's events, where eight kinds to keep made PostgreSQL probe an
index eight times per mention, or read the whole table."""
_SHOWN = {"claim": "claim", "reply": "reply", "resolve": "resolution"}
"""Each `bot.act.sla.timers` timer by the name the summary shows."""
# Which timers an event stops: the first set as done (met if in time), the second cut short (only a late one counts).
_STOPS: dict[str, tuple[set[str], set[str]]] = {
    EventKind.CLAIMED: ({"claim"}, set()),
    EventKind.REPLIED: ({"reply"}, set()),
    EventKind.RESOLVED: (set(_SHOWN), set()),
    EventKind.UNCLAIMED: (set(), {"reply"}),
    EventKind.CLAIM_EXPIRED: (set(), {"reply"}),
}


def within_sla(session: Session, sla: Sla, start: datetime, until: datetime) -> dict[str, Share]:
    """For each target, the mentions heard this week that met it, of those it has come due for.

    Each target's clock runs as the reminders run it (`bot.act.sla.timers.running_timers`): to claim, from when
    the mention was last left unclaimed (heard, unclaimed, its claim expired, reopened); to reply, from
    the owner's claim or a reopening, until they answer; to resolve, from when it was last opened.
    Snoozed time does not count, and only `[sla] business_hours` do when set. A target is missed when
    one of its clocks ran out; met when every clock of it that came due stopped in time (a resolve
    stops them all); a mention whose clocks still have time counts in neither. Storm members are
    reminded as one storm, not one by one, so they count in none.
    """
    tally = {name: [0, 0] for name in _SHOWN.values()}
    for verdicts in mention_verdicts(session, sla, start, until).values():
        for name, met in verdicts.items():
            tally[_SHOWN[name]][0] += met
            tally[_SHOWN[name]][1] += 1
    return {name: Share(*counts) for name, counts in tally.items() if counts[1]}


def mention_verdicts(
    session: Session, sla: Sla, start: datetime, until: datetime, *, replay_all: bool = False
) -> dict[int, dict[str, bool]]:
    """Each mention's verdicts (`within_sla`). Most histories are plain (one claim, no unclaim, reopen or
    snooze), so one aggregate row tells their clocks' start and stop; only the rest have their events read
    and replayed. `replay_all` replays every mention: the reference the shortcut is tested against."""
    heard = (
        col(Mention.heard_at) >= start,
        col(Mention.heard_at) < until,
        col(Mention.status) != MentionStatus.JOINED,
        col(Mention.storm_id).is_(None),
    )
    # Rows through Core, not the ORM: a busy week has tens of thousands of mentions, and the ORM's row handling
    # cost more than the query.
    connection = session.connection()
    mentions = connection.execute(
        select(col(Mention.id), col(Mention.heard_at), col(Mention.urgency)).where(*heard)
    ).all()
    if not mentions:
        return {}
    clock = (col(Event.kind).not_in(_OTHER_EVENTS), col(Event.at) < until)
    histories: dict[int, Row[Any]] = {}
    if not replay_all:
        # These mentions' stretch of the events' index, not joined to them: the few others in it (joined, in a
        # storm) cost less than the join did.
        ids = [mention.id for mention in mentions]
        span = col(Event.mention_id).between(min(ids), max(ids))
        statement = select(col(Event.mention_id), *_HISTORY).where(*clock, span).group_by(col(Event.mention_id))
        histories = {row.mention_id: row for row in connection.execute(statement).all()}  # one fetch, not one a row
    found: dict[int, dict[str, bool]] = {}
    replay = []
    targets = {urgency: sla.targets(urgency) for urgency in {mention.urgency for mention in mentions}}
    for mention in mentions:
        history = histories.get(mention.id)
        plain = None if replay_all else _plain_verdicts(mention, history, targets[mention.urgency], sla, until)
        if plain is None:
            replay.append(mention)
        else:
            found[mention.id] = plain
    events: defaultdict[int, list[Event]] = defaultdict(list)
    snooze_data = case((col(Event.kind) == EventKind.SNOOZED, col(Event.data))).label("data")
    for index in range(0, len(replay), _BATCH):
        batch = [mention.id for mention in replay[index : index + _BATCH]]
        for event in connection.execute(
            select(col(Event.mention_id), col(Event.kind), col(Event.actor), col(Event.at), snooze_data)
            .where(col(Event.mention_id).in_(batch), *clock)
            .order_by(col(Event.mention_id), col(Event.at), col(Event.id))
        ).all():
            events[event.mention_id].append(cast(Event, event))
    for mention in replay:
        found[mention.id] = _verdicts(mention, events[mention.id], sla, until)
    return found


_BATCH = 900
"""Mentions whose events one statement reads: under SQLite's oldest limit on parameters (999)."""


def _first(kind: EventKind) -> Any:
    return type_coerce(func.min(case((col(Event.kind) == kind, col(Event.at)))), UTCDateTime)


def _count(condition: Any) -> Any:
    return func.count(case((condition, 1)))


_HISTORY = (
    # Anything that restarts or pauses a clock, or a claim that leaves nobody owning it: replayed instead.
    _count(
        or_(
            col(Event.kind).in_(
                [
                    EventKind.UNCLAIMED,
                    EventKind.CLAIM_EXPIRED,
                    EventKind.REOPENED,
                    EventKind.SNOOZED,
                    EventKind.UNSNOOZED,
                ]
            ),
            and_(col(Event.kind) == EventKind.CLAIMED, col(Event.actor).is_(None)),
        )
    ).label("odd"),
    _count(col(Event.kind) == EventKind.CLAIMED).label("claims"),
    _count(col(Event.kind) == EventKind.RESOLVED).label("resolves"),
    _first(EventKind.CLAIMED).label("claimed_at"),
    _first(EventKind.REPLIED).label("replied_at"),
    _first(EventKind.RESOLVED).label("resolved_at"),
)
"""What a mention's clock events come to, enough to judge a plain history without reading the events."""


_HeardRow = Row[int | None, datetime, str]
"""A mention as `mention_verdicts` reads it: id, heard_at, urgency."""


def _plain_verdicts(
    mention: _HeardRow, history: Row[Any] | None, targets: SlaTargets, sla: Sla, until: datetime
) -> dict[str, bool] | None:
    """The verdicts `_verdicts` would find for a plain history, from its aggregate; None if it is not plain.

    Plain: nothing unclaims, reopens or snoozes it, at most one claim and one resolve, and the claim comes
    after it was heard and before any reply or resolve (so ties in time, which the order of ids would
    decide, never arise). Then the claim clock runs from hearing to the claim (or a resolve without
    one), the reply clock from the claim to the first reply or the resolve, the resolve clock from
    hearing to the resolve; a clock nothing stopped is judged at `until`.
    """
    claimed_at = replied_at = resolved_at = None
    if history is not None:
        if history.odd or history.claims > 1 or history.resolves > 1:
            return None
        claimed_at, replied_at, resolved_at = history.claimed_at, history.replied_at, history.resolved_at
    if claimed_at is not None and (
        claimed_at < mention.heard_at
        or (replied_at is not None and replied_at <= claimed_at)
        or (resolved_at is not None and resolved_at <= claimed_at)
    ):
        return None
    verdicts: dict[str, bool] = {}
    clocks: list[tuple[str, datetime, datetime | None, timedelta | None]] = [
        ("claim", mention.heard_at, claimed_at or resolved_at, targets.claim_within),
        ("resolve", mention.heard_at, resolved_at, targets.resolve_within),
    ]
    if claimed_at is not None:
        stops = [moment for moment in (replied_at, resolved_at) if moment is not None]
        clocks.append(("reply", claimed_at, min(stops, default=None), targets.reply_within))
    for name, began, stop, limit in clocks:
        if limit is None:
            continue
        verdict = _judged(began, stop or until, limit, stop is not None, sla, [])
        if verdict is not None:
            verdicts[name] = verdict
    return verdicts


def _judged(
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


def _verdicts(mention: _HeardRow, events: Sequence[Event], sla: Sla, until: datetime) -> dict[str, bool]:
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
            verdict = _judged(timer.start, stop, timer.limit, timer.name in done, sla, line.paused)
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
    settle(events, until, set(), set(_SHOWN))
    return verdicts
