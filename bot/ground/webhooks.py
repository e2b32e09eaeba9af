"""Which `[[webhooks]]` receivers hear of what, kept in the database so the change that causes an event
queues its rows in its own transaction, with nothing passed down from the config.

Each process holds a copy of who hears what, looked at again at most every `LOOK_EVERY`: a change of
several mentions, or a mention stored alone, costs no query for it (a third of the CPU a mention stored
alone took, when it was read each time; bench/ingest.py --alone)."""

import threading
import time
import weakref
from collections.abc import Sequence

from sqlalchemy import Engine, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from bot.ground.config import Webhook
from bot.ground.db import insert_unless_present
from bot.ground.models import EventKind, WebhookEvent, WebhookReceiver
from bot.ground.outbox import enqueue_webhooks

LOOK_EVERY = 10.0
"""Seconds between two looks at the receivers: a process that starts with a new one is heard by the others
within this."""
_CONFIGURED = core_select(col(WebhookReceiver.id), col(WebhookReceiver.events))
OF_EVENT_KIND = {
    EventKind.CLAIMED: WebhookEvent.MENTION_CLAIMED,
    EventKind.REPLIED: WebhookEvent.MENTION_REPLIED,
    EventKind.ESCALATED: WebhookEvent.MENTION_ESCALATED,
    EventKind.RESOLVED: WebhookEvent.MENTION_RESOLVED,
    EventKind.REOPENED: WebhookEvent.MENTION_REOPENED,
}
"""The mention events a receiver can be told of, by the kind of event that records them."""


def sync_receivers(session: Session, webhooks: Sequence[Webhook]) -> None:
    """Write the config's receivers; one no longer configured is sent nothing new, and what it had queued waits
    (it is delivered if the receiver comes back)."""
    configured = {webhook.url: [str(event) for event in webhook.events] for webhook in webhooks}
    for url in configured:  # two processes starting at once both insert: the second one's does nothing
        session.execute(insert_unless_present(session, WebhookReceiver, ["url"], url=url, events=[], failures=0))
    for receiver in session.exec(select(WebhookReceiver)):
        session.execute(
            update(WebhookReceiver)
            .where(col(WebhookReceiver.id) == receiver.id)
            .values(events=configured.get(receiver.url, []))
        )
    forget()


def _receivers_of(session: Session, event: WebhookEvent) -> list[int]:
    database = session.get_bind().engine
    now = time.monotonic()
    held, looked_at = _held.get(database, ({}, float("-inf")))
    if now - looked_at >= LOOK_EVERY:
        held = {id_: events for id_, events in session.execute(_CONFIGURED).all() if events}
        with _lock:
            _held[database] = (held, now)
    return [id_ for id_, events in held.items() if event in events]


def forget() -> None:
    """Look at the receivers at the next event, whatever the time: after writing them, and in tests."""
    with _lock:
        _held.clear()


def tell_webhooks(
    session: Session,
    event: WebhookEvent,
    *,
    mention_id: int,
    event_id: int | None = None,
    spike_event_id: int | None = None,
    held: bool = False,
) -> None:
    """Queue `event` for every receiver that wants it, in the caller's transaction."""
    enqueue_webhooks(
        session,
        event,
        receivers=_receivers_of(session, event),
        mention_id=mention_id,
        event_id=event_id,
        spike_event_id=spike_event_id,
        held=held,
    )


_held: weakref.WeakKeyDictionary[Engine, tuple[dict[int, list[str]], float]] = weakref.WeakKeyDictionary()
"""By engine (a process, or a test, may use several databases), not by its URL: spelling a URL out cost a tenth of
a mention's CPU in a batch."""
_lock = threading.Lock()
