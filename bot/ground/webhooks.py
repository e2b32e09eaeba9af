"""Which `[[webhooks]]` receivers hear of what, kept in the database so the change that causes an event
queues its rows in its own transaction, with nothing passed down from the config."""

from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.ground.config import Webhook
from bot.ground.db import insert_unless_present
from bot.ground.models import EventKind, WebhookEvent, WebhookReceiver
from bot.ground.outbox import enqueue_webhooks

_RECEIVERS = "allears_webhook_receivers"
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
    session.info.pop(_RECEIVERS, None)


def _receivers_of(session: Session, event: WebhookEvent) -> list[int]:
    """Read once a transaction: a poll's batch asks for each of its mentions."""
    receivers: dict[int, list[str]] | None = session.info.get(_RECEIVERS)
    if receivers is None:
        rows = session.exec(select(col(WebhookReceiver.id), col(WebhookReceiver.events))).all()
        receivers = session.info[_RECEIVERS] = {id_: events for id_, events in rows if events}
    return [id_ for id_, events in receivers.items() if event in events]


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
