"""What the bot says about tracker issues: thread notes, the card's line, the message to people who handled a
mention whose issue shipped, and the Tell the customer button."""

from collections.abc import Sequence

from bot.ground.models import Event, EventKind, Mention
from bot.ground.text import safe_mrkdwn
from bot.slack.ids import ActionId, BlockId
from bot.slack.kit import Block, actions, button, link, user
from bot.slack.payloads import MentionRef

_TITLE = 200


def issue_link(data: dict[str, object]) -> str:
    """`GH-12 “title”`, linked to the issue; the title is the tracker's, written by anyone, so escaped."""
    title = safe_mrkdwn(str(data.get("title") or ""), _TITLE)
    key = safe_mrkdwn(str(data.get("key") or "?"), 100)
    return link(str(data.get("url") or ""), f"*{key}*") + (f" “{title}”" if title else "")


def tracker_note(mention: Mention, event: Event) -> str | None:
    """The thread note of a tracker event, or None for any other event."""
    actor = user(event.actor) if event.actor else "Someone"
    data = event.data
    match event.kind:
        case EventKind.ISSUE_CREATED:
            return f":ticket: {actor} opened {issue_link(data)} from this mention."
        case EventKind.ISSUE_LINKED:
            return f":ticket: {actor} linked this mention to {issue_link(data)}: it is evidence there now."
        case EventKind.ISSUE_SHIPPED:
            return f":rocket: {issue_link(data)} shipped. Tell the customer it is done?"
        case EventKind.ISSUE_REOPENED:
            after_all = "; it has not shipped after all" if data.get("was") == "done" else ""
            return f":arrows_counterclockwise: {issue_link(data)} was reopened{after_all}."
        case EventKind.ISSUE_CLOSED:
            why = f" ({safe_mrkdwn(str(data['why']), 100)})" if data.get("why") else ""
            return f":no_entry_sign: {issue_link(data)} was closed without shipping{why}; nobody is told it shipped."
        case EventKind.ISSUE_TROUBLE:
            problem = safe_mrkdwn(str(data.get("problem") or "?"), 800)
            if data.get("key") is None:
                return f":warning: The issue {actor} asked for could not be created: {problem}"
            if data.get("gone"):
                return f":warning: {issue_link(data)} is gone from the tracker: {problem}. This mention keeps the link."
            return f":warning: {issue_link(data)} cannot be read: {problem}. It is read again at the next check."
    return None


def note_actions(mention: Mention, event: Event) -> list[Block]:
    """Under a shipped note: Tell the customer, for this mention."""
    if event.kind != EventKind.ISSUE_SHIPPED or mention.id is None:
        return []
    value = MentionRef(mention=mention.id).value()
    return [
        actions(BlockId.SHIPPED_ACTIONS, button("Tell the customer", ActionId.TELL_CUSTOMER, value, style="primary"))
    ]


def issue_status(events: Sequence[Event]) -> list[str]:
    """The card's line about its tracker issue: which, and whether it shipped and the customer was told."""
    about = [e for e in events if e.kind in (EventKind.ISSUE_CREATED, EventKind.ISSUE_LINKED)]
    if not about:
        return []
    line = f":ticket: {issue_link(about[-1].data)}"
    later = [e for e in events if e.kind in (EventKind.ISSUE_SHIPPED, EventKind.ISSUE_REOPENED, EventKind.ISSUE_CLOSED)]
    if later and later[-1].kind == EventKind.ISSUE_SHIPPED:
        line += ", shipped"
    elif later and later[-1].kind == EventKind.ISSUE_CLOSED:
        line += ", closed without shipping"
    told = [e for e in events if e.kind == EventKind.CUSTOMER_TOLD]
    if told:
        line += f"; {user(told[-1].actor or 'unknown')} told the customer"
    return [line]


def shipped_message(mention: Mention, event: Event) -> str:
    """To someone who claimed, replied to or escalated a mention whose tracker issue shipped."""
    return (
        f":rocket: {issue_link(event.data)} shipped. You handled *{mention.reference}*: "
        "its thread has a *Tell the customer* button."
    )
