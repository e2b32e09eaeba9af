"""The outbox: what the team must be told, committed in the same transaction as the change it reports.

Rows of one mention are delivered strictly in the order they were written: a row is due only when
every earlier row of its mention is sent (or has failed for good). So a thread note never lands
before its card, and card updates land in the order the changes happened, however many processes
drain the outbox. Slack's rows keep that order among themselves and each webhook receiver's among its
own (a lane each), so a receiver that is down holds back neither Slack nor another receiver. Each row
is leased with a conditional update, and every later change to it is fenced by that lease, so a
process whose lease ran out cannot overwrite what another did since.
"""

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from uuid import uuid4

from sqlalchemy import ColumnElement, and_, bindparam, exists, insert, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.ground.backoff import Backoff
from bot.ground.clock import utcnow
from bot.ground.db import rows_changed
from bot.ground.models import POSTING_KINDS, Outbox, OutboxKind, OutboxStatus

LEASE = timedelta(seconds=60)
RETRY = Backoff(first=timedelta(seconds=2), most=timedelta(minutes=5))
"""2s, 4s, 8s … after each failed attempt: an outage of any length loses nothing, and recovery is quick."""
_UNFINISHED = [OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]


# A Core insert runs at once, in the order rows are queued: building an `Outbox` and flushing it costs more.
_INSERT = insert(Outbox.__table__)  # type: ignore[attr-defined]
_HELD = "allears_outbox_held"
_HELD_WEBHOOKS = "allears_outbox_held_webhooks"


def enqueue(
    session: Session,
    kind: OutboxKind,
    *,
    mention_id: int,
    channel: str,
    event_id: int | None = None,
    spike_event_id: int | None = None,
) -> None:
    write_held(session)  # rows held back come first: the order rows are written in is the order they are sent in
    row = {"kind": str(kind), "mention_id": mention_id, "channel": channel, "event_id": event_id}
    if spike_event_id is not None:
        row["spike_event_id"] = spike_event_id
    session.execute(_INSERT, row)


def hold(session: Session, kind: OutboxKind, *, mention_id: int, channel: str) -> None:
    """`enqueue`, written later with the other rows held in one statement (a poll's cards: one round trip,
    not one a card). The next `enqueue` writes them first; whoever holds rows must `write_held` before commit."""
    row = {"kind": str(kind), "mention_id": mention_id, "channel": channel, "event_id": None}
    session.info.setdefault(_HELD, []).append(row)


def write_held(session: Session) -> None:
    for held in (_HELD, _HELD_WEBHOOKS):  # each list's rows have the same columns: one statement each
        rows = session.info.pop(held, None)
        if rows:
            session.execute(_INSERT, rows)


def enqueue_webhooks(
    session: Session,
    event: str,
    *,
    receivers: Sequence[int],
    mention_id: int,
    event_id: int | None = None,
    spike_event_id: int | None = None,
    held: bool = False,
) -> None:
    """A row for each receiver of `event`, all with one event id; `held`: written with the next `write_held`."""
    if not receivers:
        return
    event_key = f"evt_{uuid4().hex}"
    rows = [
        {
            "kind": str(OutboxKind.WEBHOOK),
            "mention_id": mention_id,
            "channel": None,
            "event_id": event_id,
            "spike_event_id": spike_event_id,
            "webhook_id": receiver,
            "webhook_event": event,
            "webhook_event_id": event_key,
        }
        for receiver in receivers
    ]
    if held:
        session.info.setdefault(_HELD_WEBHOOKS, []).extend(rows)
    else:
        write_held(session)
        session.execute(_INSERT, rows)


_EARLIER = aliased(Outbox)
# Built once: constructing these expressions costs more than running them.
_READY = or_(
    and_(col(Outbox.status) == OutboxStatus.PENDING, col(Outbox.not_before) <= bindparam("now")),
    and_(col(Outbox.status) == OutboxStatus.SENDING, col(Outbox.lease_until) < bindparam("now")),  # its sender died
)


def _first_in_lane(lane: ColumnElement[bool]) -> ColumnElement[bool]:
    """No earlier row of the mention in the same lane (Slack's, or one receiver's) is unfinished."""
    return ~exists().where(
        col(_EARLIER.mention_id) == col(Outbox.mention_id),
        col(_EARLIER.id) < col(Outbox.id),
        col(_EARLIER.status).in_(_UNFINISHED),
        lane,
    )


_DUE = (
    select(Outbox)
    .where(
        _READY,
        col(Outbox.webhook_id).is_(None),
        ~and_(
            col(Outbox.kind).in_([kind.value for kind in POSTING_KINDS]),
            col(Outbox.channel).in_(bindparam("hold", expanding=True)),
        ),
        _first_in_lane(col(_EARLIER.webhook_id).is_(None)),
    )
    .order_by(col(Outbox.id))
    .limit(1)
)
_DUE_WEBHOOK = (
    select(Outbox)
    .where(
        _READY,
        col(Outbox.webhook_id).is_not(None),
        col(Outbox.webhook_id).not_in(bindparam("hold", expanding=True)),
        _first_in_lane(col(_EARLIER.webhook_id) == col(Outbox.webhook_id)),
    )
    .order_by(col(Outbox.id))
    .limit(1)
)


def lease_next(
    session: Session, *, now: datetime | None = None, hold: Collection[str | int] = (), webhooks: bool = False
) -> Outbox | None:
    """Take the oldest due row for this process, or None when nothing is due.

    New messages to the channels in `hold` wait: they were posted to a moment ago. With `webhooks`, only
    webhook rows are taken, and `hold` names the receivers (ids) that are resting. Once every earlier row
    of a mention's lane is finished it stays finished, so only the row's own readiness needs checking
    again when it is leased.
    """
    now = now or utcnow()
    due = _DUE_WEBHOOK if webhooks else _DUE
    for _ in range(5):
        row = session.exec(due, params={"now": now, "hold": list(hold)}).first()
        if row is None:
            return None
        leased = session.execute(
            update(Outbox)
            .where(col(Outbox.id) == row.id, _READY)
            .values(status=OutboxStatus.SENDING, lease_until=now + LEASE, attempts=col(Outbox.attempts) + 1),
            {"now": now},
        )
        if rows_changed(leased) == 1:
            session.refresh(row)
            return row
    return None  # other processes keep winning the race; they will drain it


def release_abandoned(session: Session) -> int:
    """Make rows left mid-send due now rather than when their lease runs out: for a process that knows it
    is the only one (SQLite), whoever was sending them has died. A row that may have reached Slack is
    looked for before it is posted again, so this costs no duplicate."""
    released = session.execute(
        update(Outbox)
        .where(col(Outbox.status) == OutboxStatus.SENDING)
        .values(lease_until=utcnow() - timedelta(seconds=1))
    )
    return rows_changed(released)


def _settle(session: Session, row: Outbox, **values: object) -> bool:
    """Change a leased row if the lease is still ours; False when another process has taken it over."""
    result = session.execute(
        update(Outbox)
        .where(
            col(Outbox.id) == row.id,
            col(Outbox.status) == OutboxStatus.SENDING,
            col(Outbox.lease_until) == row.lease_until,
        )
        .values(lease_until=None, **values)
    )
    return rows_changed(result) == 1


def mark_sent(
    session: Session, row: Outbox, *, channel: str | None = None, ts: str | None = None, now: datetime | None = None
) -> bool:
    sent_at = now or utcnow()
    return _settle(session, row, status=OutboxStatus.SENT, sent_at=sent_at, channel=channel, ts=ts, last_error=None)


def mark_retry(
    session: Session,
    row: Outbox,
    *,
    delay: timedelta,
    error: str,
    count_attempt: bool = True,
    now: datetime | None = None,
) -> bool:
    attempts = row.attempts if count_attempt else row.attempts - 1
    return _settle(
        session,
        row,
        status=OutboxStatus.PENDING,
        not_before=(now or utcnow()) + delay,
        last_error=error[:2000],
        attempts=attempts,
    )


def mark_failed(session: Session, row: Outbox, *, error: str) -> bool:
    return _settle(session, row, status=OutboxStatus.FAILED, last_error=error[:2000])
