"""The calls that deliver a spike: its alert in the scope's channel, and the updates in the alert's thread."""

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.ground.models import Mention, Outbox, OutboxKind, Spike, SpikeEvent
from bot.slack.calls import NO_UNFURL, Abandon, Call
from bot.slack.spike_cards import spike_alert, spike_fallback, spike_note, spike_note_text


def spike_call(session: Session, row: Outbox) -> Call | None:
    """The call for a `SPIKE_ALERT` or `SPIKE_NOTE` row; None if the alert is in Slack already."""
    event, spike = _event_and_spike(session, row)
    ids = [int(mention_id) for mention_id in event.data.get("mentions", [])]
    found = {mention.id: mention for mention in session.exec(select(Mention).where(col(Mention.id).in_(ids)))}
    mentions = [found[mention_id] for mention_id in ids if mention_id in found]
    if row.kind == OutboxKind.SPIKE_ALERT:
        if spike.card_ts:
            return None
        blocks = spike_alert(spike, event, mentions)
        return Call(
            "chat.postMessage",
            {"channel": spike.channel, "text": spike_fallback(spike, event), "blocks": blocks} | NO_UNFURL,
        )
    if not spike.card_ts:
        raise Abandon("the spike alert was never posted")
    return Call(
        "chat.postMessage",
        {
            "channel": spike.card_channel,
            "thread_ts": spike.card_ts,
            "text": spike_note_text(spike, event),
            "blocks": spike_note(spike, event, mentions),
        }
        | NO_UNFURL,
    )


def record_spike_alert(session: Session, row: Outbox, *, channel: str, ts: str) -> None:
    """Where the alert landed, for its updates to thread under."""
    _, spike = _event_and_spike(session, row)
    session.execute(update(Spike).where(col(Spike.id) == spike.id).values(card_channel=channel, card_ts=ts))


def _event_and_spike(session: Session, row: Outbox) -> tuple[SpikeEvent, Spike]:
    event = session.get(SpikeEvent, row.spike_event_id) if row.spike_event_id else None
    spike = session.get(Spike, event.spike_id) if event else None
    if event is None or spike is None:
        raise Abandon(f"spike event {row.spike_event_id} is gone")
    return event, spike
