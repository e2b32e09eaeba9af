"""The weekly summary's shares within SLA, each target's clock run as the reminders run it (`bot.sla`)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Row, case, select
from sqlmodel import Session

from bot.config import Sla, SlaTargets
from bot.figures import Share
from bot.models import Event, EventKind, Mention, MentionStatus
from bot.sla import running_timers, timeline
from bot.worktime import counted

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
"""Each `bot.sla` timer by the name the summary shows."""
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

    Each target's clock runs as the reminders run it (`bot.sla.running_timers`): to claim, from when
    the mention was last left unclaimed (heard, unclaimed, its claim expired, reopened); to reply, from
    the owner's claim or a reopening, until they answer; to resolve, from when it was last opened.
    Snoozed time does not count, and only `[sla] business_hours` do when set. A target is missed when
    one of its clocks ran out; met when every clock of it that came due stopped in time (a resolve
    stops them all); a mention whose clocks still have time counts in neither. Storm members are
    reminded as one storm, not one by one, so they count in none.
    """
    heard = (
        Mention.heard_at >= start,
        Mention.heard_at < until,
        Mention.status != MentionStatus.JOINED,
        Mention.storm_id.is_(None),  # type: ignore[union-attr]
    )
    # Rows, not ORM objects: a busy week has tens of thousands of mentions, and only these columns are read.
    mentions = session.execute(select(Mention.id, Mention.heard_at, Mention.urgency).where(*heard)).all()
    events: defaultdict[int, list[Event]] = defaultdict(list)
    if mentions:
        ids = [mention.id for mention in mentions]
        snooze_data = case((Event.kind == EventKind.SNOOZED, Event.data)).label("data")
        for event in session.execute(
            select(Event.mention_id, Event.kind, Event.actor, Event.at, snooze_data)
            .join(Mention, Mention.id == Event.mention_id)
            .where(*heard, Event.kind.not_in(_OTHER_EVENTS), Event.at < until)  # type: ignore[attr-defined]
            # Redundant, but it lets PostgreSQL read just these mentions' stretch of the events' index.
            .where(Event.mention_id.between(min(ids), max(ids)))
            .order_by(Event.mention_id, Event.at, Event.id)
        ):
            events[event.mention_id].append(cast(Event, event))
    tally = {name: [0, 0] for name in _SHOWN.values()}
    for mention in mentions:
        for name, met in _verdicts(mention, events[mention.id], sla, until).items():
            tally[_SHOWN[name]][0] += met
            tally[_SHOWN[name]][1] += 1
    return {name: Share(*counts) for name, counts in tally.items() if counts[1]}


class _AsItStood(NamedTuple):
    """What `bot.sla.timeline` and `running_timers` read of a mention: when it was heard, who owned it then.
    Building a `Mention` for each step instead made a busy week's summary take a minute."""

    heard_at: datetime
    owner_id: str | None
    claimed_at: datetime | None


def _could_run(targets: SlaTargets, owner: str | None, claimed_at: datetime | None) -> set[str]:
    """The timers `running_timers` can return for this owner and these targets, told without reading the
    events: most steps of most mentions stop no timer that runs, and the summary skips them."""
    could = {"claim"} if owner is None else {"reply"} if claimed_at and targets.reply_within else set()
    return could | {"resolve"} if targets.resolve_within else could


def _verdicts(mention: Row[Any], events: Sequence[Event], sla: Sla, until: datetime) -> dict[str, bool]:
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
            if stop - timer.start < timer.limit:  # counted time is never more than the time that passed
                if timer.name in done:
                    verdicts.setdefault(timer.name, True)
                continue
            waited = counted(timer.start, stop, sla.business_hours, sla.timezone, paused=line.paused)
            if waited > timer.limit or (waited == timer.limit and timer.name not in done):
                verdicts[timer.name] = False
            elif timer.name in done:
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
