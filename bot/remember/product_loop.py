"""From customers to product, for the weekly summary: the tracker issues mentions became this week, the linked
issues with the most customers, those that shipped, and how many of their customers were told, and how soon.

Only linked mentions and tracker events are read (the index on `mention.tracker_issue_id` and the events' kind
index), so a week of a million mentions costs what its few hundred linked ones cost."""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.act.trackers.issues import reached
from bot.ground.models import Event, EventKind, Mention, TrackerIssue, TrackerIssueState
from bot.remember.figures import LinkedIssue, ProductLoop, Waits, median

TOP_ISSUES = 5


def product_loop(session: Session, start: datetime, until: datetime) -> ProductLoop:
    issues = {
        row.id: row
        for row in session.exec(select(TrackerIssue).where(col(TrackerIssue.state) != TrackerIssueState.GONE))
    }
    if not issues:
        return ProductLoop()
    customers: defaultdict[int, set[tuple[str, str]]] = defaultdict(set)
    linked = select(col(Mention.tracker_issue_id), col(Mention.source), col(Mention.author), col(Mention.external_id))
    for issue_id, source, author, external_id in session.exec(linked.where(col(Mention.tracker_issue_id).is_not(None))):
        customers[issue_id or 0].add((source, (author or external_id).casefold()))

    def described(row: TrackerIssue) -> LinkedIssue:
        return LinkedIssue(row.key, row.title, row.url, len(customers[row.id or 0]), row.state)

    ranked = sorted(issues.values(), key=lambda row: (-len(customers[row.id or 0]), row.id or 0))
    shipped = [row for row in ranked if row.shipped_at is not None and start <= row.shipped_at < until]
    told = reached(
        session,
        list(
            session.exec(
                select(Event).where(
                    col(Event.kind) == EventKind.CUSTOMER_TOLD, col(Event.at) >= start, col(Event.at) < until
                )
            )
        ),
    )
    waits = sorted(timedelta(seconds=max(0, int(event.data.get("after_seconds") or 0))) for event in told)
    return ProductLoop(
        opened=sum(1 for row in issues.values() if row.created_from is not None and start <= row.created_at < until),
        top=[described(row) for row in ranked[:TOP_ISSUES] if customers[row.id or 0]],
        shipped=[described(row) for row in shipped],
        to_tell=sum(len(customers[row.id or 0]) for row in shipped),
        told=len(told),
        to_told=Waits(len(waits), median(waits), waits[(9 * len(waits) + 9) // 10 - 1]) if waits else Waits(),
    )
