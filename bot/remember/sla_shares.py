"""The weekly summary's shares within SLA, each target's clock run as the reminders run it (`bot.act.sla.timers`)."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, case, func, or_, select, type_coerce
from sqlmodel import Session, col

from bot.act.sla.verdicts import OTHER_EVENTS, TARGETS, clock_events, fingerprints, judged, of_mentions
from bot.act.sla.verdicts import replay as _verdicts
from bot.ground.config import Sla, SlaTargets
from bot.ground.db import UTCDateTime
from bot.ground.models import Event, EventKind, Mention, MentionStatus
from bot.remember.figures import Share

_SHOWN = {"claim": "claim", "reply": "reply", "resolve": "resolution"}
"""Each `bot.act.sla.timers` timer by the name the summary shows."""
_RECORDED = {
    "claim": col(Mention.sla_claim_met),
    "reply": col(Mention.sla_reply_met),
    "resolve": col(Mention.sla_resolve_met),
}


def within_sla(session: Session, sla: Sla, start: datetime, until: datetime) -> dict[str, Share]:
    """For each target, the mentions heard this week that met it, of those it has come due for.

    Each target's clock runs as the reminders run it (`bot.act.sla.timers.running_timers`): to claim, from when
    the mention was last left unclaimed (heard, unclaimed, its claim expired, reopened); to reply, from
    the owner's claim or a reopening, until they answer; to resolve, from when it was last opened.
    Snoozed time does not count, and only `[sla] business_hours` do when set. A target is missed when
    one of its clocks ran out; met when every clock of it that came due stopped in time (a resolve
    stops them all); a mention whose clocks still have time counts in neither. Storm members are
    reminded as one storm, not one by one, so they count in none. The verdicts recorded when a mention was
    resolved (`bot.act.sla.verdicts`) are counted as they are, in one statement; only the rest are judged here.
    """
    tally = {name: [0, 0] for name in _SHOWN.values()}
    connection = session.connection()
    recorded = [_RECORDED[target] for target in TARGETS]
    counts = select(*recorded, func.count()).where(*_heard(start, until), _recorded(sla, until)).group_by(*recorded)
    for *verdicts, count in connection.execute(counts):
        for target, met in zip(TARGETS, verdicts, strict=True):
            if met is not None:
                tally[_SHOWN[target]][0] += count * met
                tally[_SHOWN[target]][1] += count
    for judged_now in _judged_now(connection, sla, start, until, _unrecorded(sla, until)).values():
        for target, met in judged_now.items():
            tally[_SHOWN[target]][0] += met
            tally[_SHOWN[target]][1] += 1
    return {name: Share(*counts) for name, counts in tally.items() if counts[1]}


def mention_verdicts(
    session: Session, sla: Sla, start: datetime, until: datetime, *, replay_all: bool = False
) -> dict[int, dict[str, bool]]:
    """Each mention's verdicts (`within_sla`): as recorded, else from its events. Most histories are plain (one
    claim, no unclaim, reopen or snooze), so one aggregate row tells their clocks' start and stop; only the rest
    have their events read and replayed. `replay_all` replays every mention: the reference the records and the
    shortcut are tested against."""
    connection = session.connection()
    if replay_all:
        return _judged_now(connection, sla, start, until, replay_all=True)
    recorded = [_RECORDED[target] for target in TARGETS]
    found = {
        row.id: {target: met for target, met in zip(TARGETS, row[1:], strict=True) if met is not None}
        for row in connection.execute(
            select(col(Mention.id), *recorded).where(*_heard(start, until), _recorded(sla, until))
        )
    }
    return found | _judged_now(connection, sla, start, until, _unrecorded(sla, until))


def _heard(start: datetime, until: datetime) -> tuple[Any, ...]:
    """The mentions a week's shares count."""
    return (
        col(Mention.heard_at) >= start,
        col(Mention.heard_at) < until,
        col(Mention.status) != MentionStatus.JOINED,
        col(Mention.storm_id).is_(None),
    )


def _recorded(sla: Sla, until: datetime) -> Any:
    """Resolved before `until` and not reopened since, its verdicts recorded under these targets: as they stood then."""
    return and_(
        col(Mention.status) == MentionStatus.RESOLVED,
        col(Mention.sla_judged_at) < until,
        col(Mention.sla_judged_for) == fingerprints(sla),
    )


def _unrecorded(sla: Sla, until: datetime) -> Any:
    """Exactly the mentions `_recorded` leaves out (spelled out: NOT of a comparison with NULL is no row at all)."""
    return or_(
        col(Mention.status) != MentionStatus.RESOLVED,
        col(Mention.sla_judged_at).is_(None),
        col(Mention.sla_judged_at) >= until,
        col(Mention.sla_judged_for).is_distinct_from(fingerprints(sla)),
    )


def _judged_now(
    connection: Connection, sla: Sla, start: datetime, until: datetime, *where: Any, replay_all: bool = False
) -> dict[int, dict[str, bool]]:
    """The verdicts of the week's mentions `where` says, from their events."""
    # Rows through Core, not the ORM: a busy week has tens of thousands of mentions, and the ORM's row handling
    # cost more than the query.
    mentions = connection.execute(
        select(col(Mention.id), col(Mention.heard_at), col(Mention.urgency)).where(*_heard(start, until), *where)
    ).all()
    if not mentions:
        return {}
    clock = (col(Event.kind).not_in(OTHER_EVENTS), col(Event.at) < until)
    histories: dict[int, Row[Any]] = {}
    if not replay_all:
        ids = [mention.id for mention in mentions]
        # Most of a week (nothing recorded): these mentions' stretch of the events' index, not joined to them, as
        # the few others in it (joined, in a storm) cost less than the join did. A few in the stretch (the rest
        # recorded): theirs alone, which reads a tenth of the events.
        dense = 2 * len(ids) > max(ids) - min(ids)
        spans = (
            [col(Event.mention_id).between(min(ids), max(ids))] if dense else of_mentions(ids, connection.dialect.name)
        )
        for span in spans:
            statement = select(col(Event.mention_id), *_HISTORY).where(*clock, span).group_by(col(Event.mention_id))
            histories |= {row.mention_id: row for row in connection.execute(statement).all()}  # one fetch at once
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
    events = clock_events(connection, [mention.id for mention in replay], col(Event.at) < until)
    for mention in replay:
        found[mention.id] = _verdicts(mention, events[mention.id], sla, until)
    return found


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
        verdict = judged(began, stop or until, limit, stop is not None, sla, [])
        if verdict is not None:
            verdicts[name] = verdict
    return verdicts
