"""Weekly figures, each computed from the append-only events (and when each mention was heard).

A post heard twice (a joined mention) counts once. Everything is counted in SQL except what needs
each of one week's mentions in turn (the waits, for their median and 90th percentile, and the SLA
clocks, which run as the reminders run them, in `bot.sla_figures`): a week's worth is few enough for Python.
"""

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from bot.clock import utcnow
from bot.config import Sla
from bot.figures import BACKLOG_AGES, Day, Quote, TeamEscalations, TopicGroup, Volume, Waits, WeeklyFigures
from bot.models import Escalation, Event, EventKind, Mention, MentionStatus, Outcome
from bot.sla_figures import within_sla
from bot.weeks import Week

_not_joined = Mention.status != MentionStatus.JOINED
_CHANGES = [EventKind.RESOLVED.value, EventKind.REOPENED.value]
_HANDLING = [EventKind.CLAIMED.value, EventKind.REPLIED.value]
TOP_TOPICS = 5
PRAISE = 3
LEARNED_TOPICS = 5
LEARNED_EXAMPLES = 3


def weekly_figures(
    session: Session,
    week: Week,
    *,
    now: datetime | None = None,
    sla: Sla | None = None,
) -> WeeklyFigures:
    """The week's figures; `sla` adds the shares within target. The teams of who listened are counted
    apart, once the session is let go (`bot.weekly.summarize`)."""
    now = now or utcnow()
    start, until = week.start, max(week.start, min(week.end, now))
    figures = WeeklyFigures(week=week, until=until)
    in_week = and_(Event.at >= start, Event.at < until)

    figures.volume, daily = _volume(session, week, start, until)
    previous = week.previous
    figures.last_week, _ = _volume(
        session, previous, previous.start, min(previous.end, previous.start + (until - start))
    )
    figures.topics = _topics(session, start, until)
    figures.most_negative_open = _most_negative_open(session, start, until)
    figures.praise = _praise(session, start, until)

    touched = dict(
        session.execute(
            select(Event.kind, func.count(func.distinct(Event.mention_id))).where(in_week).group_by(Event.kind)
        ).all()
    )
    figures.claimed = touched.get(EventKind.CLAIMED, 0)
    figures.replied = touched.get(EventKind.REPLIED, 0)
    figures.resolved = touched.get(EventKind.RESOLVED, 0)

    claims = _firsts(session, EventKind.CLAIMED, start, until)
    replies = _firsts(session, EventKind.REPLIED, start, until)
    figures.to_claim, figures.to_first_reply = _waits(claims), _waits(replies)
    figures.to_resolution = _waits(_firsts(session, EventKind.RESOLVED, start, until))
    if sla is not None:
        figures.within_sla = within_sla(session, sla, start, until)
    figures.backlog = _backlog(session, until)

    # In time order, so each mention keeps the outcome of its last resolve: a reopened one counts once.
    last_resolves = {
        mention_id: data
        for mention_id, data in session.execute(
            select(Event.mention_id, Event.data)
            .where(in_week, Event.kind == EventKind.RESOLVED)
            .order_by(Event.at, Event.id)
        )
    }
    figures.outcomes = _ranked(Counter(str(data.get("outcome")) for data in last_resolves.values()))
    feedback = {
        mention_id: data for mention_id, data in last_resolves.items() if data.get("outcome") == Outcome.FEEDBACK
    }
    figures.learned = _learned(session, feedback)

    _escalations(session, figures, start, until)
    handling = (in_week, Event.actor.is_not(None), Event.kind.in_(_HANDLING))  # type: ignore[union-attr,attr-defined]
    figures.handled_by = dict(
        session.execute(
            select(Event.actor, func.count(func.distinct(Event.mention_id)))
            .where(*handling)
            .group_by(Event.actor)
            .order_by(func.count(func.distinct(Event.mention_id)).desc(), Event.actor)
        ).all()
    )
    figures.handled = session.execute(select(func.count(func.distinct(Event.mention_id))).where(*handling)).scalar_one()
    figures.days = [
        Day(day, daily.get(day, {}), _median(claims, day, week), _median(replies, day, week)) for day in week.days
    ]
    return figures


def _volume(
    session: Session, week: Week, start: datetime, until: datetime
) -> tuple[Volume, dict[date, dict[str, int]]]:
    """Mentions heard by source, category and sentiment, and by local day and sentiment, in one query."""
    midnights = [week.midnight(day) for day in week.days[1:]]
    day = case(*((Mention.heard_at < midnight, index) for index, midnight in enumerate(midnights)), else_=6)
    rows = session.execute(
        select(Mention.source, Mention.category, Mention.sentiment, day, func.count())
        .where(Mention.heard_at >= start, Mention.heard_at < until, _not_joined)
        .group_by(Mention.source, Mention.category, Mention.sentiment, day)
    ).all()
    by_source: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    by_sentiment: Counter[str] = Counter()
    daily: dict[date, Counter[str]] = defaultdict(Counter)
    for source, category, sentiment, index, count in rows:
        by_source[source] += count
        by_category[category] += count
        by_sentiment[sentiment] += count
        daily[week.days[index]][sentiment] += count
    volume = Volume(by_source.total(), _ranked(by_source), _ranked(by_category), _ranked(by_sentiment))
    return volume, {day: dict(counts) for day, counts in daily.items()}


def _ranked(counts: Counter[str]) -> dict[str, int]:
    """Biggest first; equal counts by name, so the order never depends on the database."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _quote(mention: Mention, note: str | None = None) -> Quote:
    assert mention.id is not None
    return Quote(
        id=mention.id,
        text=(mention.title or mention.text)[:300],
        source=mention.source,
        url=mention.url,
        polarity=mention.polarity,
        note=note,
    )


def _heard_in(start: datetime, until: datetime) -> Any:
    return and_(Mention.heard_at >= start, Mention.heard_at < until, _not_joined)


def _topics(session: Session, start: datetime, until: datetime) -> list[TopicGroup]:
    """The most common topics, each with the mention that feels most strongly about it."""
    counts = session.execute(
        select(Mention.topic, func.count())
        .where(_heard_in(start, until), Mention.topic.is_not(None))  # type: ignore[union-attr]
        .group_by(Mention.topic)
        .order_by(func.count().desc(), Mention.topic)
        .limit(TOP_TOPICS)
    ).all()
    if not counts:
        return []
    rank = (
        func.row_number()
        .over(partition_by=Mention.topic, order_by=(func.abs(Mention.polarity).desc(), Mention.id))
        .label("rank")
    )
    ranked = (
        select(Mention.id, rank)
        .where(_heard_in(start, until), Mention.topic.in_([topic for topic, _ in counts]))  # type: ignore[union-attr]
        .subquery()
    )
    examples = {
        mention.topic: mention
        for mention in session.scalars(
            select(Mention).join(ranked, ranked.c.id == Mention.id).where(ranked.c.rank == 1)
        )
    }
    return [TopicGroup(topic, count, [_quote(examples[topic])]) for topic, count in counts]


def _open_at(moment: datetime) -> tuple[Any, Any]:
    """Open at `moment`: open now and unchanged since, or changed since but not resolved at the time.

    Only mentions resolved or reopened after `moment` need their history read, so a past week's
    backlog costs about what today's does; each of the two conditions can use its own index.
    """
    changed_since = Mention.id.in_(  # type: ignore[union-attr]
        select(Event.mention_id).where(Event.kind.in_(_CHANGES), Event.at >= moment)  # type: ignore[attr-defined]
    )
    last_change = (
        select(Event.kind)
        .where(Event.mention_id == Mention.id, Event.kind.in_(_CHANGES), Event.at < moment)  # type: ignore[attr-defined]
        .order_by(Event.at.desc(), Event.id.desc())  # type: ignore[attr-defined,union-attr]
        .limit(1)
        .correlate(Mention)
        .scalar_subquery()
    )
    still_open = and_(Mention.status == MentionStatus.OPEN, ~changed_since)
    open_then = and_(
        _not_joined, changed_since, func.coalesce(last_change, EventKind.REOPENED.value) != EventKind.RESOLVED.value
    )
    return still_open, open_then


def _most_negative_open(session: Session, start: datetime, until: datetime) -> Quote | None:
    mention = session.scalars(
        select(Mention)
        .where(_heard_in(start, until), Mention.sentiment == "negative", or_(*_open_at(until)))
        .order_by(Mention.polarity, Mention.id)
        .limit(1)
    ).first()
    return _quote(mention) if mention else None


def _praise(session: Session, start: datetime, until: datetime) -> list[Quote]:
    """The warmest things customers said, for the people who made them happen."""
    mentions = session.scalars(
        select(Mention)
        .where(_heard_in(start, until), or_(Mention.sentiment == "positive", Mention.category == "praise"))
        .order_by(Mention.polarity.desc(), Mention.id)  # type: ignore[attr-defined]
        .limit(PRAISE)
    )
    return [_quote(mention) for mention in mentions]


def _firsts(session: Session, kind: EventKind, start: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """(heard, first `kind` event) for the mentions whose first such event fell in the week."""
    earlier = aliased(Event)
    rows = session.execute(
        select(Mention.heard_at, func.min(Event.at))
        .join(Mention, Mention.id == Event.mention_id)
        .where(
            Event.kind == kind,
            Event.at >= start,
            Event.at < until,
            ~exists().where(earlier.mention_id == Event.mention_id, earlier.kind == kind, earlier.at < start),
        )
        .group_by(Event.mention_id, Mention.heard_at)
    ).all()
    return [(heard_at, _aware(first_at)) for heard_at, first_at in rows]


def _waits(firsts: Sequence[tuple[datetime, datetime]]) -> Waits:
    waits = sorted(first_at - heard_at for heard_at, first_at in firsts)
    if not waits:
        return Waits()
    return Waits(len(waits), statistics.median(waits), waits[math.ceil(0.9 * len(waits)) - 1])


def _median(firsts: Sequence[tuple[datetime, datetime]], day: date, week: Week) -> timedelta | None:
    """The median wait of the first actions taken on `day` (local), for the chart."""
    waits = [first_at - heard_at for heard_at, first_at in firsts if first_at.astimezone(week.zone).date() == day]
    return statistics.median(waits) if waits else None


def _backlog(session: Session, until: datetime) -> dict[str, int]:
    age = case(
        (Mention.heard_at > until - timedelta(hours=1), 0),
        (Mention.heard_at > until - timedelta(days=1), 1),
        (Mention.heard_at > until - timedelta(days=7), 2),
        else_=3,
    )
    counts: Counter[int] = Counter()
    for condition in _open_at(until):
        for index, count in session.execute(
            select(age, func.count()).where(Mention.heard_at < until, condition).group_by(age)
        ):
            counts[index] += count
    return {label: counts[index] for index, label in enumerate(BACKLOG_AGES)}


def _learned(session: Session, feedback: dict[int, dict[str, Any]]) -> list[TopicGroup]:
    """Feedback for the product team, by topic: the biggest topics first, each with a few examples."""
    if not feedback:
        return []
    by_topic: dict[str, list[Mention]] = defaultdict(list)
    for mention in session.scalars(select(Mention).where(Mention.id.in_(list(feedback))).order_by(Mention.id)):  # type: ignore[union-attr]
        by_topic[mention.topic or mention.category].append(mention)
    ranked = sorted(by_topic.items(), key=lambda item: (-len(item[1]), item[0]))[:LEARNED_TOPICS]
    return [
        TopicGroup(
            topic,
            len(mentions),
            [_quote(mention, feedback[mention.id or 0].get("note")) for mention in mentions[:LEARNED_EXAMPLES]],
        )
        for topic, mentions in ranked
    ]


def _escalations(session: Session, figures: WeeklyFigures, start: datetime, until: datetime) -> None:
    """The week's escalations by team, and how soon each team acknowledged them (by the end of the week)."""
    rows = session.execute(
        select(Escalation.mention_id, Escalation.team, Escalation.escalated_at, Escalation.acknowledged_at).where(
            Escalation.escalated_at >= start, Escalation.escalated_at < until
        )
    ).all()
    waits: dict[str, list[timedelta]] = defaultdict(list)
    counts: Counter[str] = Counter()
    for _, team, escalated_at, acknowledged_at in rows:
        counts[team] += 1
        if acknowledged_at is not None and acknowledged_at < until:
            waits[team].append(acknowledged_at - escalated_at)
    figures.escalated = len({mention_id for mention_id, *_ in rows})
    figures.escalations = len(rows)
    figures.acknowledged = sum(len(team_waits) for team_waits in waits.values())
    figures.by_team = [
        TeamEscalations(team, count, len(waits[team]), statistics.median(waits[team]) if waits[team] else None)
        for team, count in _ranked(counts).items()
    ]


def _aware(moment: datetime | str) -> datetime:
    """Aggregates like min() bypass the column type, so SQLite hands back naive UTC (sometimes as text)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
