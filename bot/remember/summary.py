"""The weekly summary in words: five parts of labelled rows, shared by `allears summary --print` and the Slack post."""

from collections.abc import Iterable
from dataclasses import dataclass

from bot.ground.durations import format_duration
from bot.ground.text import one_line
from bot.remember.figures import LinkedIssue, Quote, Recovery, Share, Volume, Waits, WeeklyFigures

QUOTE_TEXT = 140
"""Characters of a customer's words shown beside a figure; the link leads to the rest."""


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    quotes: tuple[tuple[str, Quote], ...] = ()
    """Mentions shown under the row, each after a short lead ("outage", "feedback"), linked where rendered."""


@dataclass(frozen=True)
class Part:
    heading: str
    rows: list[Row]


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _signed(number: int) -> str:
    return f"+{number}" if number > 0 else f"{number}" if number else "±0"


def _changes(now: dict[str, int], before: dict[str, int]) -> list[str]:
    """What moved, biggest move first; a name absent on one side counts as zero there."""
    moves = {name: now.get(name, 0) - before.get(name, 0) for name in {*now, *before}}
    ranked = sorted(((name, move) for name, move in moves.items() if move), key=lambda item: (-abs(item[1]), item[0]))
    return [f"{name} {_signed(move)}" for name, move in ranked]


def change_from_last_week(now: Volume, before: Volume) -> str:
    parts = [f"{_signed(now.heard - before.heard)} mentions ({before.heard} last week)"]
    for what, this, last in (
        ("sources", now.by_source, before.by_source),
        ("categories", now.by_category, before.by_category),
        ("sentiment", now.by_sentiment, before.by_sentiment),
    ):
        moves = _changes(this, last)
        if moves:
            parts.append(f"{what}: {', '.join(moves)}")
    return "; ".join(parts)


def _waits(waits: Waits) -> str:
    if not waits.count:
        return "n/a"
    return (
        f"median {format_duration(waits.median)}, 90th percentile {format_duration(waits.p90)} "
        f"({_plural(waits.count, 'mention')})"
    )


def _share(share: Share) -> str:
    return f"{share.percent}% ({share.met} of {share.of})" if share.of else "n/a"


def _voices(by_product: dict[str, int]) -> str:
    """Each product's share of the mentions that named one, biggest first."""
    total = sum(by_product.values())
    return ", ".join(f"{name} {round(100 * count / total)}% ({count})" for name, count in by_product.items())


def _said(figures: WeeklyFigures) -> Part:
    volume = figures.volume
    return Part(
        "What customers said",
        [
            Row("Mentions heard", f"{volume.heard}"),
            Row("By source", _counts(volume.by_source)),
            *([Row("Share of voice", _voices(volume.by_product))] if volume.by_product else []),
            Row("By category", _counts(volume.by_category)),
            Row("By sentiment", _counts(volume.by_sentiment)),
            Row("Change from last week", change_from_last_week(volume, figures.last_week)),
            Row(
                "Top topics",
                ", ".join(f"{group.topic} {group.count}" for group in figures.topics) or "none",
                tuple((group.topic, group.examples[0]) for group in figures.topics),
            ),
            Row(
                "Most negative still open",
                "" if figures.most_negative_open else "none",
                (("", figures.most_negative_open),) if figures.most_negative_open else (),
            ),
            Row("Praise to pass on", "" if figures.praise else "none", tuple(("", quote) for quote in figures.praise)),
        ],
    )


def _answered(figures: WeeklyFigures) -> Part:
    within = ", ".join(f"{name} {_share(share)}" for name, share in figures.within_sla.items()) or "n/a"
    teams = "; ".join(
        f"{team.team} {team.acknowledged} of {team.escalations}"
        + (f" in median {format_duration(team.median_to_acknowledge)}" if team.acknowledged else "")
        for team in figures.by_team
    )
    escalated = (
        f"{_plural(figures.escalated, 'mention')} ({_plural(figures.escalations, 'escalation')}: "
        f"{_counts({team.team: team.escalations for team in figures.by_team})}), acknowledged {figures.acknowledged}"
    )
    return Part(
        "How we answered",
        [
            Row("Claimed", f"{figures.claimed}"),
            Row("Replied", f"{figures.replied}"),
            Row("Resolved", f"{figures.resolved}"),
            Row("Time to claim", _waits(figures.to_claim)),
            Row("Time to first reply", _waits(figures.to_first_reply)),
            Row("Time to resolution", _waits(figures.to_resolution)),
            *_recovered(figures),
            Row("Within SLA", within),
            Row("Open backlog", f"{figures.open_backlog}"),
            Row("Backlog by age", _counts(figures.backlog)),
            Row("Outcomes", _counts(figures.outcomes)),
            Row("Escalated", escalated),
            Row("Acknowledged by team", teams or "none"),
        ],
    )


def _recovery(recovery: Recovery) -> str:
    return f"{recovery.recovered} of {recovery.answered}"


def _recovered(figures: WeeklyFigures) -> list[Row]:
    """Shown once a negative mention was answered on its source: the outcome that matters more than likes."""
    total = figures.recovered
    if not total.answered:
        return []
    answered = _plural(total.answered, "negative mention")
    said = (
        f"{total.recovered} of {answered} answered on their source ended with the customer saying something "
        f"neutral or positive ({round(100 * total.recovered / total.answered)}%; {total.wrote_again} wrote again)"
    )
    by_team = figures.recovered_by_team
    teams = ", ".join(f"{team or 'without a known team'} {_recovery(recovery)}" for team, recovery in by_team.items())
    sources = ", ".join(f"{source} {_recovery(recovery)}" for source, recovery in figures.recovered_by_source.items())
    return [
        Row("Recovered customers", said),
        *([Row("Recovered by team", teams)] if by_team else []),
        Row("Recovered by source", sources),
    ]


def _listened(figures: WeeklyFigures) -> Part:
    teams = _counts(figures.teams)
    if figures.without_team:
        people = "person" if figures.without_team == 1 else "people"
        teams += f" ({figures.without_team} {people} without a known team)"
    busiest = figures.busiest
    rows = [
        Row("People who took part", f"{figures.people}"),
        Row("Teams", teams if figures.people else "none"),
    ]
    if busiest:
        handled = f"handled {busiest.met} of {_plural(busiest.of, 'mention')} someone claimed or answered"
        rows.append(Row("Busiest person's share", f"{busiest.percent}% ({handled})"))
    return Part("Who listened (claimed or replied)", rows)


def _learned(figures: WeeklyFigures) -> Part:
    total = sum(group.count for group in figures.learned)
    rows = [Row("Resolved as feedback", f"{total}")]
    rows += [
        Row(f"About {group.topic}", f"{group.count}", tuple(("", quote) for quote in group.examples))
        for group in figures.learned
    ]
    return Part("What we learned (feedback for the product team)", rows)


def _issue(issue: LinkedIssue) -> str:
    shipped = ", shipped" if issue.state == "done" else ""
    return f"{issue.key} “{one_line(issue.title, 80)}” ({_plural(issue.customers, 'customer')}{shipped}) {issue.url}"


def _to_product(figures: WeeklyFigures) -> Part:
    loop = figures.to_product
    told = f"{loop.told}" + (f" of {loop.to_tell} shipped to this week" if loop.to_tell else "")
    if loop.told:
        told += f", {format_duration(loop.to_told.median)} after shipping (median)"
    return Part(
        "From customers to product",
        [
            Row("Opened from mentions", f"{loop.opened}"),
            Row("Top linked issues", "; ".join(map(_issue, loop.top)) or "none"),
            Row("Shipped this week", "; ".join(map(_issue, loop.shipped)) or "none"),
            Row("Customers told", told),
        ],
    )


def summary_parts(figures: WeeklyFigures) -> list[Part]:
    """The rows, in the order a reader wants them; both renderings use these."""
    return [_said(figures), _answered(figures), _listened(figures), _learned(figures), _to_product(figures)]


def summary_title(figures: WeeklyFigures) -> str:
    week = figures.week
    so_far = " (so far)" if figures.until < week.end else ""
    first, last = week.days[0], week.days[-1]
    return f"All Ears weekly summary, {week.label}: {first:%a %d %b} – {last:%a %d %b %Y}{so_far}"


def summary_footer(figures: WeeklyFigures) -> str:
    return (
        f"Weeks run Monday to Sunday in {figures.week.tz}. Times are from hearing a mention to its first claim, "
        "reply or resolve; every figure is computed from the recorded actions."
    )


def _quote_line(lead: str, quote: Quote) -> str:
    note = f' (noted: "{one_line(quote.note, QUOTE_TEXT)}")' if quote.note else ""
    lead = f"{lead}: " if lead else ""
    words = one_line(quote.text, QUOTE_TEXT)
    return f"    {lead}{quote.reference} “{words}” ({quote.source}) {quote.url or ''}".rstrip() + note


def _lines(parts: Iterable[Part], width: int) -> list[str]:
    lines = []
    for part in parts:
        lines += ["", part.heading]
        for row in part.rows:
            lines.append(f"{row.label + ':':<{width + 1}} {row.value}".rstrip())
            lines += [_quote_line(lead, quote) for lead, quote in row.quotes]
    return lines


def summary_text(figures: WeeklyFigures) -> str:
    parts = summary_parts(figures)
    width = max(len(row.label) for part in parts for row in part.rows)
    return "\n".join([summary_title(figures), *_lines(parts, width), "", summary_footer(figures)])
