"""The outbox: what the team must be told, committed in the same transaction as the change it reports.

A deliverer leases one due row at a time with a conditional update, so several processes can drain
the same outbox without two of them sending the same row.
"""

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from bot.clock import utcnow
from bot.models import Outbox, OutboxKind, OutboxStatus

LEASE = timedelta(seconds=60)


def enqueue(session: Session, kind: OutboxKind, *, mention_id: int, event_id: int | None = None) -> None:
    if kind is OutboxKind.CARD_REFRESH and _refresh_pending(session, mention_id):
        return  # a pending refresh renders the latest state anyway
    session.add(Outbox(kind=kind, mention_id=mention_id, event_id=event_id))


def _refresh_pending(session: Session, mention_id: int) -> bool:
    statement = select(Outbox.id).where(
        Outbox.mention_id == mention_id, Outbox.kind == OutboxKind.CARD_REFRESH, Outbox.status == OutboxStatus.PENDING
    )
    return session.exec(statement.limit(1)).first() is not None


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(Outbox.status == OutboxStatus.PENDING, Outbox.not_before <= now),
        and_(Outbox.status == OutboxStatus.SENDING, Outbox.lease_until < now),  # its sender died
    )


def lease_next(session: Session, *, now: datetime | None = None) -> Outbox | None:
    """Take the oldest due row for this process, or None when nothing is due."""
    now = now or utcnow()
    for _ in range(5):
        row = session.exec(select(Outbox).where(_due(now)).order_by(Outbox.id).limit(1)).first()
        if row is None:
            return None
        leased = session.execute(
            update(Outbox)
            .where(Outbox.id == row.id, _due(now))
            .values(status=OutboxStatus.SENDING, lease_until=now + LEASE, attempts=Outbox.attempts + 1)
        )
        if leased.rowcount == 1:
            session.refresh(row)
            return row
    return None  # other processes keep winning the race; they will drain it


def mark_sent(session: Session, row_id: int, *, channel: str | None = None, ts: str | None = None) -> None:
    session.execute(
        update(Outbox)
        .where(Outbox.id == row_id)
        .values(status=OutboxStatus.SENT, sent_at=utcnow(), channel=channel, ts=ts, lease_until=None, last_error=None)
    )


def mark_retry(session: Session, row_id: int, *, delay: timedelta, error: str, count_attempt: bool = True) -> None:
    values: dict[str, object] = {
        "status": OutboxStatus.PENDING,
        "not_before": utcnow() + delay,
        "lease_until": None,
        "last_error": error[:2000],
    }
    if not count_attempt:
        values["attempts"] = Outbox.attempts - 1
    session.execute(update(Outbox).where(Outbox.id == row_id).values(**values))


def mark_failed(session: Session, row_id: int, *, error: str) -> None:
    session.execute(
        update(Outbox)
        .where(Outbox.id == row_id)
        .values(status=OutboxStatus.FAILED, lease_until=None, last_error=error[:2000])
    )


def backoff(attempts: int) -> timedelta:
    """2s, 4s, 8s … capped at 5 minutes: an outage of any length loses nothing, and recovery is quick."""
    return timedelta(seconds=min(300, 2 ** max(1, attempts)))
