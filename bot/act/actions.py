"""What people do with a mention. Each action is one conditional update, so concurrent clicks from
several people or processes settle in the database, plus an append-only event and what to tell Slack."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, type_coerce, update
from sqlmodel import Session, col, select

from bot.ground.clock import utcnow
from bot.ground.config import Team
from bot.ground.config_types import parse_duration
from bot.ground.db import UTCDateTime, rows_changed
from bot.ground.errors import AlreadyClaimed, MentionClosed, NotOwner, UserError
from bot.ground.mentions import append_event, get_mention, reopen_resolved
from bot.ground.models import Escalation, Event, EventKind, Mention, MentionStatus, OutboxKind, Outcome
from bot.ground.outbox import enqueue


def _change(session: Session, mention_id: int, *conditions: Any, **values: Any) -> bool:
    result = session.execute(update(Mention).where(col(Mention.id) == mention_id, *conditions).values(**values))
    return rows_changed(result) == 1


def _first(column: Any, now: datetime) -> Any:
    """The column's moment if it has one, else `now`: the first time something happened stays the first."""
    return func.coalesce(column, type_coerce(now, UTCDateTime))


def lock_mention(session: Session, mention_id: int) -> None:
    """A no-op update that holds the mention's row until the commit, so an SLA check deciding about the
    mention meanwhile waits for this change and then sees it."""
    session.execute(update(Mention).where(col(Mention.id) == mention_id).values(status=col(Mention.status)))


def refuse_if_joined(mention: Mention) -> None:
    """A second sighting of a post lives in the first mention's thread; all actions belong there. A muted one has
    no card to act on until someone says it is relevant."""
    if mention.status == MentionStatus.JOINED:
        raise MentionClosed(
            f"{mention.reference} is the same post as M-{mention.duplicate_of} or a follow-up to it; act on that one."
        )
    if mention.status == MentionStatus.CHECKING:
        raise MentionClosed(f"{mention.reference} is being checked for relevance; its card comes in a minute.")
    if mention.status == MentionStatus.MUTED:
        raise MentionClosed(
            f"{mention.reference} was muted: the relevance model found it very likely not relevant. "
            "`/allears muted` lists it with a button that posts its card."
        )


def refuse_if_closed(mention: Mention) -> None:
    refuse_if_joined(mention)
    if mention.status == MentionStatus.RESOLVED:
        raise MentionClosed(
            f"{mention.reference} is resolved ({mention.outcome}); `/reopen {mention.reference}` first."
        )


def _take(session: Session, mention_id: int, user_id: str, now: datetime) -> bool:
    """Make `user_id` the owner if the mention is open and nobody owns it; the database decides races."""
    return _change(
        session,
        mention_id,
        col(Mention.owner_id).is_(None),
        col(Mention.status) == MentionStatus.OPEN,
        owner_id=user_id,
        claimed_at=now,
        first_claimed_at=_first(col(Mention.first_claimed_at), now),
    )


def claim(session: Session, *, mention_id: int, user_id: str, now: datetime | None = None) -> Mention:
    now = now or utcnow()
    if _take(session, mention_id, user_id, now):
        append_event(session, mention_id, EventKind.CLAIMED, user_id, now)
        return get_mention(session, mention_id)
    mention = get_mention(session, mention_id)
    refuse_if_closed(mention)
    if mention.owner_id == user_id:
        raise UserError(f"You already own {mention.reference}.")
    raise AlreadyClaimed(mention.reference, mention.owner_id or "someone")


def unclaim(session: Session, *, mention_id: int, user_id: str, now: datetime | None = None) -> Mention:
    now = now or utcnow()
    if _change(
        session,
        mention_id,
        col(Mention.owner_id) == user_id,
        col(Mention.status) == MentionStatus.OPEN,
        owner_id=None,
        claimed_at=None,
    ):
        append_event(session, mention_id, EventKind.UNCLAIMED, user_id, now)
        return get_mention(session, mention_id)
    mention = get_mention(session, mention_id)
    refuse_if_closed(mention)
    if mention.owner_id is None:
        raise UserError(f"{mention.reference} is not claimed by anyone.")
    raise NotOwner(f"{mention.reference} is claimed by <@{mention.owner_id}>; only they can unclaim it.")


@dataclass(frozen=True)
class ReplyRecorded:
    mention: Mention
    first: bool
    """The mention's first reply: it set the first-response time."""
    claimed: bool
    """The mention was unclaimed, so replying claimed it for the replier."""
    event: Event


def reply(
    session: Session,
    *,
    mention_id: int,
    user_id: str,
    text: str,
    to_source: bool = False,
    now: datetime | None = None,
) -> ReplyRecorded:
    """Record an answer; replying to an unclaimed mention claims it, since whoever answers owns the follow-up.

    With `to_source`, the answer is also posted on the source, once, after the commit.
    """
    now = now or utcnow()
    text = text.strip()
    if not text:
        raise UserError("The reply is empty; write what you answered the customer.")
    mention = get_mention(session, mention_id)
    refuse_if_joined(mention)
    lock_mention(session, mention_id)
    claimed = _take(session, mention_id, user_id, now)
    if claimed:
        append_event(session, mention_id, EventKind.CLAIMED, user_id, now, refresh=False, via="reply")
    # A late reply to a resolved mention is recorded, but answered nobody while they waited: not a first response.
    first = _change(
        session,
        mention_id,
        col(Mention.first_reply_at).is_(None),
        col(Mention.status) == MentionStatus.OPEN,
        first_reply_at=now,
    )
    on_source = {"to_source": True} if to_source else {}
    event = append_event(session, mention_id, EventKind.REPLIED, user_id, now, text=text, first=first, **on_source)
    if to_source:
        enqueue(session, OutboxKind.SOURCE_REPLY, mention_id=mention_id, channel=mention.channel, event_id=event.id)
    session.refresh(mention)
    return ReplyRecorded(mention=mention, first=first, claimed=claimed, event=event)


def escalate(
    session: Session,
    *,
    mention_id: int,
    user_id: str,
    team_name: str,
    team: Team,
    reason: str | None = None,
    now: datetime | None = None,
) -> Escalation:
    now = now or utcnow()
    # A conditional no-op update: it locks the row, so a resolve committing meanwhile cannot slip past.
    if not _change(session, mention_id, col(Mention.status) == MentionStatus.OPEN, status=MentionStatus.OPEN):
        refuse_if_closed(get_mention(session, mention_id))
    reason = (reason or "").strip() or None
    event = append_event(session, mention_id, EventKind.ESCALATED, user_id, now, team=team_name, reason=reason)
    escalation = Escalation(
        mention_id=mention_id,
        event_id=event.id,  # type: ignore[arg-type]
        team=team_name,
        channel=team.channel,
        usergroup=team.usergroup,
        reason=reason,
        escalated_by=user_id,
        escalated_at=now,
    )
    session.add(escalation)
    session.flush()
    event.data = {**event.data, "escalation_id": escalation.id}
    enqueue(session, OutboxKind.TEAM_ALERT, mention_id=mention_id, channel=team.channel, event_id=event.id)
    return escalation


def acknowledge(session: Session, *, escalation_id: int, user_id: str, now: datetime | None = None) -> Escalation:
    now = now or utcnow()
    result = session.execute(
        update(Escalation)
        .where(col(Escalation.id) == escalation_id, col(Escalation.acknowledged_by).is_(None))
        .values(acknowledged_by=user_id, acknowledged_at=now)
    )
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise UserError("That escalation no longer exists.")
    if rows_changed(result) != 1:
        session.refresh(escalation)
        raise UserError(f"Already acknowledged by <@{escalation.acknowledged_by}>.")
    session.refresh(escalation)
    append_event(
        session,
        escalation.mention_id,
        EventKind.ACKNOWLEDGED,
        user_id,
        now,
        team=escalation.team,
        escalation_id=escalation.id,
    )
    enqueue(
        session,
        OutboxKind.TEAM_ALERT_REFRESH,
        mention_id=escalation.mention_id,
        channel=escalation.channel,
        event_id=escalation.event_id,
    )
    return escalation


def resolve(
    session: Session,
    *,
    mention_id: int,
    user_id: str,
    outcome: Outcome,
    note: str | None = None,
    feedback_channel: str | None = None,
    now: datetime | None = None,
) -> Mention:
    """Close the mention; feedback is also passed to `feedback_channel` (the product team's) when set."""
    now = now or utcnow()
    note = (note or "").strip() or None
    if _change(
        session,
        mention_id,
        col(Mention.status) == MentionStatus.OPEN,
        status=MentionStatus.RESOLVED,
        outcome=outcome.value,
        resolved_at=now,
        first_resolved_at=_first(col(Mention.first_resolved_at), now),
        snoozed_until=None,  # a resolve ends the snooze: reopened later, the mention is awake
    ):
        forward = feedback_channel if outcome is Outcome.FEEDBACK else None
        extra: dict[str, Any] = {"feedback_channel": forward} if forward else {}
        event = append_event(
            session, mention_id, EventKind.RESOLVED, user_id, now, outcome=outcome.value, note=note, **extra
        )
        if forward:
            enqueue(session, OutboxKind.FEEDBACK, mention_id=mention_id, channel=forward, event_id=event.id)
        return get_mention(session, mention_id)
    mention = get_mention(session, mention_id)
    refuse_if_joined(mention)
    raise MentionClosed(f"{mention.reference} is already resolved ({mention.outcome}).")


def reopen(session: Session, *, mention_id: int, user_id: str, now: datetime | None = None) -> Mention:
    now = now or utcnow()
    if reopen_resolved(session, mention_id):
        append_event(session, mention_id, EventKind.REOPENED, user_id, now)
        return get_mention(session, mention_id)
    mention = get_mention(session, mention_id)
    refuse_if_joined(mention)
    raise UserError(f"{mention.reference} is open already.")


def unmute(session: Session, *, mention_id: int, user_id: str, now: datetime | None = None) -> Mention:
    """Post a muted mention's card after all; the event tells the relevance model it was relevant."""
    now = now or utcnow()
    if _change(session, mention_id, col(Mention.status) == MentionStatus.MUTED, status=MentionStatus.OPEN):
        append_event(session, mention_id, EventKind.UNMUTED, user_id, now, refresh=False)
        mention = get_mention(session, mention_id)
        enqueue(session, OutboxKind.CARD, mention_id=mention_id, channel=mention.channel)
        return mention
    mention = get_mention(session, mention_id)
    unmuted = session.exec(
        select(Event).where(col(Event.mention_id) == mention_id, col(Event.kind) == EventKind.UNMUTED)
    ).first()
    if unmuted is not None:
        raise UserError(f"{mention.reference} is a card already: <@{unmuted.actor}> said it was relevant.")
    raise UserError(f"{mention.reference} was not muted; it has a card of its own.")


def history(session: Session, mention_id: int) -> list[Event]:
    return list(session.exec(select(Event).where(col(Event.mention_id) == mention_id).order_by(col(Event.id))))


def sent_to_source(session: Session, *, reply_event: Event, url: str | None = None, error: str | None = None) -> Event:
    """What came of posting a reply on the source, told in the thread: its link, or why it failed."""
    return append_event(
        session,
        reply_event.mention_id,
        EventKind.SENT_TO_SOURCE,
        reply_event.actor or "unknown",
        utcnow(),
        refresh=False,
        reply_event_id=reply_event.id,
        url=url,
        error=error,
    )


MAX_SNOOZE = timedelta(days=30)
_TOO_LONG = "A snooze lasts at most 30 days; resolve the mention if nothing more is to be done."
WAKE = "off"
"""What wakes a snoozed mention, typed (`/snooze M-7 off`) or chosen in the card's menu."""


def parse_snooze(text: str) -> timedelta:
    """`2h`, `1h30m`, `3d`; `off` (or `wake`, or a zero length) wakes the mention."""
    text = text.strip().lower()
    if text in (WAKE, "wake", "0"):
        return timedelta(0)
    try:
        return parse_duration(text)
    except ValueError:
        raise UserError(f"`{text}` is not a length of time; write it like `30m`, `2h`, `1d`, or `{WAKE}`.") from None


def snooze_until(until: datetime, *, now: datetime) -> timedelta:
    """How long a snooze to a picked moment lasts; a moment past, or beyond `MAX_SNOOZE`, is refused."""
    if until <= now:
        raise UserError("That moment has passed; pick one in the future (or resolve the mention).")
    if until - now > MAX_SNOOZE:
        raise UserError(_TOO_LONG)
    return until - now


@dataclass(frozen=True)
class Snoozed:
    mention: Mention
    replaced: datetime | None
    """When the snooze this one replaced would have ended; None if the mention was awake."""


def snooze(
    session: Session, *, mention_id: int, user_id: str, duration: timedelta, now: datetime | None = None
) -> Snoozed:
    """Stop the mention's SLA timers for `duration` (zero wakes it now); snoozing again replaces the end."""
    now = now or utcnow()
    if duration < timedelta(0) or duration > MAX_SNOOZE:
        raise UserError(_TOO_LONG)
    # Locked before it is read, so a snooze and a wake at the same moment take turns: each decides on what the
    # other recorded, and tells what it recorded itself.
    lock_mention(session, mention_id)
    mention = get_mention(session, mention_id)
    session.refresh(mention)
    refuse_if_closed(mention)
    current = mention.snoozed_until if mention.snoozed_until and mention.snoozed_until > now else None
    if not duration:
        if current is None:
            raise UserError(f"{mention.reference} is not snoozed.")
        if _change(session, mention_id, col(Mention.snoozed_until) == current, snoozed_until=None):
            append_event(session, mention_id, EventKind.UNSNOOZED, user_id, now, until=current.isoformat())
    else:
        until = now + duration
        if not _change(session, mention_id, col(Mention.status) == MentionStatus.OPEN, snoozed_until=until):
            session.refresh(mention)
            refuse_if_closed(mention)
        replaced = current.isoformat() if current else None
        append_event(session, mention_id, EventKind.SNOOZED, user_id, now, until=until.isoformat(), replaced=replaced)
    session.refresh(mention)
    return Snoozed(mention=mention, replaced=current)


def snooze_ran_out(session: Session, *, mention_id: int, until: datetime, now: datetime) -> bool:
    """Wake a mention whose snooze has ended, once, whichever process notices first."""
    if not _change(session, mention_id, col(Mention.snoozed_until) == until, snoozed_until=None):
        return False
    append_event(session, mention_id, EventKind.UNSNOOZED, None, now, until=until.isoformat())
    return True


def expire_claim(
    session: Session, *, mention_id: int, owner_id: str, claimed_at: datetime, idle_since: datetime, now: datetime
) -> bool:
    """Return an untouched claim to the pool; only that claim (owner and moment), so a fresh one stays.
    `idle_since`: the owner's last action on the mention, which the thread is told."""
    if not _change(
        session,
        mention_id,
        col(Mention.owner_id) == owner_id,
        col(Mention.claimed_at) == claimed_at,
        col(Mention.status) == MentionStatus.OPEN,
        owner_id=None,
        claimed_at=None,
    ):
        return False
    append_event(
        session,
        mention_id,
        EventKind.CLAIM_EXPIRED,
        None,
        now,
        owner=owner_id,
        claimed_at=claimed_at.isoformat(),
        idle_since=idle_since.isoformat(),
    )
    return True
