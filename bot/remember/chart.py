"""The weekly summary's chart: mentions per day by sentiment, and how soon they were first claimed and answered."""

import io
from datetime import timedelta

from bot.remember.figures import WeeklyFigures
from bot.remember.summary import summary_title

# The cards' colours: red, grey and green, from the bottom of each bar up.
SENTIMENT_COLOURS = {"negative": "#d64541", "neutral": "#a0a4a8", "positive": "#2eb67d"}


def time_unit(longest: timedelta) -> tuple[str, int]:
    """Minutes for a quick week, hours or days for a slow one, so the line never hugs the axis."""
    if longest < timedelta(hours=2):
        return "minutes", 60
    if longest < timedelta(days=2):
        return "hours", 3600
    return "days", 86400


def weekly_chart(figures: WeeklyFigures) -> bytes:
    """A PNG, drawn without pyplot so no display, global state or thread is involved."""
    # Loaded here, not at import: matplotlib would add half a second to the start of every command.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 6.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    volume, waits = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    labels = [f"{day.day:%a %d}" for day in figures.days]
    positions = list(range(len(labels)))

    bottoms = [0] * len(positions)
    for sentiment, colour in SENTIMENT_COLOURS.items():
        counts = [day.by_sentiment.get(sentiment, 0) for day in figures.days]
        volume.bar(positions, counts, bottom=bottoms, color=colour, label=sentiment, width=0.7)
        bottoms = [bottom + count for bottom, count in zip(bottoms, counts, strict=True)]
    volume.set_ylim(0, 1.3 * max(1, *bottoms))  # room for the legend
    volume.set_ylabel("mentions heard")
    volume.set_title(summary_title(figures), fontsize=11)
    volume.legend(loc="upper right", frameon=False, fontsize=9)
    volume.yaxis.get_major_locator().set_params(integer=True)
    volume.spines[["top", "right"]].set_visible(False)

    medians = {
        "median time to claim": [day.median_to_claim for day in figures.days],
        "median time to first reply": [day.median_to_first_reply for day in figures.days],
    }
    longest = max((wait for days in medians.values() for wait in days if wait is not None), default=timedelta(0))
    unit, seconds = time_unit(longest)
    for (name, days), marker in zip(medians.items(), "os", strict=True):
        values = [wait.total_seconds() / seconds if wait is not None else float("nan") for wait in days]
        waits.plot(positions, values, marker=marker, label=name)
    waits.set_ylabel(unit)
    waits.set_ylim(0, max(1.0, 1.15 * longest.total_seconds() / seconds))
    waits.legend(loc="upper right", frameon=False, fontsize=9)
    waits.spines[["top", "right"]].set_visible(False)
    waits.set_xticks(positions, labels)

    output = io.BytesIO()
    figure.savefig(output, format="png", metadata={"Software": None})
    return output.getvalue()
