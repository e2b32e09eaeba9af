"""The spike alert ("Mentions of Quillo: 46 in the last hour, usually 3–6 on a Tuesday at 14:00") and the
updates in its thread, drawn from the figures each spike event recorded when it was decided."""

from collections.abc import Sequence

from bot.ground.models import Mention, Spike, SpikeEvent, SpikeEventKind
from bot.ground.text import one_line, safe_mrkdwn, truncate
from bot.slack.kit import FALLBACK_TEXT, SECTION_TEXT, Block, context, date, link_with_host, section

_WORD = 40
_SAID = 120
_SOURCE = 100
_MORE = 30
"""Room kept for the "…and N more" line."""


def _who(spike: Spike) -> str:
    return f"Mentions of {safe_mrkdwn(spike.product, 100)}" if spike.product else "All mentions"


def _usually(event: SpikeEvent) -> str:
    low, high = event.data.get("low", 0), event.data.get("high", 0)
    return f"usually {low}" if low == high else f"usually {low}–{high}"


def _listing(event: SpikeEvent, mentions: Sequence[Mention], heading: str) -> list[Block]:
    """The mentions the event names, newest first, each with its reference (its card says the same) and words;
    as many whole lines as the section holds (a cut line would break its link), the rest counted."""
    if not mentions:
        return []
    text, more = heading, int(event.data.get("more", 0))
    for shown, mention in enumerate(mentions):
        said = link_with_host(mention.url, safe_mrkdwn(one_line(mention.title or mention.text, _SAID), 2 * _SAID))
        line = f"\n• *{mention.reference}* on {safe_mrkdwn(mention.source, _SOURCE)} — {said}"
        if len(text) + len(line) > SECTION_TEXT - _MORE:
            more += len(mentions) - shown
            break
        text += line
    return [section(text + (f"\n…and {more} more" if more else ""))]


def spike_alert(spike: Spike, event: SpikeEvent, mentions: Sequence[Mention]) -> list[Block]:
    """The one message a spike posts; its thread gets the updates. `mentions`: those the event lists."""
    data = event.data
    when = f" on a {safe_mrkdwn(str(data.get('weekday', '')), 20)} at {safe_mrkdwn(str(data.get('time', '')), 10)}"
    headline = (
        f":chart_with_upwards_trend: *{_who(spike)}: {data.get('count')} in the last hour*, {_usually(event)}{when}"
    )
    words = [safe_mrkdwn(word, _WORD) for word in data.get("words", [])]
    blocks = [section(headline + (f"\nTop new words: {', '.join(words)}" if words else ""))]
    blocks.append(
        context(
            f"Against the same hour of the week in the past {data.get('weeks')} weeks (median {data.get('median')}),"
            f" since {date(spike.started_at)}. Updates follow in this thread as it grows and when it ends;"
            " each mention keeps its own card."
        )
    )
    return blocks + _listing(event, mentions, "Heard in the last hour:")


def spike_note(spike: Spike, event: SpikeEvent, mentions: Sequence[Mention]) -> list[Block]:
    """An update in the alert's thread: the spike grew well past what it last told, or it is over."""
    return [section(spike_note_text(spike, event))] + _listing(event, mentions, "Heard since the last update:")


def spike_note_text(spike: Spike, event: SpikeEvent) -> str:
    data = event.data
    if event.kind == SpikeEventKind.ENDED:
        return (
            f":white_check_mark: *Back to usual: {data.get('count')} in the last hour* ({_usually(event)})."
            f" It peaked at {data.get('peak')}; it started {date(spike.started_at)}."
        )
    return (
        f":arrow_up: *Still growing: {data.get('count')} in the last hour* (was {data.get('was')}; {_usually(event)})."
    )


def spike_fallback(spike: Spike, event: SpikeEvent) -> str:
    """The notification text, the headline without its formatting."""
    return truncate(f"{_who(spike)}: {event.data.get('count')} in the last hour, {_usually(event)}", FALLBACK_TEXT)
