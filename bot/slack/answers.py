"""What the bot answers people directly: help, their queue, this week's numbers, the weekly summary."""

from collections.abc import Sequence

from bot.act.labels import LabelCounts
from bot.ground.config import Sentiment
from bot.ground.models import Mention
from bot.ground.text import one_line, safe_mrkdwn
from bot.hear.health import SourceHealth
from bot.hear.relevance import ENOUGH
from bot.remember.figures import Quote, WeeklyFigures
from bot.remember.summary import QUOTE_TEXT, Row, summary_footer, summary_parts, summary_title
from bot.remember.webhooks import WebhookHealth
from bot.slack.cards import SENTIMENT_EMOJI
from bot.slack.kit import (
    CONTEXT_TEXT,
    MAX_MESSAGE_BLOCKS,
    SECTION_TEXT,
    Block,
    context,
    date,
    link_with_host,
    plain,
    section,
)

HELP = """*All Ears* brings what customers say in public into Slack, so anyone can answer.
Every mention gets a card with a reference like `M-7` and buttons; these commands do the same from anywhere:
• `/claim M-7`: take it; nobody else can while it is yours
• `/unclaim M-7`: give it back (only its owner can)
• `/reply M-7 <what you answered>`: record your answer; it is posted in the card's thread
• `/escalate M-7 <team> [reason]`: hand it to a team ({teams}); their channel is pinged
• `/resolve M-7 <outcome> [note]`: close it as one of {outcomes}
• `/reopen M-7`: open a resolved mention again
• `/snooze M-7 2h`: hold its SLA reminders for a while (`/snooze M-7 off` wakes it); the card's *Snooze* menu too
• `/allears queue`: your open mentions and the unclaimed ones
• `/allears stats`: this week's numbers so far
• `/allears sources`: how each source is doing
• `/allears webhooks`: how each outbound webhook's receiver is doing (failing, paused, events waiting)
• `/allears muted`: what the relevance model muted in the last 7 days, each with a button that posts its card
• `/allears log <url or text>`: record something a customer said elsewhere (a call, an email) as a mention; \
a link alone is logged with its page's title and description
• `/allears issue M-7 [tracker] [title]`: open a tracker issue (GitHub, Jira, Linear) from it, with the customer's \
words; the card's *⋯* menu and the escalation message have *Create issue* too
• `/allears link M-9 GH-123`: make another mention evidence on an issue (its key or link); when the issue ships, \
each thread offers *Tell the customer*
• `/allears pause <source>` (admin-only): stop polling a source until it is resumed
• `/allears resume <source>` (admin-only): poll it again
• `/allears export [since] [until]` (admin-only): every mention heard in that span (UTC, like `2026-01-01`) \
as a CSV file, sent to you in a direct message
• `/allears help`: this message
A message in Slack can be logged too: its *⋯* menu → *Log as customer mention*.
Admins are listed in `[admins] users` in allears.toml. Sources, routes and teams are changed there, not from Slack."""

HEADER_TEXT = 150
_QUEUE_SNIPPET = 120
# Each of the two lists takes a title, its lines and a "more" note: 2 × (1 + 23 + 1) = MAX_MESSAGE_BLOCKS.
_QUEUE_LINES = MAX_MESSAGE_BLOCKS // 2 - 2


def help_text(*, teams: Sequence[str], outcomes: Sequence[str]) -> str:
    return HELP.format(
        teams=", ".join(f"`{team}`" for team in teams) or "none configured yet",
        outcomes=", ".join(f"`{outcome}`" for outcome in outcomes),
    )


def mention_line(mention: Mention) -> str:
    emoji = SENTIMENT_EMOJI[Sentiment(mention.sentiment)]
    snippet = safe_mrkdwn(mention.title or mention.text, _QUEUE_SNIPPET)
    where = f" in <#{mention.card_channel}>" if mention.card_channel else ""
    heard = date(mention.heard_at, style="{date_short_pretty}")
    return f"{emoji} *{mention.reference}* {link_with_host(mention.url, snippet)}{where}, heard {heard}"


def queue_blocks(
    *, mine: Sequence[Mention], unclaimed: Sequence[Mention], mine_total: int, unclaimed_total: int
) -> list[Block]:
    """One section per mention, so a long link is never cut at the section limit; at most 50 blocks."""
    blocks: list[Block] = []
    for title, mentions, total, empty in (
        ("Yours, open", mine, mine_total, "Nothing: you own no open mention."),
        ("Unclaimed", unclaimed, unclaimed_total, "Nothing waits: every open mention has an owner."),
    ):
        shown = mentions[:_QUEUE_LINES]
        blocks.append(section(f"*{title} ({total})*"))
        blocks += [section(mention_line(mention)) for mention in shown] or [section(empty)]
        if total > len(shown):
            blocks.append(context(f"…and {total - len(shown)} more"))
    return blocks


_ROW_VALUE = 600
_QUOTE = 400


def _quote_line(lead: str, quote: Quote) -> str:
    """A customer's words, escaped and linked to where they said it, with the note it was closed with."""
    words = link_with_host(quote.url, f"{quote.reference} “{safe_mrkdwn(one_line(quote.text, QUOTE_TEXT), _QUOTE)}”")
    note = f" _noted: {safe_mrkdwn(one_line(quote.note, QUOTE_TEXT), _QUOTE)}_" if quote.note else ""
    lead = f"{safe_mrkdwn(lead, 100)}: " if lead else ""
    return f"    • {lead}{words} ({safe_mrkdwn(quote.source, 100)}){note}"


def _row_lines(row: Row) -> list[str]:
    return [f"*{safe_mrkdwn(row.label, 100)}:* {safe_mrkdwn(row.value, _ROW_VALUE)}".rstrip()] + [
        _quote_line(lead, quote) for lead, quote in row.quotes
    ]


def _packed(heading: str, lines: list[str]) -> list[Block]:
    """Lines in as few sections as fit, never cutting one (a cut link would show its markup)."""
    blocks: list[Block] = []
    text = f"*{safe_mrkdwn(heading, 200)}*"
    for line in lines:
        if len(text) + 1 + len(line) > SECTION_TEXT:
            blocks.append(section(text))
            text = ""
        text = f"{text}\n{line}" if text else line
    return [*blocks, section(text)]


def figures_blocks(figures: WeeklyFigures, *, chart: bool = False, labels: LabelCounts | None = None) -> list[Block]:
    """The summary's parts under its title; `chart` says the chart follows in the thread, `labels` how
    many mentions the team's actions have judged (`/allears stats`)."""
    blocks: list[Block] = [{"type": "header", "text": plain(summary_title(figures), limit=HEADER_TEXT)}]
    for part in summary_parts(figures):
        blocks += _packed(part.heading, [line for row in part.rows for line in _row_lines(row)])
    notes = [safe_mrkdwn(summary_footer(figures), CONTEXT_TEXT)]
    if chart:
        notes.append(":bar_chart: The chart of mentions per day and response times is in the thread.")
    if labels is not None:
        notes.append(
            f":label: Judged by the team so far: *{labels.relevant}* relevant (claimed, answered, escalated, "
            f"fixed or feedback), *{labels.not_relevant}* not (not-relevant or spam); "
            + (
                "the relevance model scores new mentions"
                if min(labels.relevant, labels.not_relevant) >= ENOUGH
                else f"the relevance model starts scoring at {ENOUGH} of each"
            )
        )
    return [*blocks[: MAX_MESSAGE_BLOCKS - 1], context(*notes)]


MAX_SOURCES = MAX_MESSAGE_BLOCKS - 1


def sources_blocks(health: Sequence[SourceHealth]) -> list[Block]:
    """One line per source: how it is, when it last worked, what went wrong, when it is polled next."""
    if not health:
        return [section("No sources are configured: add `[[sources]]` entries to allears.toml.")]
    blocks: list[Block] = [section(f"*Sources ({len(health)})*")]
    for source in health[:MAX_SOURCES]:
        status = ":red_circle: failing" if source.failing else ":large_green_circle: ok"
        if source.last_success_at is None and not source.failing:
            status = ":white_circle: not polled yet"
        if source.paused_at:
            status = ":double_vertical_bar: paused"
        lines = [
            f"{status}  *{safe_mrkdwn(source.key, 200)}* ({source.kind}): {source.mentions} mentions heard, "
            f"{source.items_seen} items in its last poll"
        ]
        if source.last_success_at:
            lines.append(f"last success {date(source.last_success_at)}")
        if source.last_error and source.last_error_at:
            lines.append(f"last error {date(source.last_error_at)}: {safe_mrkdwn(source.last_error, 500)}")
        if source.paused_at:
            by = f" by <@{source.paused_by}>" if source.paused_by else ""
            lines.append(f"paused{by} since {date(source.paused_at)}: not polled until `/allears resume`")
        else:
            lines.append(f"next poll {date(source.next_poll_at)}" if source.next_poll_at else "polled at start-up")
        blocks.append(context("\n".join(lines)))
    return blocks


def webhooks_blocks(health: Sequence[WebhookHealth]) -> list[Block]:
    """One line per receiver, as `/allears sources` shows sources: how it is, when it last took an event, what waits."""
    if not health:
        return [section("No webhooks are configured: add `[[webhooks]]` entries to allears.toml (docs/webhooks.md).")]
    blocks: list[Block] = [section(f"*Webhooks ({len(health)})*")]
    for receiver in health[:MAX_SOURCES]:
        status = ":large_green_circle: ok"
        if receiver.last_success_at is None and receiver.failing_since is None:
            status = ":white_circle: nothing sent yet"
        if receiver.failing_since:
            status = ":red_circle: failing"
        if receiver.paused_at:
            status = ":double_vertical_bar: paused"
        events = ", ".join(f"`{event}`" for event in receiver.events)
        lines = [f"{status}  *{safe_mrkdwn(receiver.host, 200)}*: {events}; {receiver.queued} event(s) waiting"]
        if receiver.last_success_at:
            lines.append(f"last success {date(receiver.last_success_at)}")
        if receiver.failing_since:
            error = safe_mrkdwn(receiver.last_error or "", 300)
            lines.append(f"failing since {date(receiver.failing_since)}: {error}")
        if receiver.paused_at:
            lines.append(f"paused since {date(receiver.paused_at)}: tried again by itself, nothing is lost")
        if receiver.retry_at:
            lines.append(f"next attempt {date(receiver.retry_at)}")
        blocks.append(context("\n".join(lines)))
    return blocks
