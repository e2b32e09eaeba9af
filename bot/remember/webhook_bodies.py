"""What an outbound webhook says: version 1 of the body (docs/webhooks.md, docs/webhook-event.schema.json).

A body is rendered from what does not change once recorded (the event, the mention as it was heard, the
spike's start), so every attempt at one event sends the same bytes, however late it goes out."""

import json
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from bot.ground.mentions import get_mention
from bot.ground.models import Event, Mention, Outbox, Spike, SpikeEvent, WebhookEvent

VERSION = 1


def _when(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def _reference(mention_id: int | None) -> str | None:
    return f"M-{mention_id}" if mention_id else None


def _mention(mention: Mention) -> dict[str, Any]:
    """The mention as it was heard; what changes later (owner, status) is told by the events themselves."""
    return {
        "id": mention.id,
        "reference": mention.reference,
        "source": mention.source,
        "source_kind": mention.source_kind,
        "url": mention.url,
        "author": mention.author,
        "title": mention.title,
        "text": mention.text,
        "published_at": _when(mention.published_at),
        "heard_at": _when(mention.heard_at),
        "sentiment": mention.sentiment,
        "category": mention.category,
        "urgency": mention.urgency,
        "needs_human": mention.needs_human,
        "product": mention.product,
        "topic": mention.topic,
        "lang": mention.lang,
        "rating": mention.rating,
        "app_version": mention.app_version,
        "channel": mention.channel,
    }


def _data(kind: WebhookEvent, event: Event | None, mention: Mention) -> dict[str, Any]:
    said = event.data if event else {}
    match kind:
        case WebhookEvent.MENTION_CREATED:
            return {"same_as": _reference(mention.duplicate_of)}
        case WebhookEvent.MENTION_CLAIMED:
            return {"by_reply": said.get("via") == "reply"}
        case WebhookEvent.MENTION_REPLIED:
            return {"text": said["text"], "first": bool(said.get("first")), "to_source": bool(said.get("to_source"))}
        case WebhookEvent.MENTION_ESCALATED:
            return {"team": said["team"], "reason": said.get("reason")}
        case WebhookEvent.MENTION_RESOLVED:
            return {"outcome": said["outcome"], "note": said.get("note")}
        case WebhookEvent.MENTION_REOPENED:
            return {"by_follow_up": _reference(said.get("mention_id"))}
    raise ValueError(f"{kind} is not a mention's event")


def _spike(session: Session, row: Outbox) -> tuple[datetime, dict[str, Any]]:
    told = session.get(SpikeEvent, row.spike_event_id)
    assert told is not None
    spike = session.get(Spike, told.spike_id)
    assert spike is not None
    said = told.data
    return told.at, {
        "id": spike.id,
        "product": spike.product,
        "started_at": _when(spike.started_at),
        "count": said["count"],
        "usual": {"low": said["low"], "high": said["high"], "median": said.get("median"), "weeks": said.get("weeks")},
        "words": list(said.get("words", [])),
        "mentions": [_reference(mention_id) for mention_id in said.get("mentions", [])],
        "more": said.get("more", 0),
    }


def webhook_body(session: Session, row: Outbox) -> bytes:
    """The JSON a `webhook` outbox row sends."""
    kind = WebhookEvent(row.webhook_event or "")
    body: dict[str, Any] = {"version": VERSION, "id": row.webhook_event_id, "type": str(kind)}
    if kind == WebhookEvent.SPIKE_STARTED:
        at, spike = _spike(session, row)
        body |= {"occurred_at": _when(at), "actor": None, "spike": spike}
    else:
        mention = get_mention(session, row.mention_id)
        event = session.get(Event, row.event_id) if row.event_id else None
        at = event.at if event else mention.heard_at
        body |= {
            "occurred_at": _when(at),
            "actor": event.actor if event else None,
            "mention": _mention(mention),
            "data": _data(kind, event, mention),
        }
    return json.dumps(body, separators=(",", ":")).encode()  # ASCII: any text survives, escaped
