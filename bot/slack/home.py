"""The App Home tab: this week's numbers, the viewer's open mentions and the unclaimed ones of their channels,
each with the card's buttons."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.act.queues import Queues
from bot.act.sla.timers import standing
from bot.ground.config import Sla
from bot.ground.config_types import Sentiment, Urgency
from bot.ground.durations import format_duration
from bot.ground.models import Event, Mention
from bot.ground.text import safe_mrkdwn
from bot.remember.figures import WeekNumbers
from bot.slack.cards import SENTIMENT_EMOJI, card_actions
from bot.slack.ids import BlockId
from bot.slack.kit import Block, context, date, link_with_host, section

ROWS = 20
"""Mentions shown in each list. Two blocks each: both lists with their titles and the numbers stay
within the 100 blocks Slack allows in a view."""
_SNIPPET = 280
_NAME = 100
_DIVIDER: Block = {"type": "divider"}


def home_view(*, queues: Queues, figures: WeekNumbers, sla: Sla, now: datetime, channels_known: bool = True) -> Block:
    """The whole tab; `channels_known=False` when Slack would not say which channels the viewer is in."""
    blocks = [_figures(figures), _DIVIDER]
    blocks += _listing(
        ":raised_hand: *Yours, open*",
        queues.mine,
        queues.mine_total,
        "Nothing: you own no open mention. Claim one below.",
        events=queues.events,
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
            events=queues.events,
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
    blocks.append(context(f"Updated {date(now)}. `/allears help` lists the commands."))
    return {"type": "home", "blocks": blocks}


def _figures(figures: WeekNumbers) -> Block:
    numbers = (
        f"Heard *{figures.heard}*",
        f"claimed *{figures.claimed}*",
        f"median time to claim *{format_duration(figures.median_to_claim)}*",
        f"open backlog *{figures.open_backlog}*",
    )
    return section(f"*This week so far* ({figures.week.label})\n" + " · ".join(numbers))


def _listing(
    title: str,
    mentions: list[Mention],
    total: int,
    empty: str,
    *,
    events: dict[int, list[Event]],
    sla: Sla,
    now: datetime,
) -> list[Block]:
    shown = mentions[:ROWS]
    blocks = [section(f"{title} ({total})")]
    for mention in shown:
        assert mention.id is not None
        blocks += [
            section(_row_text(mention, events.get(mention.id, []), sla=sla, now=now)),
            card_actions(mention, block_id=f"{BlockId.CARD_ACTIONS}:{mention.id}"),
        ]
    if not shown:
        blocks.append(context(empty))
    elif total > len(shown):
        blocks.append(context(f"…and {total - len(shown)} more"))
    return blocks


def _row_text(mention: Mention, events: Sequence[Event], *, sla: Sla, now: datetime) -> str:
    urgent = " :rotating_light: urgent" if mention.urgency == Urgency.HIGH else ""
    facts = [
        f"{SENTIMENT_EMOJI[Sentiment(mention.sentiment)]} *{mention.reference}*{urgent}",
        f"<#{mention.card_channel or mention.channel}>",
        f"heard {format_duration(now - mention.heard_at)} ago",
    ]
    if mention.owner_id and mention.claimed_at:
        facts.append(f"claimed {format_duration(now - mention.claimed_at)} ago")
    state = sla_state(mention, events, sla, now)
    if state:
        facts.append(state)
    said = safe_mrkdwn(" ".join((mention.title or mention.text).split()), _SNIPPET)
    origin = f"from {safe_mrkdwn(mention.source, _NAME)}"
    if mention.author:
        origin += f" by {safe_mrkdwn(mention.author, _NAME)}"
    return f"{' · '.join(facts)}\n{link_with_host(mention.url, said)}\n{origin}"


def sla_state(mention: Mention, events: Sequence[Event], sla: Sla, now: datetime) -> str:
    """The mention's next SLA target as the reminders count it: snoozes left out, business hours only if set."""
    where = standing(mention, events, sla, now)
    if where is None:
        return ""
    if where.target is None:
        assert where.snoozed_until is not None
        return f":zzz: snoozed until {date(where.snoozed_until)}"
    counted = " of business time" if where.business_time else ""
    if where.left > timedelta(0):
        return f":hourglass: {format_duration(where.left)}{counted} left to {where.target}"
    return f":red_circle: {format_duration(-where.left)}{counted} over the time to {where.target}"
