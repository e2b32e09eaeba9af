"""What the SLA says in Slack: reminders, snoozes, expired claims and customers writing again.

Pings name user groups and people from the config (checked to be Slack ids) or from Slack's own
payloads; customer text is escaped like everywhere else.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.act.actions import WAKE
from bot.ground.durations import format_duration
from bot.ground.models import Event, EventKind, Mention, MentionStatus
from bot.ground.text import safe_mrkdwn
from bot.slack.ids import ActionId
from bot.slack.kit import OPTION_TEXT, Block, date, link_with_host, plain, user
from bot.slack.payloads import SnoozeChoice

SNOOZE_CHOICES = (("1 hour", "1h"), ("4 hours", "4h"), ("1 day", "1d"), ("3 days", "3d"))
PICK = "until"
PICK_CHOICE = ("Until a date and time…", PICK)
"""The menu's choice that opens the snooze modal instead of snoozing at once."""
_SAID = 300
_AUTHOR = 200


def _ping(data: dict[str, Any]) -> str:
    if data.get("usergroup"):
        return f"<!subteam^{data['usergroup']}> "
    return f"{user(data['user'])} " if data.get("user") else ""


def _waited(data: dict[str, Any]) -> str:
    """The wait that made the step due, counted as the SLA counts it: business hours only, if so configured."""
    waited = format_duration(timedelta(seconds=float(data.get("after", 0))))
    return f"{waited} of business time" if data.get("business_time") else waited


def _ago(event: Event) -> str:
    """How long before the reminder its timer started, by the clock on the wall, for the notes that say "ago"."""
    since = event.data.get("since")
    if not since:  # recorded before reminders said when their timer started
        return _waited(event.data)
    return format_duration(event.at - datetime.fromisoformat(since))


def nudge_note(mention: Mention, event: Event) -> str:
    """An SLA reminder, in the card's thread (for an escalation, in the team alert's; for a storm, its card's)."""
    data = event.data
    ping, waited, ref = _ping(data), _waited(data), mention.reference
    team = safe_mrkdwn(str(data.get("team", "?")), 100)
    match data.get("step"), data.get("level"):
        case "claim", 1:
            return f":hourglass: Unclaimed for {waited}: who can take it?"
        case "claim", 2:
            return f":hourglass: {ping}{ref} has waited {waited} for an owner: can one of you take it?"
        case "claim", _:
            return f":rotating_light: {ping}{ref} is still unclaimed after {waited}: find it an owner."
        case "reply", _ if data.get("reopened"):
            return f":hourglass: {ping}this was reopened {_ago(event)} ago and the customer has no answer yet."
        case "reply", _:
            return f":hourglass: {ping}you claimed this {_ago(event)} ago and the customer has no answer yet."
        case "resolve", _:
            return f":hourglass: {ping}{ref} has been open for {waited}: can it be resolved?"
        case "escalation", _:
            return (
                f":rotating_light: {ping}{ref} was escalated to *{team}* {_ago(event)} ago "
                "and nobody has acknowledged it yet."
            )
        case "acknowledged", _:
            return f":hourglass: {ping}you acknowledged {ref} {_ago(event)} ago and it is still open."
        case "storm", _:
            topic = safe_mrkdwn(str(data.get("topic", "?")), 100)
            return (
                f":hourglass: {data.get('count', 'Many')} mentions about “{topic}”, none claimed for {waited}: "
                "who can take some?"
            )
    return f":hourglass: {ref}: {safe_mrkdwn(str(data.get('step')), 100)} is overdue."


def _quoted(data: dict[str, Any]) -> str:
    """Who wrote again, and what, linked to the new post."""
    author = safe_mrkdwn(data["author"], _AUTHOR) if data.get("author") else "The customer"
    said = link_with_host(data.get("url"), safe_mrkdwn(data.get("text") or "a new post", _SAID))
    return f"{author} wrote again (M-{data.get('mention_id')}): {said}"


def reminder_note(mention: Mention, event: Event) -> str | None:
    """The thread note for the events this module owns; None for any other."""
    actor = user(event.actor) if event.actor else None
    data = event.data
    match event.kind:
        case EventKind.NUDGED:
            return nudge_note(mention, event)
        case EventKind.SNOOZED:
            until = date(datetime.fromisoformat(data["until"]))
            return f":zzz: {actor or 'Someone'} snoozed this until {until}: its SLA reminders wait until then."
        case EventKind.UNSNOOZED:
            if actor:
                return f":alarm_clock: {actor} woke this up: its SLA timers run again."
            return ":alarm_clock: The snooze is over: its SLA timers run again."
        case EventKind.CLAIM_EXPIRED:
            # The owner's last action, not the claim: they may have replied or snoozed it since.
            quiet = format_duration(event.at - datetime.fromisoformat(data.get("idle_since") or data["claimed_at"]))
            return (
                f":leftwards_arrow_with_hook: Returned to the pool: {user(data.get('owner', 'unknown'))} claimed it, "
                f"but nothing from them for {quiet}. Who can take it?"
            )
        case EventKind.FOLLOWED_UP:
            return f":speech_balloon: {_quoted(data)}"
        case EventKind.REOPENED if actor is None and data.get("mention_id"):
            return f":arrows_counterclockwise: Reopened: {_quoted(data)}"
    return None


def snooze_status(mention: Mention, events: Sequence[Event]) -> list[str]:
    """The card's line for a snoozed mention: until when, and who snoozed it."""
    if mention.status != MentionStatus.OPEN or mention.snoozed_until is None:
        return []
    snoozed = next((e for e in reversed(events) if e.kind == EventKind.SNOOZED), None)
    by = f" by {user(snoozed.actor)}" if snoozed and snoozed.actor else ""
    return [f":zzz: Snoozed until {date(mention.snoozed_until)}{by}: no SLA reminders until then"]


def _choice(mention: Mention, choice: str) -> str:
    assert mention.id is not None, "a menu is drawn for a stored mention"
    return SnoozeChoice(mention=mention.id, choice=choice).value()


def snooze_menu(mention: Mention) -> Block:
    """A menu rather than a button: how long is the person's call, and a snoozed mention can be woken."""
    choices = [*SNOOZE_CHOICES, PICK_CHOICE] + ([("Wake up now", WAKE)] if mention.snoozed_until else [])
    return {
        "type": "static_select",
        "action_id": ActionId.SNOOZE,
        "placeholder": plain("Snooze", limit=150),
        "options": [
            {"text": plain(label, limit=OPTION_TEXT), "value": _choice(mention, choice)} for label, choice in choices
        ],
    }
