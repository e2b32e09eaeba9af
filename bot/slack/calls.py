"""What delivering one outbox row comes to: a Web API call, or the reason the row can never be sent."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from bot.ground.models import Event, Mention, Outbox, OutboxKind, OutboxStatus

NO_UNFURL = {"unfurl_links": False, "unfurl_media": False}


@dataclass(frozen=True)
class Call:
    method: str
    args: dict[str, Any]


class Abandon(Exception):
    """The row can never be sent: the message it belongs under was never posted."""


class NotReady(Exception):
    """The row belongs under a message (a storm card, a digest) that another row has not posted yet."""


def failed_for_good(session: Session, kind: OutboxKind, on: ColumnElement[bool]) -> bool:
    """Whether the row that posts the message others thread under (`kind`, queued on a mention matching `on`)
    was refused for good: then they are posted without it, or abandoned, instead of waiting for ever."""
    status = session.exec(
        select(col(Outbox.status))
        .join(Mention, col(Mention.id) == col(Outbox.mention_id))
        .where(on, col(Outbox.kind) == kind)
    ).first()
    return status == OutboxStatus.FAILED


def event_of(session: Session, row: Outbox) -> Event:
    event = session.get(Event, row.event_id)
    if event is None:
        raise Abandon(f"event {row.event_id} is gone")
    return event
