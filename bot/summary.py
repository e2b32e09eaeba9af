"""The weekly summary as plain text, for `allears summary --print` and as the body of the Slack post."""

from datetime import timedelta

from bot.metrics import WeeklyFigures


def format_duration(duration: timedelta | None) -> str:
    if duration is None:
        return "n/a"
    seconds = max(0, int(duration.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary_lines(figures: WeeklyFigures) -> list[tuple[str, str]]:
    """(label, value) pairs, in the order a reader wants them; both renderings use these."""
    return [
        ("Mentions heard", f"{figures.heard}"),
        ("By source", _counts(figures.by_source)),
        ("By sentiment", _counts(figures.by_sentiment)),
        ("Claimed", f"{figures.claimed}"),
        ("Replied", f"{figures.replied}"),
        (
            "Escalated",
            f"{_plural(figures.escalated, 'mention')} ({_plural(figures.escalations, 'escalation')}: "
            f"{_counts(figures.escalations_by_team)}), acknowledged {figures.acknowledged}",
        ),
        ("Resolved", f"{figures.resolved}"),
        ("Outcomes", _counts(figures.outcomes)),
        ("Median time to claim", format_duration(figures.median_to_claim)),
        ("Median time to first reply", format_duration(figures.median_to_first_reply)),
        ("Open backlog", f"{figures.open_backlog}"),
        ("People who took part", f"{figures.people}"),
    ]


def summary_title(figures: WeeklyFigures) -> str:
    week = figures.week
    so_far = " (so far)" if figures.until < week.end else ""
    last_day = week.end - timedelta(days=1)
    return f"All Ears weekly summary, {week.label}: {week.start:%a %d %b} – {last_day:%a %d %b %Y}{so_far}"


def summary_text(figures: WeeklyFigures) -> str:
    width = max(len(label) for label, _ in summary_lines(figures))
    rows = [f"{label + ':':<{width + 1}} {value}" for label, value in summary_lines(figures)]
    return "\n".join([summary_title(figures), "", *rows])
