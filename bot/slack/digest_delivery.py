"""The calls that deliver a digest of muted mentions: its message, then its pages in the message's thread."""

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.ground.models import Digest, Event, EventKind, Mention, Outbox, OutboxKind
from bot.hear.digests import digest_mentions, page_of
from bot.slack.calls import NO_UNFURL, Abandon, Call, NotReady, failed_for_good
from bot.slack.digest_messages import digest_fallback, digest_message, digest_page, digest_page_fallback


def digest_call(session: Session, row: Outbox, mention: Mention) -> Call | None:
    """The call for a `DIGEST` or `DIGEST_PAGE` row; None if already sent."""
    digest = session.get(Digest, mention.digest_id) if mention.digest_id else None
    if digest is None or digest.id is None:
        raise Abandon(f"{mention.reference} is in no digest")
    if row.kind == OutboxKind.DIGEST:
        if digest.card_ts:
            return None
        return Call(
            "chat.postMessage",
            {"channel": digest.channel, "text": digest_fallback(digest), "blocks": digest_message(digest)} | NO_UNFURL,
        )
    if not digest.card_ts:
        if failed_for_good(session, OutboxKind.DIGEST, col(Mention.digest_id) == digest.id):
            raise Abandon("the digest was never posted")
        raise NotReady("the digest is not posted yet")
    assert mention.id is not None
    page = page_of(digest_mentions(session, digest.id), mention.id)
    return Call(
        "chat.postMessage",
        {
            "channel": digest.card_channel,
            "thread_ts": digest.card_ts,
            "text": digest_page_fallback(page),
            "blocks": digest_page(page, _unmuted_by(session, [m.id for m in page if m.id is not None])),
        }
        | NO_UNFURL,
    )


def record_digest(session: Session, row: Outbox, *, channel: str, ts: str) -> None:
    mention = session.get(Mention, row.mention_id)
    if mention is not None and mention.digest_id is not None:
        session.execute(
            update(Digest).where(col(Digest.id) == mention.digest_id).values(card_channel=channel, card_ts=ts)
        )


def _unmuted_by(session: Session, ids: list[int]) -> dict[int, str]:
    events = session.exec(
        select(Event).where(
            col(Event.mention_id).in_(ids), col(Event.kind) == EventKind.UNMUTED, col(Event.actor).is_not(None)
        )
    )
    return {event.mention_id: event.actor for event in events if event.actor}
