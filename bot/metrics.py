"""Weekly figures, each computed from the append-only events (and when each mention was heard)."""

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlmodel import Session

from bot.clock import utcnow
from bot.errors import UserError
from bot.models import Event, EventKind, Mention, MentionStatus

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_not_joined = Mention.status != MentionStatus.JOINED  # one post heard twice counts once
_PEOPLE_ACTIONS = [kind.value for kind in EventKind if kind is not EventKind.POSTED]


@dataclass(frozen=True)
class Week:
    """An ISO week, Monday 00:00 UTC to the next Monday."""

    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def start(self) -> datetime:
        return datetime.combine(date.fromisocalendar(self.year, self.number, 1), datetime.min.time(), UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=7)

    @classmethod
    def containing(cls, moment: datetime) -> "Week":
        year, number, _ = moment.astimezone(UTC).isocalendar()
        return cls(year, number)

    @classmethod
    def parse(cls, text: str) -> "Week":
        match = _WEEK.match(text.strip().upper())
        if not match:
            raise UserError(f'"{text}" is not an ISO week; write it like 2026-W47')
        year, number = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise UserError(f"{year} has no week {number}") from None
        return cls(year, number)


@dataclass
class WeeklyFigures:
    week: Week
    until: datetime
    """The end of the week, or now if the week is not over: figures are "so far"."""
    heard: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    by_sentiment: dict[str, int] = field(default_factory=dict)
    claimed: int = 0
    replied: int = 0
    escalated: int = 0
    """Mentions escalated at least once; `escalations` counts every escalation, as `escalations_by_team` does."""
    escalations: int = 0
    acknowledged: int = 0
    resolved: int = 0
    median_to_claim: timedelta | None = None
    median_to_first_reply: timedelta | None = None
    outcomes: dict[str, int] = field(default_factory=dict)
    """Each resolved mention once, by its last resolve in the week, so the outcomes add up to `resolved`."""
    escalations_by_team: dict[str, int] = field(default_factory=dict)
    open_backlog: int = 0
    people: int = 0


def weekly_figures(session: Session, week: Week, *, now: datetime | None = None) -> WeeklyFigures:
    now = now or utcnow()
    start, until = week.start, min(week.end, now)
    figures = WeeklyFigures(week=week, until=until)
    in_week = and_(Event.at >= start, Event.at < until)

    heard = session.execute(
        select(Mention.source, Mention.sentiment, func.count())
        .where(Mention.heard_at >= start, Mention.heard_at < until, _not_joined)
        .group_by(Mention.source, Mention.sentiment)
    ).all()
    by_source: Counter[str] = Counter()
    by_sentiment: Counter[str] = Counter()
    for source, sentiment, count in heard:
        by_source[source] += count
        by_sentiment[sentiment] += count
    figures.heard = sum(by_source.values())
    figures.by_source, figures.by_sentiment = dict(by_source.most_common()), dict(by_sentiment.most_common())

    touched = dict(
        session.execute(
            select(Event.kind, func.count(func.distinct(Event.mention_id))).where(in_week).group_by(Event.kind)
        ).all()
    )
    figures.claimed = touched.get(EventKind.CLAIMED, 0)
    figures.replied = touched.get(EventKind.REPLIED, 0)
    figures.escalated = touched.get(EventKind.ESCALATED, 0)
    figures.acknowledged = touched.get(EventKind.ACKNOWLEDGED, 0)
    figures.resolved = touched.get(EventKind.RESOLVED, 0)

    figures.median_to_claim = _median_wait(session, EventKind.CLAIMED, start, until)
    figures.median_to_first_reply = _median_wait(session, EventKind.REPLIED, start, until)

    # In time order, so each mention keeps the outcome of its last resolve: a reopened one counts once.
    last_outcomes = {
        mention_id: str(data.get("outcome"))
        for mention_id, data in session.execute(
            select(Event.mention_id, Event.data)
            .where(in_week, Event.kind == EventKind.RESOLVED)
            .order_by(Event.at, Event.id)
        )
    }
    figures.outcomes = dict(Counter(last_outcomes.values()).most_common())
    teams = Counter(
        str(data.get("team"))
        for (data,) in session.execute(select(Event.data).where(in_week, Event.kind == EventKind.ESCALATED))
    )
    figures.escalations, figures.escalations_by_team = teams.total(), dict(teams.most_common())

    figures.open_backlog = _open_at(session, until)
    figures.people = session.execute(
        select(func.count(func.distinct(Event.actor))).where(
            in_week,
            Event.actor.is_not(None),
            Event.kind.in_(_PEOPLE_ACTIONS),  # type: ignore[union-attr,attr-defined]
        )
    ).scalar_one()
    return figures


def _median_wait(session: Session, kind: EventKind, start: datetime, until: datetime) -> timedelta | None:
    """Median time from hearing a mention to its first event of `kind`, over firsts that fell in the week."""
    firsts = (
        select(Event.mention_id, func.min(Event.at).label("first_at"))
        .where(Event.kind == kind)
        .group_by(Event.mention_id)
        .subquery()
    )
    rows = session.execute(
        select(firsts.c.first_at, Mention.heard_at)
        .join(Mention, Mention.id == firsts.c.mention_id)
        .where(firsts.c.first_at >= start, firsts.c.first_at < until)
    ).all()
    waits = [_aware(first_at) - _aware(heard_at) for first_at, heard_at in rows]
    return statistics.median(waits) if waits else None


def _aware(moment: datetime) -> datetime:
    """Aggregates like min() bypass the column type, so SQLite hands back naive UTC (sometimes as text)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _open_at(session: Session, moment: datetime) -> int:
    """Mentions heard before `moment` whose latest resolve/reopen before it was not a resolve."""
    last_change = (
        select(Event.kind)
        .where(
            Event.mention_id == Mention.id,
            Event.kind.in_([EventKind.RESOLVED.value, EventKind.REOPENED.value]),  # type: ignore[attr-defined]
            Event.at < moment,
        )
        .order_by(Event.at.desc(), Event.id.desc())  # type: ignore[attr-defined,union-attr]
        .limit(1)
        .correlate(Mention)
        .scalar_subquery()
    )
    return session.execute(
        select(func.count())
        .select_from(Mention)
        .where(
            Mention.heard_at < moment,
            _not_joined,
            func.coalesce(last_change, EventKind.REOPENED.value) != EventKind.RESOLVED.value,
        )
    ).scalar_one()
