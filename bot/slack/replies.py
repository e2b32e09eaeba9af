"""What the bot answers people directly: help, their queue, this week's numbers, the weekly summary."""

from collections.abc import Sequence

from bot.config import Sentiment
from bot.metrics import WeeklyFigures
from bot.models import Mention
from bot.slack.cards import SENTIMENT_EMOJI
from bot.slack.kit import MAX_MESSAGE_BLOCKS, Block, context, date, link, section
from bot.summary import summary_lines, summary_title
from bot.text import safe_mrkdwn

HELP = """*All Ears* brings what customers say in public into Slack, so anyone can answer.
Every mention gets a card with a reference like `M-7` and buttons; these commands do the same from anywhere:
• `/claim M-7`: take it; nobody else can while it is yours
• `/unclaim M-7`: give it back (only its owner can)
• `/reply M-7 <what you answered>`: record your answer; it is posted in the card's thread
• `/escalate M-7 <team> [reason]`: hand it to a team ({teams}); their channel is pinged
• `/resolve M-7 <outcome> [note]`: close it as one of {outcomes}
• `/reopen M-7`: open a resolved mention again
• `/allears queue`: your open mentions and the unclaimed ones
• `/allears stats`: this week's numbers so far
• `/allears help`: this message"""

_QUEUE_SNIPPET = 120
# Each of the two lists takes a title, its lines and a "more" note: 2 × (1 + 23 + 1) = MAX_MESSAGE_BLOCKS.
_QUEUE_LINES = MAX_MESSAGE_BLOCKS // 2 - 2


def help_text(*, teams: Sequence[str], outcomes: Sequence[str]) -> str:
    return HELP.format(
        teams=", ".join(f"`{team}`" for team in teams) or "none configured yet",
        outcomes=", ".join(f"`{outcome}`" for outcome in outcomes),
    )


def _queue_line(mention: Mention) -> str:
    emoji = SENTIMENT_EMOJI[Sentiment(mention.sentiment)]
    snippet = safe_mrkdwn(mention.title or mention.text, _QUEUE_SNIPPET)
    where = f" in <#{mention.card_channel}>" if mention.card_channel else ""
    heard = date(mention.heard_at, style="{date_short_pretty}")
    return f"{emoji} *{mention.reference}* {link(mention.url, snippet)}{where}, heard {heard}"


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
        blocks += [section(_queue_line(mention)) for mention in shown] or [section(empty)]
        if total > len(shown):
            blocks.append(context(f"…and {total - len(shown)} more"))
    return blocks


def figures_blocks(figures: WeeklyFigures) -> list[Block]:
    lines = "\n".join(f"*{label}:* {safe_mrkdwn(value, 500)}" for label, value in summary_lines(figures))
    return [
        section(f"*{safe_mrkdwn(summary_title(figures), 300)}*"),
        section(lines),
        context("Figures are computed from every recorded action; times are UTC."),
    ]
