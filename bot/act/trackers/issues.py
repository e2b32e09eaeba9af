"""What people and trackers do with tracker issues: ask for one from a mention, link more mentions to it as
evidence, learn it shipped (or reopened, or was closed otherwise, or deleted), and tell each customer once.

Each change is recorded as events on the mentions, with what Slack must be told queued in the same transaction;
state changes are conditional updates, so a webhook and a poll noticing the same closing tell it once."""

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.act import actions
from bot.act.trackers import Issue
from bot.act.trackers.evidence import evidence_of, section
from bot.ground.clock import utcnow
from bot.ground.db import rows_changed
from bot.ground.errors import UserError
from bot.ground.mentions import append_event, get_mention
from bot.ground.models import Event, EventKind, Mention, OutboxKind, TrackerIssue, TrackerIssueState
from bot.ground.outbox import enqueue

TITLE_MOST = 250
_HANDLERS = (EventKind.CLAIMED, EventKind.REPLIED, EventKind.ESCALATED)


def _events(session: Session, mention_ids: list[int], kinds: tuple[EventKind, ...]) -> list[Event]:
    return list(
        session.exec(
            select(Event)
            .where(col(Event.mention_id).in_(mention_ids), col(Event.kind).in_(list(kinds)))
            .order_by(col(Event.id))
        )
    )


def issue_of(session: Session, mention: Mention) -> TrackerIssue | None:
    return session.get(TrackerIssue, mention.tracker_issue_id) if mention.tracker_issue_id else None


def _refuse_if_linked(session: Session, mention: Mention) -> None:
    if (linked := issue_of(session, mention)) is not None:
        raise UserError(f"{mention.reference} is evidence on {linked.key} already: {linked.url}")


def request_issue(
    session: Session,
    *,
    mention_id: int,
    user_id: str,
    tracker: str,
    title: str,
    labels: list[str],
    body: str,
    now: datetime | None = None,
) -> Event:
    """Ask for a tracker issue from the mention; the outbox creates it, once, and tells the thread."""
    mention = get_mention(session, mention_id)
    actions.refuse_if_joined(mention)
    actions.lock_mention(session, mention_id)
    _refuse_if_linked(session, mention)
    asked = _events(
        session, [mention_id], (EventKind.ISSUE_REQUESTED, EventKind.ISSUE_CREATED, EventKind.ISSUE_TROUBLE)
    )
    if asked and asked[-1].kind == EventKind.ISSUE_REQUESTED:
        raise UserError(f"<@{asked[-1].actor}> is creating an issue from {mention.reference} already.")
    title = " ".join(title.split())[:TITLE_MOST]
    if not title:
        raise UserError("The issue needs a title.")
    event = append_event(
        session,
        mention_id,
        EventKind.ISSUE_REQUESTED,
        user_id,
        now or utcnow(),
        refresh=False,
        tracker=tracker,
        title=title,
        labels=labels,
        body=body,
    )
    enqueue(session, OutboxKind.TRACKER_CREATE, mention_id=mention_id, channel=mention.channel, event_id=event.id)
    return event


def _stored(session: Session, tracker: str, issue: Issue, *, created_from: int | None, now: datetime) -> TrackerIssue:
    """The issue's row, made the first time it is met."""
    row = session.exec(
        select(TrackerIssue).where(col(TrackerIssue.tracker) == tracker, col(TrackerIssue.key) == issue.key)
    ).first()
    if row is None:
        row = TrackerIssue(
            tracker=tracker,
            key=issue.key,
            ref=issue.ref,
            url=issue.url,
            title=issue.title[:500],
            state=issue.state,
            created_at=now,
            created_from=created_from,
            shipped_at=now if issue.state == TrackerIssueState.DONE else None,
        )
        session.add(row)
        session.flush()
    return row


def _attach(session: Session, mention: Mention, row: TrackerIssue) -> None:
    """Make the mention evidence on the issue, unless it became evidence on one meanwhile."""
    attached = session.execute(
        update(Mention)
        .where(col(Mention.id) == mention.id, col(Mention.tracker_issue_id).is_(None))
        .values(tracker_issue_id=row.id)
    )
    if rows_changed(attached) != 1:
        session.refresh(mention)
        _refuse_if_linked(session, mention)
    session.refresh(mention)


def _about(row: TrackerIssue) -> dict[str, Any]:
    return {"issue_id": row.id, "tracker": row.tracker, "key": row.key, "url": row.url, "title": row.title}


def record_created(session: Session, *, request: Event, issue: Issue, now: datetime | None = None) -> TrackerIssue:
    """The tracker made the issue asked for: the card shows its key and link, the thread says so."""
    now = now or utcnow()
    mention = get_mention(session, request.mention_id)
    row = _stored(session, request.data["tracker"], issue, created_from=mention.id, now=now)
    _attach(session, mention, row)
    append_event(session, request.mention_id, EventKind.ISSUE_CREATED, request.actor, now, **_about(row))
    return row


def creation_failed(session: Session, *, request: Event, problem: str) -> Event:
    """The tracker refused the issue: the thread says why, and the mention can be tried again."""
    return append_event(
        session, request.mention_id, EventKind.ISSUE_TROUBLE, request.actor, utcnow(), refresh=False, problem=problem
    )


def link_issue(
    session: Session, *, mention_id: int, user_id: str, tracker: str, issue: Issue, now: datetime | None = None
) -> TrackerIssue:
    """Make the mention evidence on an issue that exists; the issue's evidence section is brought up to date."""
    now = now or utcnow()
    mention = get_mention(session, mention_id)
    actions.refuse_if_joined(mention)
    actions.lock_mention(session, mention_id)
    _refuse_if_linked(session, mention)
    row = _stored(session, tracker, issue, created_from=None, now=now)
    _attach(session, mention, row)
    append_event(session, mention_id, EventKind.ISSUE_LINKED, user_id, now, **_about(row))
    enqueue(session, OutboxKind.TRACKER_EVIDENCE, mention_id=mention_id, channel=mention.channel)
    return row


def evidence_section(session: Session, issue_id: int) -> str | None:
    evidence = evidence_of(session, issue_id)
    return section(evidence) if evidence else None


def linked_mentions(session: Session, issue_id: int) -> list[Mention]:
    return list(
        session.exec(select(Mention).where(col(Mention.tracker_issue_id) == issue_id).order_by(col(Mention.id)))
    )


def _move(session: Session, row: TrackerIssue, to: TrackerIssueState, now: datetime, **values: Any) -> bool:
    """Change the issue's state from what it was read as; False when another process changed it first."""
    moved = session.execute(
        update(TrackerIssue)
        .where(col(TrackerIssue.id) == row.id, col(TrackerIssue.state) == row.state)
        .values(state=to, checked_at=now, problem=None, **values)
    )
    return rows_changed(moved) == 1


def seen(
    session: Session, *, issue_id: int, state: TrackerIssueState, why: str = "", now: datetime | None = None
) -> bool:
    """What the tracker says of the issue now (a poll, a webhook); True when it changed and the threads are told."""
    now = now or utcnow()
    row = session.get(TrackerIssue, issue_id)
    if row is None or row.state == TrackerIssueState.GONE:
        return False
    if row.state == state:
        session.execute(
            update(TrackerIssue).where(col(TrackerIssue.id) == issue_id).values(checked_at=now, problem=None)
        )
        return False
    was = TrackerIssueState(row.state)
    shipped: dict[str, datetime | None] = {"shipped_at": now} if state == TrackerIssueState.DONE else {}
    if was == TrackerIssueState.DONE:
        shipped = {"shipped_at": None}  # reopened: it ships when it is closed as done again
    if not _move(session, row, state, now, **shipped):
        return False
    session.refresh(row)
    mentions = linked_mentions(session, issue_id)
    if state == TrackerIssueState.DONE:
        _shipped(session, row, mentions, now)
    elif state == TrackerIssueState.OPEN:
        for mention in mentions:
            append_event(session, mention.id or 0, EventKind.ISSUE_REOPENED, None, now, was=was, **_about(row))
    else:
        for mention in mentions:
            append_event(session, mention.id or 0, EventKind.ISSUE_CLOSED, None, now, why=why, **_about(row))
    return True


def _shipped(session: Session, row: TrackerIssue, mentions: list[Mention], now: datetime) -> None:
    """Each linked mention's thread is told, with Tell the customer; each person who handled one gets one message."""
    shipped_on: dict[int, Event] = {}
    for mention in mentions:
        assert mention.id is not None
        shipped_on[mention.id] = append_event(session, mention.id, EventKind.ISSUE_SHIPPED, None, now, **_about(row))
    told: set[str] = set()
    for event in _events(session, list(shipped_on), _HANDLERS):
        if event.actor and event.actor not in told:
            told.add(event.actor)
            enqueue(
                session,
                OutboxKind.SHIPPED_DM,
                mention_id=event.mention_id,
                channel=event.actor,
                event_id=shipped_on[event.mention_id].id,
            )


def refused(session: Session, *, issue_id: int, problem: str, gone: bool, now: datetime | None = None) -> bool:
    """The tracker refused a call about the issue. Deleted (or moved out of sight), it is no longer watched and
    every linked thread is told; otherwise (a revoked token) its first mention's thread is told, once a problem.
    The mentions keep their link either way."""
    now = now or utcnow()
    row = session.get(TrackerIssue, issue_id)
    if row is None or row.state == TrackerIssueState.GONE or row.problem == problem:
        return False
    if gone:
        if not _move(session, row, TrackerIssueState.GONE, now):
            return False
        told = linked_mentions(session, issue_id)
    else:
        told = linked_mentions(session, issue_id)[:1]
    session.execute(update(TrackerIssue).where(col(TrackerIssue.id) == issue_id).values(problem=problem))
    for mention in told:
        append_event(
            session,
            mention.id or 0,
            EventKind.ISSUE_TROUBLE,
            None,
            now,
            refresh=False,
            problem=problem,
            gone=gone,
            **_about(row),
        )
    return True


def watched(session: Session, tracker: str) -> list[TrackerIssue]:
    """The tracker's issues that still have something to tell: all but the deleted ones."""
    return list(
        session.exec(
            select(TrackerIssue)
            .where(col(TrackerIssue.tracker) == tracker, col(TrackerIssue.state) != TrackerIssueState.GONE)
            .order_by(col(TrackerIssue.id))
        )
    )


def shipped_note(row: TrackerIssue) -> str:
    """What Tell the customer proposes: plain words, with the link, for any source."""
    return f"You asked for “{row.title}”; it shipped today: {row.url}"


def reached(session: Session, told: list[Event]) -> list[Event]:
    """The tellings that reached their customer: all but those whose reply the source refused (the thread said so,
    and the customer can be told again)."""
    refused = {
        event.data.get("reply_event_id")
        for event in _events(session, sorted({e.mention_id for e in told}), (EventKind.SENT_TO_SOURCE,))
        if event.data.get("error")
    }
    return [event for event in told if event.data.get("reply_event_id") not in refused]


def already_told(session: Session, mention_id: int, issue_id: int) -> Event | None:
    told = [e for e in _events(session, [mention_id], (EventKind.CUSTOMER_TOLD,)) if e.data.get("issue_id") == issue_id]
    return next(iter(reached(session, told)), None)


def tell_customer(
    session: Session,
    *,
    mention_id: int,
    user_id: str,
    text: str,
    on_source: bool,
    told_at: str | None = None,
    now: datetime | None = None,
) -> Event:
    """Tell the customer what they asked for shipped: on the source (posted once), or recorded as told where the
    person says (`told_at`, a link). Locked first, so two clicks at once tell the customer once."""
    now = now or utcnow()
    mention = get_mention(session, mention_id)
    actions.lock_mention(session, mention_id)
    row = issue_of(session, mention)
    if row is None or row.state != TrackerIssueState.DONE or row.shipped_at is None:
        raise UserError(f"{mention.reference} has no shipped issue to tell the customer about.")
    assert row.id is not None
    if (earlier := already_told(session, mention_id, row.id)) is not None:
        raise UserError(f"<@{earlier.actor}> told this customer already that {row.key} shipped.")
    recorded = actions.reply(session, mention_id=mention_id, user_id=user_id, text=text, to_source=on_source, now=now)
    return append_event(
        session,
        mention_id,
        EventKind.CUSTOMER_TOLD,
        user_id,
        now,
        via="source" if on_source else "recorded",
        told_at=told_at,
        reply_event_id=recorded.event.id,
        after_seconds=round((now - row.shipped_at).total_seconds()),
        **_about(row),
    )
