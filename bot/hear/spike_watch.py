"""The spike check the scheduler runs: count each scope's last hour and its past weeks, then open, grow or end
its spike, queueing at most one message a scope a check through the outbox.

Every decision is a conditional update of the spike's row (and, on PostgreSQL, taken under a lock on its
scope), so two processes checking at once never post two alerts for one spike nor tell one change twice.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.ground.clock import utcnow
from bot.ground.config import Config, SpikeRule
from bot.ground.db import read_scope, rows_changed, serialize, session_scope
from bot.ground.models import (
    Mention,
    MentionStatus,
    OutboxKind,
    Outcome,
    Spike,
    SpikeEvent,
    SpikeEventKind,
    WebhookEvent,
)
from bot.ground.outbox import enqueue
from bot.ground.webhooks import tell_webhooks
from bot.hear.spikes import HOUR, Step, Usual, new_words, next_step, past_hours, usual_of

log = logging.getLogger(__name__)
LISTED = 10
"""Mentions named in one alert or update; the rest are counted."""
_ALL = ""

# What a spike counts: every mention heard, but not a second copy of one post, nor what the relevance model
# muted or the team put away as spam or not relevant (another company's outage is no news of ours).
_COUNTED = (
    col(Mention.status).not_in([MentionStatus.JOINED, MentionStatus.MUTED]),
    or_(col(Mention.outcome).is_(None), col(Mention.outcome).not_in([Outcome.SPAM, Outcome.NOT_RELEVANT])),
)


@dataclass(frozen=True)
class Scope:
    name: str
    """A product's name, or "" for all mentions."""
    channel: str


def scopes(config: Config) -> list[Scope]:
    """All mentions, in the default channel, and each product, in its first route's channel (else the default)."""
    default = config.channels.default
    return [Scope(_ALL, default)] + [
        Scope(product.name, product.routes[0].channel if product.routes else default)
        for product in config.listen.products
    ]


def check_spikes(engine: Engine, config: Config, *, now: datetime | None = None) -> list[tuple[str, Step]]:
    """Check every scope; what was done (other than nothing), by scope. One failing scope stops no other."""
    now = now or utcnow()
    rule = config.spikes
    with read_scope(engine) as session:
        since = session.exec(select(func.min(Mention.heard_at))).one()
        hours = [(now - HOUR, now), *past_hours(now, weeks=rule.weeks, since=since)]
        counts = [_counts(session, start, end) for start, end in hours]
    done: list[tuple[str, Step]] = []
    for scope in scopes(config):
        recent, *past = (_of(scope, by_product) for by_product in counts)
        try:
            with session_scope(engine) as session:
                step = _check(session, scope, recent, usual_of(past), rule=rule, hours=hours, now=now)
        except IntegrityError:
            log.info("another process opened the spike of %s first", scope.name or "all mentions")
            continue
        except Exception:
            log.exception("the spike check for %s failed; trying again at the next one", scope.name or "all mentions")
            continue
        if step not in (Step.QUIET, Step.STAY):
            done.append((scope.name, step))
    return done


def _counts(session: Session, start: datetime, end: datetime) -> dict[str | None, int]:
    rows = session.exec(
        select(col(Mention.product), func.count())
        .where(col(Mention.heard_at) > start, col(Mention.heard_at) <= end, *_COUNTED)
        .group_by(col(Mention.product))
    ).all()
    return dict(rows)


def _of(scope: Scope, by_product: dict[str | None, int]) -> int:
    return sum(by_product.values()) if scope.name == _ALL else by_product.get(scope.name, 0)


def _check(
    session: Session,
    scope: Scope,
    count: int,
    usual: Usual | None,
    *,
    rule: SpikeRule,
    hours: Sequence[tuple[datetime, datetime]],
    now: datetime,
) -> Step:
    serialize(session, f"spike:{scope.name}")
    spike = session.exec(select(Spike).where(Spike.scope == scope.name, col(Spike.ended_at).is_(None))).first()
    step = next_step(count, usual, told=spike.told if spike else None, rule=rule)
    if step == Step.QUIET:
        return step
    if spike is None:
        assert usual is not None, "a spike starts only against a usual"
        return Step.START if _start(session, scope, count, usual, rule=rule, hours=hours, now=now) else Step.QUIET
    low, high = (usual.low, usual.high) if usual else (spike.low, spike.high)
    was, peak = spike.told, max(spike.peak, count)  # the update below refreshes `spike` itself
    changes: dict[str, object] = {"checked_at": now, "count": count, "peak": peak}
    changes |= {"low": low, "high": high}
    if step == Step.END:
        changes["ended_at"] = now
    elif step == Step.GROW:
        changes["told"] = count
    # Only the check that moves the row from what it read tells the team: a second process reads the new row.
    moved = session.execute(
        update(Spike)
        .where(col(Spike.id) == spike.id, col(Spike.told) == was, col(Spike.ended_at).is_(None))
        .values(**changes)
    )
    if rows_changed(moved) != 1 or step == Step.STAY:
        return Step.STAY
    kind = SpikeEventKind.ENDED if step == Step.END else SpikeEventKind.GREW
    data = {"count": count, "low": low, "high": high, "was": was, "peak": peak}
    _tell(session, spike, kind, data | _listed(session, scope, _last_told(session, spike), now), now=now)
    return step


def _start(
    session: Session,
    scope: Scope,
    count: int,
    usual: Usual,
    *,
    rule: SpikeRule,
    hours: Sequence[tuple[datetime, datetime]],
    now: datetime,
) -> bool:
    listed = _listed(session, scope, now - HOUR, now)
    if not listed["mentions"]:
        return False
    spike = Spike(
        scope=scope.name,
        channel=scope.channel,
        mention_id=listed["mentions"][0],
        started_at=now,
        checked_at=now,
        count=count,
        peak=count,
        told=count,
        low=usual.low,
        high=usual.high,
    )
    session.add(spike)
    session.flush()  # the open-spike index refuses a second one, whoever got there first
    local = now.astimezone(ZoneInfo(rule.timezone))
    data = {
        "count": count,
        "low": usual.low,
        "high": usual.high,
        "median": usual.median,
        "weeks": usual.weeks,
        "weekday": local.strftime("%A"),
        "time": local.strftime("%H:%M"),
        "words": new_words(_texts(session, scope, hours[:1]), _texts(session, scope, hours[1:])),
    }
    _tell(session, spike, SpikeEventKind.STARTED, data | listed, now=now)
    return True


def _tell(session: Session, spike: Spike, kind: SpikeEventKind, data: dict[str, object], *, now: datetime) -> None:
    assert spike.id is not None
    event = SpikeEvent(spike_id=spike.id, kind=kind, at=now, data=data)
    session.add(event)
    session.flush()
    outbox_kind = OutboxKind.SPIKE_ALERT if kind == SpikeEventKind.STARTED else OutboxKind.SPIKE_NOTE
    enqueue(session, outbox_kind, mention_id=spike.mention_id, channel=spike.channel, spike_event_id=event.id)
    if kind == SpikeEventKind.STARTED:
        tell_webhooks(session, WebhookEvent.SPIKE_STARTED, mention_id=spike.mention_id, spike_event_id=event.id)


def _last_told(session: Session, spike: Spike) -> datetime:
    last = session.exec(select(func.max(SpikeEvent.at)).where(SpikeEvent.spike_id == spike.id)).one()
    return last or spike.started_at


def _in_scope(scope: Scope) -> tuple[Any, ...]:
    return (*_COUNTED, col(Mention.product) == scope.name) if scope.name != _ALL else _COUNTED


def _listed(session: Session, scope: Scope, start: datetime, end: datetime) -> dict[str, Any]:
    """The newest mentions heard in the scope between `start` and `end`, by id, and how many more there were."""
    heard = select(col(Mention.id)).where(
        col(Mention.heard_at) > start, col(Mention.heard_at) <= end, *_in_scope(scope)
    )
    ids = session.exec(heard.order_by(col(Mention.heard_at).desc(), col(Mention.id).desc()).limit(LISTED)).all()
    total = session.exec(select(func.count()).select_from(heard.subquery())).one()
    return {"mentions": list(ids), "more": total - len(ids)}


def _texts(session: Session, scope: Scope, hours: Sequence[tuple[datetime, datetime]]) -> list[str]:
    texts: list[str] = []
    for start, end in hours:
        rows = session.exec(
            select(col(Mention.title), col(Mention.text)).where(
                col(Mention.heard_at) > start, col(Mention.heard_at) <= end, *_in_scope(scope)
            )
        ).all()
        texts += [f"{title}\n{text}" if title and title != text else text for title, text in rows]
    return texts
