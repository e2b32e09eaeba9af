"""The App Home tab: this week's numbers, the viewer's open mentions and the unclaimed ones of their channels,
each with the card's buttons."""

from datetime import datetime, timedelta

from bot.config import Sla
from bot.configtypes import Sentiment, Urgency
from bot.metrics import WeeklyFigures
from bot.models import Mention
from bot.queues import Queues
from bot.slack.cards import SENTIMENT_EMOJI, card_actions
from bot.slack.ids import BlockId
from bot.slack.kit import Block, context, date, link, section
from bot.summary import format_duration
from bot.text import safe_mrkdwn

ROWS = 20
"""Mentions shown in each list. Two blocks each: both lists with their titles and the numbers stay
within the 100 blocks Slack allows in a view."""
_SNIPPET = 280
_NAME = 100
_DIVIDER: Block = {"type": "divider"}


def home_view(*, queues: Queues, figures: WeeklyFigures, sla: Sla, now: datetime, channels_known: bool = True) -> Block:
    """The whole tab; `channels_known=False` when Slack would not say which channels the viewer is in."""
    blocks = [_figures(figures), _DIVIDER]
    blocks += _listing(
        ":raised_hand: *Yours, open*",
        queues.mine,
        queues.mine_total,
        "Nothing: you own no open mention. Claim one below.",
        sla=sla,
        now=now,
    )
    blocks.append(_DIVIDER)
    if channels_known:
        blocks += _listing(
            ":eyes: *Unclaimed in your channels*",
            queues.unclaimed,
            queues.unclaimed_total,
            "Nothing waits: every open mention in your channels has an owner.",
            sla=sla,
            now=now,
        )
    else:
        blocks.append(
            section(
                ":eyes: *Unclaimed*\nI could not tell which channels you are in, so I show none. "
                "The app needs the `channels:read` and `groups:read` scopes; `/allears queue` lists them meanwhile."
            )
        )
    blocks.append(
        context(
            f"Updated {date(now)}. Times left count every hour, business hours or not. "
            "`/allears help` lists the commands."
        )
    )
    return {"type": "home", "blocks": blocks}


def _figures(figures: WeeklyFigures) -> Block:
    numbers = (
        f"Heard *{figures.heard}*",
        f"claimed *{figures.claimed}*",
        f"median time to claim *{format_duration(figures.to_claim.median)}*",
        f"open backlog *{figures.open_backlog}*",
    )
    return section(f"*This week so far* ({figures.week.label})\n" + " · ".join(numbers))


def _listing(title: str, mentions: list[Mention], total: int, empty: str, *, sla: Sla, now: datetime) -> list[Block]:
    shown = mentions[:ROWS]
    blocks = [section(f"{title} ({total})")]
    for mention in shown:
        blocks += [
            section(_row_text(mention, sla=sla, now=now)),
            card_actions(mention, block_id=f"{BlockId.CARD_ACTIONS}:{mention.id}"),
        ]
    if not shown:
        blocks.append(context(empty))
    elif total > len(shown):
        blocks.append(context(f"…and {total - len(shown)} more"))
    return blocks


def _row_text(mention: Mention, *, sla: Sla, now: datetime) -> str:
    urgent = " :rotating_light: urgent" if mention.urgency == Urgency.HIGH else ""
    facts = [
        f"{SENTIMENT_EMOJI[Sentiment(mention.sentiment)]} *{mention.reference}*{urgent}",
        f"<#{mention.card_channel or mention.channel}>",
        f"heard {span(now - mention.heard_at)} ago",
    ]
    if mention.owner_id and mention.claimed_at:
        facts.append(f"claimed {span(now - mention.claimed_at)} ago")
    state = sla_state(mention, sla, now)
    if state:
        facts.append(state)
    said = safe_mrkdwn(" ".join((mention.title or mention.text).split()), _SNIPPET)
    origin = f"from {safe_mrkdwn(mention.source, _NAME)}"
    if mention.author:
        origin += f" by {safe_mrkdwn(mention.author, _NAME)}"
    return f"{' · '.join(facts)}\n{link(mention.url, said)}\n{origin}"


def sla_state(mention: Mention, sla: Sla, now: datetime) -> str:
    """How the mention stands against its next target, in plain elapsed time: since it was heard, or
    since it was claimed for the reply. (The reminders count business hours; a glance need not.)"""
    if mention.snoozed_until and mention.snoozed_until > now:
        return f":zzz: snoozed until {date(mention.snoozed_until)}"
    if not sla.enabled:
        return ""
    targets = sla.targets(mention.urgency)
    if mention.owner_id is None:
        step, within = "claim", targets.claim_within
    elif mention.first_reply_at is None and targets.reply_within:
        step, within = "reply", targets.reply_within
    else:
        step, within = "resolve", targets.resolve_within
    if within is None:
        return ""
    start = mention.claimed_at if step == "reply" and mention.claimed_at else mention.heard_at
    left = start + within - now
    if left > timedelta(0):
        return f":hourglass: {span(left)} left to {step}"
    return f":red_circle: {span(-left)} over the time to {step}"


def span(duration: timedelta) -> str:
    """A wait as a glance needs it (12 min, 3 h, 2 d), rounded down."""
    minutes = int(duration.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"
