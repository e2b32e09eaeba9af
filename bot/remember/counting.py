"""Weekly figures, each computed from the append-only events (and when each mention was heard).

A post heard twice (a joined mention) counts once. Everything is counted, ranked and grouped in SQL,
so a busy week costs the database, not Python, and only what is shown comes back; except the SLA
clocks, which run as the reminders run them, mention by mention (`bot.remember.sla_shares`).
"""

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import CompoundSelect, and_, case, exists, func, literal, null, or_, select, text, tuple_, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from bot.ground.clock import utcnow
from bot.ground.config import Sentiment, Sla
from bot.ground.db import alongside, among
from bot.ground.models import Escalation, Event, EventKind, Mention, MentionStatus, Outcome
from bot.remember.figures import (
    BACKLOG_AGES,
    Day,
    Quote,
    Recovery,
    Share,
    TeamEscalations,
    TopicGroup,
    Volume,
    Waits,
    WeeklyFigures,
    WeekSoFar,
    median,
    ranked_recoveries,
)
from bot.remember.product_loop import product_loop
from bot.remember.sla_shares import within_sla
from bot.remember.weeks import Week

_not_joined = col(Mention.status) != MentionStatus.JOINED
_CHANGES = [EventKind.RESOLVED.value, EventKind.REOPENED.value]
_HANDLING = [EventKind.CLAIMED.value, EventKind.REPLIED.value]
_COUNTED = (EventKind.CLAIMED, EventKind.REPLIED, EventKind.RESOLVED)
TOP_TOPICS = 5
PRAISE = 3
LEARNED_TOPICS = 5
LEARNED_EXAMPLES = 3
OPEN_CANDIDATES = 200


def weekly_figures(
    session: Session,
    week: Week,
    *,
    now: datetime | None = None,
    sla: Sla | None = None,
) -> WeeklyFigures:
    """The week's figures; `sla` adds the shares within target. The teams of who listened are counted
    apart, once the session is let go (`bot.remember.summary_due.summarize`)."""
    now = now or utcnow()
    start, until = week.start, max(week.start, min(week.end, now))
    figures = WeeklyFigures(week=week, until=until)
    _plan_cheaply(session)
    with alongside(session, lambda other: _other_half(other, sla, week, start, until)) as other_half:
        daily = _fill(session, figures, week, start, until)
        waits, figures.within_sla, (figures.outcomes, figures.learned) = other_half()
    figures.to_claim, claims_by_day = waits[EventKind.CLAIMED]
    figures.to_first_reply, replies_by_day = waits[EventKind.REPLIED]
    figures.to_resolution, _ = waits[EventKind.RESOLVED]
    figures.days = [
        Day(day, daily.get(day, {}), claims_by_day.get(index), replies_by_day.get(index))
        for index, day in enumerate(week.days)
    ]
    return figures


def _other_half(
    session: Session, sla: Sla | None, week: Week, start: datetime, until: datetime
) -> tuple[
    dict[EventKind, tuple[Waits, dict[int, timedelta]]], dict[str, Share], tuple[dict[str, int], list[TopicGroup]]
]:
    """The waits, the SLA shares and the outcomes and feedback, run alongside the rest (`bot.ground.db.alongside`):
    with the shares alone there, the summary's own connection waited on the server twice as long as the other."""
    _plan_cheaply(session)
    waits = _waits(session, _COUNTED, week, start, until)
    shares = {} if sla is None else within_sla(session, sla, start, until)
    return waits, shares, _outcomes_and_learned(session, and_(col(Event.at) >= start, col(Event.at) < until))


def _plan_cheaply(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Planned as costly (a year of events), statements that run in tens of milliseconds were JIT-compiled
        # first, for 10-20 ms each: more than the compiled code saved.
        session.execute(text("SET LOCAL jit = off"))
        # The waits rank a busy week's ~90,000 first actions twice; in the default 4 MB each sort spilled to disk.
        session.execute(text("SET LOCAL work_mem = '64MB'"))


def _fill(
    session: Session, figures: WeeklyFigures, week: Week, start: datetime, until: datetime
) -> dict[date, dict[str, int]]:
    """All but what runs alongside; the mentions heard each day, by sentiment."""
    in_week = and_(col(Event.at) >= start, col(Event.at) < until)
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
            select(col(Event.kind), func.count(func.distinct(col(Event.mention_id))))
            .where(in_week, col(Event.kind).in_(_COUNTED))
            .group_by(col(Event.kind))
        ).all()
    )
    figures.claimed = touched.get(EventKind.CLAIMED, 0)
    figures.replied = touched.get(EventKind.REPLIED, 0)
    figures.resolved = touched.get(EventKind.RESOLVED, 0)

    figures.backlog = _backlog(session, until)

    figures.to_product = product_loop(session, start, until)

    _escalations(session, figures, start, until)
    figures.recovered_by_source, figures.recovered_by_answerer = _recovered(session, start, until)
    handling = (in_week, col(Event.actor).is_not(None), col(Event.kind).in_(_HANDLING))
    figures.handled_by = dict(
        session.execute(
            select(col(Event.actor), func.count(func.distinct(col(Event.mention_id))))
            .where(*handling)
            .group_by(col(Event.actor))
            .order_by(func.count(func.distinct(col(Event.mention_id))).desc(), col(Event.actor))
        ).all()
    )
    figures.handled = session.execute(
        select(func.count(func.distinct(col(Event.mention_id)))).where(*handling)
    ).scalar_one()
    return daily


def _volume(
    session: Session, week: Week, start: datetime, until: datetime
) -> tuple[Volume, dict[date, dict[str, int]]]:
    """Mentions heard by source, category, sentiment and product, and by local day and sentiment, in one query."""
    day = _local_day(week, col(Mention.heard_at))
    grouped = (col(Mention.source), col(Mention.category), col(Mention.sentiment), col(Mention.product), day)
    rows = session.execute(
        select(*grouped, func.count())
        .where(col(Mention.heard_at) >= start, col(Mention.heard_at) < until, _not_joined)
        .group_by(*grouped)
    ).all()
    by_source: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    by_sentiment: Counter[str] = Counter()
    by_product: Counter[str] = Counter()
    daily: dict[date, Counter[str]] = defaultdict(Counter)
    days = week.days
    for source, category, sentiment, product, index, count in rows:
        by_source[source] += count
        by_category[category] += count
        by_sentiment[sentiment] += count
        if product is not None:
            by_product[product] += count
        daily[days[index]][sentiment] += count
    volume = Volume(
        by_source.total(), _ranked(by_source), _ranked(by_category), _ranked(by_sentiment), _ranked(by_product)
    )
    return volume, {day: dict(counts) for day, counts in daily.items()}


def _local_day(week: Week, moment: Any) -> Any:
    """Which day of the week (0 for Monday, in the week's time zone) a moment falls on, in SQL."""
    midnights = [week.midnight(day) for day in week.days[1:]]
    return case(*((moment < midnight, index) for index, midnight in enumerate(midnights)), else_=6)


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
    return and_(col(Mention.heard_at) >= start, col(Mention.heard_at) < until, _not_joined)


def _topics(session: Session, start: datetime, until: datetime) -> list[TopicGroup]:
    """The most common topics, each with the mention that feels most strongly about it."""
    counts = session.execute(
        select(col(Mention.topic), func.count())
        .where(_heard_in(start, until), col(Mention.topic).is_not(None))
        .group_by(col(Mention.topic))
        .order_by(func.count().desc(), col(Mention.topic))
        .limit(TOP_TOPICS)
    ).all()
    if not counts:
        return []
    rank = (
        func.row_number()
        .over(partition_by=col(Mention.topic), order_by=(func.abs(col(Mention.polarity)).desc(), col(Mention.id)))
        .label("rank")
    )
    ranked = (
        select(col(Mention.id), rank)
        .where(_heard_in(start, until), col(Mention.topic).in_([topic for topic, _ in counts]))
        .subquery()
    )
    examples = {
        mention.topic: mention
        for mention in session.scalars(
            select(Mention).join(ranked, ranked.c.id == col(Mention.id)).where(ranked.c.rank == 1)
        )
    }
    return [TopicGroup(topic, count, [_quote(examples[topic])]) for topic, count in counts]


def _open_at(moment: datetime) -> tuple[Any, Any]:
    """Open at `moment`: open now and unchanged since, or changed since but not resolved at the time.

    Only mentions resolved or reopened after `moment` need their history read; each of the two conditions
    can use its own index. For a week long past (hundreds of thousands of changes since): "unchanged since"
    is NOT EXISTS, as NOT IN PostgreSQL searched a list for each open mention, for minutes; and the history
    is read only under a CASE that asks first whether the mention changed since, else PostgreSQL read it for
    every mention heard before `moment`, before joining them to those that changed.
    """
    since = (col(Event.kind).in_(_CHANGES), col(Event.at) >= moment)
    changed = exists().where(col(Event.mention_id) == col(Mention.id), *since)
    changed_since = col(Mention.id).in_(select(col(Event.mention_id)).where(*since))
    last_change = (
        select(col(Event.kind))
        .where(col(Event.mention_id) == col(Mention.id), col(Event.kind).in_(_CHANGES), col(Event.at) < moment)
        .order_by(col(Event.at).desc(), col(Event.id).desc())
        .limit(1)
        .correlate(Mention)
        .scalar_subquery()
    )
    still_open = and_(col(Mention.status) == MentionStatus.OPEN, ~changed)
    then = case((changed, func.coalesce(last_change, EventKind.REOPENED.value)), else_=EventKind.RESOLVED.value)
    open_then = and_(_not_joined, changed_since, then != EventKind.RESOLVED.value)
    return still_open, open_then


def _most_negative_open(session: Session, start: datetime, until: datetime) -> Quote | None:
    """The week's negative mentions are ranked from the index alone, and only the most negative, a batch at a
    time, are asked whether they were open at `until`: asked of all of them, PostgreSQL probed every mention
    changed since (a week long gone by: most of the week's) for its row. Each way of being open is asked apart:
    OR-ed, the NOT EXISTS could not be an anti-join."""
    ranked = (
        select(col(Mention.id))
        .where(_heard_in(start, until), col(Mention.sentiment) == "negative")
        .order_by(col(Mention.polarity), col(Mention.id))
    )
    dialect = session.get_bind().dialect.name
    offset = 0
    while candidates := list(session.scalars(ranked.offset(offset).limit(OPEN_CANDIDATES))):
        open_ones = select(col(Mention.polarity), col(Mention.id)).where(among(col(Mention.id), candidates, dialect))
        found = [session.execute(open_ones.where(condition)).all() for condition in _open_at(until)]
        if first := min((tuple(row) for rows in found for row in rows), default=None):
            mention = session.get(Mention, first[1])
            assert mention is not None
            return _quote(mention)
        offset += OPEN_CANDIDATES
    return None


def _praise(session: Session, start: datetime, until: datetime) -> list[Quote]:
    """The warmest things customers said, for the people who made them happen: ranked from the index alone (the
    whole rows of a busy week's warm mentions were read to keep three)."""
    warmest = (
        select(col(Mention.id))
        .where(_heard_in(start, until), or_(col(Mention.sentiment) == "positive", col(Mention.category) == "praise"))
        .order_by(col(Mention.polarity).desc(), col(Mention.id))
        .limit(PRAISE)
        .scalar_subquery()
    )
    mentions = session.scalars(
        select(Mention).where(col(Mention.id).in_(warmest)).order_by(col(Mention.polarity).desc(), col(Mention.id))
    )
    return [_quote(mention) for mention in mentions]


_FIRSTS = {
    EventKind.CLAIMED: col(Mention.first_claimed_at),
    EventKind.REPLIED: col(Mention.first_reply_at),
    EventKind.RESOLVED: col(Mention.first_resolved_at),
}
"""When each mention was first claimed, answered and resolved, kept on the mention as it happens
(`bot.act.actions`): asked of the events, a busy week cost an index probe per event."""


def _firsts_query(kinds: tuple[EventKind, ...], start: datetime, until: datetime) -> CompoundSelect:
    """(kind, heard, first event of that kind) for the mentions whose first such event fell in the week."""
    return union_all(
        *(
            select(literal(kind.value).label("kind"), col(Mention.heard_at), _FIRSTS[kind].label("first_at")).where(
                _FIRSTS[kind] >= start,
                _FIRSTS[kind] < until,
            )
            for kind in kinds
        )
    )


def week_so_far(session: Session, week: Week, *, now: datetime | None = None) -> WeekSoFar:
    """The Home tab's numbers, counted as `weekly_figures` counts them but without the rest: the tab is
    redrawn after every action, so it must cost a few indexed queries whatever the week's volume."""
    now = now or utcnow()
    start, until = week.start, max(week.start, min(week.end, now))
    claimed = (col(Event.kind) == EventKind.CLAIMED, col(Event.at) >= start, col(Event.at) < until)
    return WeekSoFar(
        week=week,
        heard=session.execute(select(func.count()).where(_heard_in(start, until))).scalar_one(),
        claimed=session.execute(select(func.count(func.distinct(col(Event.mention_id)))).where(*claimed)).scalar_one(),
        median_to_claim=_waits(session, (EventKind.CLAIMED,), week, start, until)[EventKind.CLAIMED][0].median,
        open_backlog=sum(_backlog(session, until).values()),
    )


def _waits(
    session: Session, kinds: tuple[EventKind, ...], week: Week, start: datetime, until: datetime
) -> dict[EventKind, tuple[Waits, dict[int, timedelta]]]:
    """For each kind, the waits for a first such event that fell in the week, and each day's median (by its
    index in the week).

    The database picks the middle waits and the 90th percentile's, so a busy week costs no more here than a
    quiet one: PostgreSQL with its ordered-set aggregates, over the week and each day in one pass (a third of
    what ranking every wait twice in window functions cost a busy week); SQLite ranks them, by julianday, to
    the millisecond.
    """
    if session.get_bind().dialect.name != "sqlite":
        return _percentile_waits(session, kinds, week, start, until)
    firsts = _firsts_query(kinds, start, until).subquery()
    wait = func.julianday(firsts.c.first_at) - func.julianday(firsts.c.heard_at)
    day = _local_day(week, firsts.c.first_at)
    ranked = select(
        firsts.c.kind,
        firsts.c.heard_at,
        firsts.c.first_at,
        day.label("day"),
        func.row_number().over(partition_by=firsts.c.kind, order_by=wait).label("rank"),
        func.count().over(partition_by=firsts.c.kind).label("total"),
        func.row_number().over(partition_by=(firsts.c.kind, day), order_by=wait).label("day_rank"),
        func.count().over(partition_by=(firsts.c.kind, day)).label("day_total"),
    ).subquery()
    c = ranked.c
    rows = session.execute(
        select(c.kind, c.heard_at, c.first_at, c.day, c.rank, c.total, c.day_rank, c.day_total).where(
            or_(
                c.rank.in_([(c.total + 1) // 2, (c.total + 2) // 2, (9 * c.total + 9) // 10]),  # nearest rank: ⌈0.9 n⌉
                c.day_rank.in_([(c.day_total + 1) // 2, (c.day_total + 2) // 2]),
            )
        )
    ).all()
    return {kind: _ranked_waits([row for row in rows if row.kind == kind]) for kind in kinds}


def _percentile_waits(
    session: Session, kinds: tuple[EventKind, ...], week: Week, start: datetime, until: datetime
) -> dict[EventKind, tuple[Waits, dict[int, timedelta]]]:
    """`_waits` on PostgreSQL. The two middle waits are the lower median in ascending and in descending order
    (the same one when the count is odd), the 90th percentile the nearest rank ⌈0.9 n⌉, as SQLite's ranks pick."""
    firsts = _firsts_query(kinds, start, until).subquery()
    wait = firsts.c.first_at - firsts.c.heard_at
    day = _local_day(week, firsts.c.first_at).label("day")
    rows = session.execute(
        select(
            firsts.c.kind,
            day,
            func.grouping(day).label("whole_week"),
            func.count().label("total"),
            func.percentile_disc(0.5).within_group(wait).label("low"),
            func.percentile_disc(0.5).within_group(wait.desc()).label("high"),
            func.percentile_disc(0.9).within_group(wait).label("p90"),
        ).group_by(func.grouping_sets(tuple_(firsts.c.kind), tuple_(firsts.c.kind, day)))
    ).all()
    waits: dict[EventKind, tuple[Waits, dict[int, timedelta]]] = {kind: (Waits(), {}) for kind in kinds}
    for kind in kinds:
        mine = [row for row in rows if row.kind == kind]
        if week_row := next((row for row in mine if row.whole_week), None):
            medians = {row.day: median([row.low, row.high]) for row in mine if not row.whole_week}
            waits[kind] = Waits(week_row.total, median([week_row.low, week_row.high]), week_row.p90), medians
    return waits


def _ranked_waits(rows: list[Any]) -> tuple[Waits, dict[int, timedelta]]:
    if not rows:
        return Waits(), {}
    total = rows[0].total
    waits = {(row.rank, row.day, row.day_rank): _aware(row.first_at) - _aware(row.heard_at) for row in rows}
    middle = [wait for (rank, _, _), wait in waits.items() if rank in ((total + 1) // 2, (total + 2) // 2)]
    p90 = next(wait for (rank, _, _), wait in waits.items() if rank == (9 * total + 9) // 10)
    by_day: defaultdict[int, list[timedelta]] = defaultdict(list)
    for row in rows:
        if row.day_rank in ((row.day_total + 1) // 2, (row.day_total + 2) // 2):
            by_day[row.day].append(waits[row.rank, row.day, row.day_rank])
    medians = {index: median(day_waits) for index, day_waits in by_day.items()}
    return Waits(total, median(middle), p90), medians


def _backlog(session: Session, until: datetime) -> dict[str, int]:
    age = case(
        (col(Mention.heard_at) > until - timedelta(hours=1), 0),
        (col(Mention.heard_at) > until - timedelta(days=1), 1),
        (col(Mention.heard_at) > until - timedelta(days=7), 2),
        else_=3,
    )
    counts: Counter[int] = Counter()
    for condition in _open_at(until):
        for index, count in session.execute(
            select(age, func.count()).where(col(Mention.heard_at) < until, condition).group_by(age)
        ):
            counts[index] += count
    return {label: counts[index] for index, label in enumerate(BACKLOG_AGES)}


def _outcomes_and_learned(session: Session, in_week: Any) -> tuple[dict[str, int], list[TopicGroup]]:
    """Each mention by the outcome of its last resolve in the week (a reopened one counts once), and what was
    resolved as feedback for the product team, by topic: the biggest topics first, each with its first few
    mentions as examples.

    The week's last resolves are found once, in one statement with the outcomes' counts and the feedback's
    topics (a few thousand rows), where three statements found them again each; the topics are ranked here,
    biggest first and equal counts by name, as `_ranked` ranks."""
    last = func.row_number().over(
        partition_by=col(Event.mention_id), order_by=(col(Event.at).desc(), col(Event.id).desc())
    )
    resolves = (
        select(
            col(Event.mention_id),
            col(Event.data)["outcome"].as_string().label("outcome"),
            col(Event.data)["note"].as_string().label("note"),
            last.label("last"),
        )
        .where(in_week, col(Event.kind) == EventKind.RESOLVED)
        .subquery()
    )
    lasts = select(resolves.c.mention_id, resolves.c.outcome, resolves.c.note).where(resolves.c.last == 1).cte()
    outcome_counts = select(
        lasts.c.outcome.label("name"), func.count().label("count"), null().label("mention_id"), null().label("note")
    ).group_by(lasts.c.outcome)
    feedback = (
        select(
            func.coalesce(col(Mention.topic), col(Mention.category)).label("name"),
            null().label("count"),
            col(Mention.id).label("mention_id"),
            lasts.c.note,
        )
        .join(Mention, col(Mention.id) == lasts.c.mention_id)
        .where(lasts.c.outcome == Outcome.FEEDBACK.value)
    )
    outcomes: Counter[str] = Counter()
    by_topic: defaultdict[str, list[tuple[int, str | None]]] = defaultdict(list)
    for name, number, mention_id, note in session.execute(union_all(outcome_counts, feedback)):
        if mention_id is None:
            outcomes[str(name)] = number
        else:
            by_topic[name].append((mention_id, note))
    biggest = list(_ranked(Counter({name: len(found) for name, found in by_topic.items()})).items())[:LEARNED_TOPICS]
    shown = {name: sorted(by_topic[name])[:LEARNED_EXAMPLES] for name, _ in biggest}
    notes = {mention_id: note for examples in shown.values() for mention_id, note in examples}
    mentions = {
        mention.id: mention for mention in session.scalars(select(Mention).where(col(Mention.id).in_(list(notes))))
    }
    learned = [
        TopicGroup(name, count, [_quote(mentions[mention_id], note) for mention_id, note in shown[name]])
        for name, count in biggest
    ]
    return _ranked(outcomes), learned


def _escalations(session: Session, figures: WeeklyFigures, start: datetime, until: datetime) -> None:
    """The week's escalations by team, and how soon each team acknowledged them (by the end of the week)."""
    rows = session.execute(
        select(
            col(Escalation.mention_id),
            col(Escalation.team),
            col(Escalation.escalated_at),
            col(Escalation.acknowledged_at),
        ).where(col(Escalation.escalated_at) >= start, col(Escalation.escalated_at) < until)
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
        TeamEscalations(team, count, len(waits[team]), median(waits[team]) if waits[team] else None)
        for team, count in _ranked(counts).items()
    ]


_WORDS_OF_RECOVERY = (Sentiment.NEUTRAL.value, Sentiment.POSITIVE.value)


def _recovered(
    session: Session, start: datetime, until: datetime
) -> tuple[dict[str, Recovery], dict[str | None, Recovery]]:
    """The week's negative mentions answered on their source, by source and by who sent the first answer there:
    how many the customer wrote again after (a post joined to the mention on its own source: an author writing
    again in the conversation, `bot.hear.recording`; a post heard again elsewhere is joined from another source),
    and how many of those ended with the customer's latest words, by the week's end, neutral or positive."""
    answers = (
        select(
            col(Mention.id).label("mention_id"),
            col(Mention.source).label("source"),
            col(Event.actor).label("actor"),
            col(Event.at).label("at"),
            func.row_number()
            .over(partition_by=col(Event.mention_id), order_by=(col(Event.at), col(Event.id)))
            .label("nth"),
        )
        .join(Mention, col(Mention.id) == col(Event.mention_id))
        .where(
            _heard_in(start, until),
            col(Mention.sentiment) == "negative",
            col(Event.kind) == EventKind.SENT_TO_SOURCE,
            col(Event.at) < until,
            col(Event.data)["error"].as_string().is_(None),
        )
        .subquery()
    )
    later = aliased(Mention)
    latest = (
        select(
            answers.c.source,
            answers.c.actor,
            col(later.sentiment).label("sentiment"),
            func.row_number()
            .over(partition_by=answers.c.mention_id, order_by=(col(later.heard_at).desc(), col(later.id).desc()))
            .label("latest"),
        )
        .select_from(answers)
        .outerjoin(
            later,
            and_(
                col(later.duplicate_of) == answers.c.mention_id,
                col(later.source) == answers.c.source,
                col(later.status) == MentionStatus.JOINED,
                col(later.heard_at) > answers.c.at,
                col(later.heard_at) >= start,
                col(later.heard_at) < until,
            ),
        )
        .where(answers.c.nth == 1)
        .subquery()
    )
    rows = session.execute(
        select(
            latest.c.source,
            latest.c.actor,
            func.count(),
            func.count(latest.c.sentiment),
            func.count().filter(latest.c.sentiment.in_(_WORDS_OF_RECOVERY)),
        )
        .where(latest.c.latest == 1)
        .group_by(latest.c.source, latest.c.actor)
    ).all()
    by_source: defaultdict[str, Recovery] = defaultdict(Recovery)
    by_answerer: defaultdict[str | None, Recovery] = defaultdict(Recovery)
    for source, actor, answered, wrote_again, recovered in rows:
        recovery = Recovery(answered, wrote_again, recovered)
        by_source[source] += recovery
        by_answerer[actor] += recovery
    return ranked_recoveries(by_source), dict(by_answerer)


def _aware(moment: datetime | str) -> datetime:
    """Aggregates like min() bypass the column type, so SQLite hands back naive UTC (sometimes as text)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
