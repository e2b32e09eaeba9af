"""The daily digest: once a day, each channel's muted mentions (`MentionStatus.MUTED`) not listed yet make one
quiet message, with the mentions in its thread, a page at a time, each with a button that posts its card after
all. Nothing muted is left out: what a day's digest was made before waits for the next day's."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Engine, func, update
from sqlmodel import Session, col, select

from bot.ground.clock import utcnow
from bot.ground.config import Relevance
from bot.ground.db import insert_unless_present, session_scope
from bot.ground.models import Digest, Mention, MentionStatus, OutboxKind
from bot.ground.outbox import enqueue

PAGE = 10
"""Mentions in one message of a digest's thread."""


@dataclass(frozen=True)
class Made:
    channel: str
    muted: int


def due_day(rule: Relevance, now: datetime) -> str | None:
    """Today (`YYYY-MM-DD` in `[relevance] timezone`) once its digest time has come, else None."""
    local = now.astimezone(ZoneInfo(rule.timezone))
    return local.date().isoformat() if local.time() >= rule.digest_time else None


def make_digests(engine: Engine, rule: Relevance, *, now: datetime | None = None) -> list[Made]:
    """Today's digest for each channel with muted mentions not listed yet, once a day whichever process asks."""
    now = now or utcnow()
    day = due_day(rule, now)
    if day is None:
        return []
    with session_scope(engine) as session:
        channels = list(session.exec(select(Mention.channel).where(*_waiting()).distinct()))
    made = []
    for channel in sorted(channels):
        with session_scope(engine) as session:
            if (muted := _make(session, channel, day, now)) is not None:
                made.append(Made(channel, muted))
    return made


def digest_mentions(session: Session, digest_id: int) -> list[Mention]:
    return list(session.exec(select(Mention).where(col(Mention.digest_id) == digest_id).order_by(col(Mention.id))))


def page_of(mentions: list[Mention], first_id: int) -> list[Mention]:
    """The page of a digest's thread that begins with mention `first_id`."""
    start = next(index for index, mention in enumerate(mentions) if mention.id == first_id)
    return mentions[start : start + PAGE]


def count_muted(session: Session, *, since: datetime) -> int:
    return session.exec(
        select(func.count())
        .select_from(Mention)
        .where(col(Mention.status) == MentionStatus.MUTED, col(Mention.heard_at) >= since)
    ).one()


def latest_muted(session: Session, *, since: datetime, limit: int) -> list[Mention]:
    """Muted mentions heard since then, the newest first: what `/allears muted` shows."""
    return list(
        session.exec(
            select(Mention)
            .where(col(Mention.status) == MentionStatus.MUTED, col(Mention.heard_at) >= since)
            .order_by(col(Mention.heard_at).desc(), col(Mention.id).desc())
            .limit(limit)
        )
    )


def _waiting() -> tuple[ColumnElement[bool], ...]:
    return (col(Mention.status) == MentionStatus.MUTED, col(Mention.digest_id).is_(None))


def _make(session: Session, channel: str, day: str, now: datetime) -> int | None:
    """The channel's digest of today, if no process made it already: its mentions listed and its messages queued."""
    ids = [
        mention_id
        for mention_id in session.exec(
            select(Mention.id).where(*_waiting(), col(Mention.channel) == channel).order_by(col(Mention.id))
        )
        if mention_id is not None
    ]
    if not ids:
        return None
    made = insert_unless_present(
        session, Digest, ("channel", "day"), channel=channel, day=day, muted=len(ids), created_at=now
    )
    digest_id = session.execute(made.returning(col(Digest.id))).scalar_one_or_none()
    if digest_id is None:
        return None  # made today already: these wait for tomorrow's
    session.execute(update(Mention).where(col(Mention.id).in_(ids)).values(digest_id=digest_id))
    enqueue(session, OutboxKind.DIGEST, mention_id=ids[0], channel=channel)
    for first in ids[::PAGE]:
        enqueue(session, OutboxKind.DIGEST_PAGE, mention_id=first, channel=channel)
    return len(ids)
