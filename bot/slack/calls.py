"""What delivering one outbox row comes to: a Web API call, or the reason the row can never be sent."""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from bot.ground.models import Event, Outbox

NO_UNFURL = {"unfurl_links": False, "unfurl_media": False}


@dataclass(frozen=True)
class Call:
    method: str
    args: dict[str, Any]


class Abandon(Exception):
    """The row can never be sent: the message it belongs under was never posted."""


class NotReady(Exception):
    """The row belongs under a message (a storm card, a digest) that another row has not posted yet."""


def event_of(session: Session, row: Outbox) -> Event:
    event = session.get(Event, row.event_id)
    if event is None:
        raise Abandon(f"event {row.event_id} is gone")
    return event
