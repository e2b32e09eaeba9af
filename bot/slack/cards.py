"""The messages the bot posts about a mention: its card, the notes in its thread, and team alerts."""

from collections.abc import Sequence

from bot.ground.config_types import Sentiment, Urgency
from bot.ground.models import Escalation, Event, EventKind, Mention, MentionStatus, Storm
from bot.ground.text import safe_mrkdwn, truncate
from bot.hear.languages import name_of
from bot.slack.ids import ActionId, BlockId
from bot.slack.kit import (
    FALLBACK_TEXT,
    SECTION_TEXT,
    Block,
    actions,
    button,
    context,
    date,
    link,
    link_with_host,
    overflow,
    section,
    user,
)
from bot.slack.payloads import EscalationRef, MentionRef, MenuChoice
from bot.slack.reminders import reminder_note, snooze_menu, snooze_status
from bot.slack.tracker_messages import issue_status, tracker_note

SENTIMENT_EMOJI = {
    Sentiment.NEGATIVE: ":red_circle:",
    Sentiment.NEUTRAL: ":white_circle:",
    Sentiment.POSITIVE: ":large_green_circle:",
}
_NOTE_TEXT = 2500
_TITLE = 300
_AUTHOR = 200
_INVISIBLE = "_(only invisible characters)_"
"""A text made of nothing but what `safe_mrkdwn` drops; Slack refuses an empty section."""


def _body(mention: Mention, *, limit: int = SECTION_TEXT) -> str:
    """Title (linked to the original, its host beside it) over the text, both escaped, together within `limit`."""
    title = safe_mrkdwn(mention.title, _TITLE) if mention.title else None
    heading = f"{link_with_host(mention.url, title, bold=True)}\n" if title else ""
    if mention.text == mention.title:
        return truncate(heading, limit) or _INVISIBLE
    said = safe_mrkdwn(mention.text, limit - len(heading))
    return heading + said if heading or said else _INVISIBLE


def _about(mention: Mention) -> list[str]:
    sentiment = Sentiment(mention.sentiment)
    urgency = ":rotating_light: *urgent* " if mention.urgency == Urgency.HIGH else ""
    parts = [
        f"*{mention.reference}*" + (f" about *{safe_mrkdwn(mention.product, 100)}*" if mention.product else ""),
        f"{urgency}{SENTIMENT_EMOJI[sentiment]} {sentiment.value} {mention.category}",
        f"from {safe_mrkdwn(mention.source, _AUTHOR)}",
    ]
    if mention.lang:
        parts.append(f"in {safe_mrkdwn(name_of(mention.lang), 40)}")
    if mention.author:
        parts.append(f"by {safe_mrkdwn(mention.author, _AUTHOR)}")
    if mention.rating is not None:
        parts.append(stars(mention.rating))
    if mention.app_version:
        parts.append(f"on version {safe_mrkdwn(mention.app_version, 50)}")
    if mention.forwarded_by:
        parts.append(f"forwarded by {user(mention.forwarded_by)}")
    parts.append(date(mention.published_at or mention.heard_at))
    if mention.url and not mention.title:
        parts.append(link(mention.url, "open the original"))
    if mention.matched:  # why it was shown: the query's words and phrases it contains
        parts.append(f"matched {safe_mrkdwn(mention.matched, 300)}")
    if mention.relevance is not None:
        parts.append(f"relevance {round(100 * mention.relevance)}%")
    return parts


def stars(rating: int) -> str:
    """A review's rating as a store shows it, and in figures for those who skim: "★★☆☆☆ 2/5"."""
    filled = max(0, min(5, rating))
    return "★" * filled + "☆" * (5 - filled) + f" {rating}/5"


def _status(mention: Mention, events: Sequence[Event]) -> list[str]:
    lines = []
    if mention.status == MentionStatus.RESOLVED:
        resolved = next((e for e in reversed(events) if e.kind == EventKind.RESOLVED), None)
        by = f" by {user(resolved.actor)}" if resolved and resolved.actor else ""
        lines.append(f":white_check_mark: Resolved *{mention.outcome}*{by}")
    if mention.owner_id and mention.claimed_at:
        lines.append(f":raised_hand: Claimed by {user(mention.owner_id)} {date(mention.claimed_at)}")
    elif mention.status == MentionStatus.OPEN:
        lines.append(":eyes: Unclaimed: who can take it?")
    also = sorted({e.data.get("source", "?") for e in events if e.kind == EventKind.ALSO_HEARD})
    if also:
        lines.append(":link: Also heard on " + ", ".join(safe_mrkdwn(source, _AUTHOR) for source in also))
    replies = [e for e in events if e.kind == EventKind.REPLIED]
    if replies:
        people = sorted({e.actor for e in replies if e.actor})
        lines.append(
            f":speech_balloon: {len(replies)} repl{'y' if len(replies) == 1 else 'ies'} by "
            + ", ".join(map(user, people))
        )
    acknowledged = {e.data.get("escalation_id"): e for e in events if e.kind == EventKind.ACKNOWLEDGED}
    for event in (e for e in events if e.kind == EventKind.ESCALATED):
        team = safe_mrkdwn(event.data.get("team", "?"), 100)
        line = f":rotating_light: Escalated to *{team}* by {user(event.actor or 'unknown')}"
        ack = acknowledged.get(event.data.get("escalation_id"))
        line += f", acknowledged by {user(ack.actor)}" if ack and ack.actor else ", not yet acknowledged"
        lines.append(line)
    return lines + issue_status(events) + snooze_status(mention, events)


def mention_card(mention: Mention, events: Sequence[Event]) -> list[Block]:
    """The card everyone sees: what the customer said, who owns it, what happened, and the buttons."""
    blocks = [section(_body(mention)), context(*_about(mention))]
    status = _status(mention, events)
    if status:
        blocks.append(context("\n".join(status)))
    blocks.append(card_actions(mention))
    return blocks


def card_actions(mention: Mention, *, block_id: str = BlockId.CARD_ACTIONS) -> Block:
    """The card's buttons; the Home tab shows them under each mention too, each block with its own id."""
    assert mention.id is not None, "a card is drawn for a stored mention"
    value = MentionRef(mention=mention.id).value()
    if mention.status == MentionStatus.RESOLVED:
        buttons = [button("Reopen", ActionId.REOPEN, value)]
    else:
        own = (
            button("Unclaim", ActionId.UNCLAIM, value)
            if mention.owner_id
            else button("Claim", ActionId.CLAIM, value, style="primary")
        )
        buttons = [
            own,
            button("Reply", ActionId.REPLY, value),
            button("Escalate", ActionId.ESCALATE, value, style="danger"),
            button("Resolve", ActionId.RESOLVE, value),
            snooze_menu(mention),
            overflow(
                ActionId.MORE,
                [
                    ("Not relevant", MenuChoice(mention=mention.id, do="not-relevant").value()),
                    ("Create issue", MenuChoice(mention=mention.id, do="create-issue").value()),
                    ("Link to issue", MenuChoice(mention=mention.id, do="link-issue").value()),
                ],
            ),
        ]
    return actions(block_id, *buttons)


def card_fallback(mention: Mention) -> str:
    """The notification text; customer text in it is escaped like everywhere else."""
    return truncate(
        f"{mention.reference} ({mention.sentiment}, {safe_mrkdwn(mention.source, _AUTHOR)}): "
        + safe_mrkdwn(mention.title or mention.text, 300),
        FALLBACK_TEXT,
    )


def thread_note(mention: Mention, event: Event) -> str:
    """What a colleague did, told in the card's thread."""
    actor = user(event.actor) if event.actor else "Someone"
    data = event.data
    if (reminder := reminder_note(mention, event)) is not None:
        return reminder
    if (about_issue := tracker_note(mention, event)) is not None:
        return about_issue
    match event.kind:
        case EventKind.REPLIED:
            text = f":speech_balloon: {actor} replied:\n{safe_mrkdwn(data.get('text', ''), _NOTE_TEXT)}"
            if mention.url:
                text += f"\n{link(mention.url, 'Answer the customer on the source')}"
            return text
        case EventKind.ESCALATED:
            reason = f": {safe_mrkdwn(data['reason'], _NOTE_TEXT)}" if data.get("reason") else ""
            return f":rotating_light: {actor} escalated this to *{safe_mrkdwn(data.get('team', '?'), 100)}*{reason}"
        case EventKind.ACKNOWLEDGED:
            return f":ok_hand: {actor} acknowledged the escalation for *{safe_mrkdwn(data.get('team', '?'), 100)}*."
        case EventKind.RESOLVED:
            note = f": {safe_mrkdwn(data['note'], _NOTE_TEXT)}" if data.get("note") else ""
            return f":white_check_mark: {actor} resolved this as *{data.get('outcome')}*{note}"
        case EventKind.REOPENED:
            return f":arrows_counterclockwise: {actor} reopened this."
        case EventKind.SENT_TO_SOURCE:
            source = safe_mrkdwn(mention.source, _AUTHOR)
            if data.get("error"):
                where = f" {link(mention.url, 'Answer there yourself')}." if mention.url else ""
                error = safe_mrkdwn(data["error"], 500)
                return f":warning: {actor}'s reply could not be posted on *{source}*: {error}.{where}"
            return f":outbox_tray: {actor}'s reply is posted on *{source}*: {link(data.get('url'), 'see it there')}"
        case EventKind.ALSO_HEARD:
            by = f" by {safe_mrkdwn(data['author'], _AUTHOR)}" if data.get("author") else ""
            said = link_with_host(data.get("url"), safe_mrkdwn(data.get("text") or "the same post", 300))
            source = safe_mrkdwn(data.get("source", "?"), _AUTHOR)
            return f":link: Also heard on *{source}*{by} (M-{data.get('mention_id')}): {said}"
    return f"{actor}: {event.kind}"


def team_alert(mention: Mention, escalation: Escalation) -> list[Block]:
    """The message in the team's channel; the user group ping is the bot's own text, not the customer's."""
    ping = f"<!subteam^{escalation.usergroup}> " if escalation.usergroup else ""
    team = safe_mrkdwn(escalation.team, 100)
    headline = f"{ping}:rotating_light: {user(escalation.escalated_by)} escalated *{mention.reference}* to *{team}*"
    if escalation.reason:
        headline += f"\n*Why:* {safe_mrkdwn(escalation.reason, 1500)}"
    blocks = [section(headline), section(_body(mention)), context(*_about(mention))]
    if escalation.acknowledged_by and escalation.acknowledged_at:
        blocks.append(
            context(f":ok_hand: Acknowledged by {user(escalation.acknowledged_by)} {date(escalation.acknowledged_at)}")
        )
    else:
        blocks.append(
            actions(
                BlockId.ALERT_ACTIONS,
                button("Acknowledge", ActionId.ACKNOWLEDGE, _escalation_value(escalation), style="primary"),
                _create_issue(mention),
            )
        )
        return blocks
    blocks.append(actions(BlockId.ALERT_ACTIONS, _create_issue(mention)))
    return blocks


def _create_issue(mention: Mention) -> Block:
    assert mention.id is not None
    return button("Create issue", ActionId.CREATE_ISSUE, MentionRef(mention=mention.id).value())


def _escalation_value(escalation: Escalation) -> str:
    assert escalation.id is not None, "an alert is drawn for a stored escalation"
    return EscalationRef(escalation=escalation.id).value()


def team_alert_fallback(mention: Mention, escalation: Escalation) -> str:
    return f"{mention.reference} was escalated to {safe_mrkdwn(escalation.team, 100)}"


def feedback_message(mention: Mention, event: Event) -> list[Block]:
    """A mention resolved as feedback, passed to the product channel with who sent it and why."""
    note = f"\n{safe_mrkdwn(event.data['note'], _NOTE_TEXT)}" if event.data.get("note") else ""
    headline = f":bulb: Customer feedback from {user(event.actor or 'unknown')} about *{mention.reference}*{note}"
    return [section(headline), section(_body(mention)), context(*_about(mention))]


def feedback_fallback(mention: Mention) -> str:
    return f"Customer feedback: {mention.reference}"


def storm_card(storm: Storm, counts: dict[str, int]) -> list[Block]:
    """One message standing for a burst: how many, about what, from where; the mentions are in its thread."""
    total = sum(counts.values())
    minutes = max(1, round((storm.last_at - storm.counted_from).total_seconds() / 60))
    sources = ", ".join(f"{safe_mrkdwn(source, _AUTHOR)} {count}" for source, count in list(counts.items())[:8])
    headline = (
        f":cloud_with_lightning: *{total} mentions about “{safe_mrkdwn(storm.topic, 100)}” in {minutes} min*"
        f" — {sources}"
    )
    return [
        section(headline),
        context(
            f"Storm since {date(storm.started_at)}, latest {date(storm.last_at)}. "
            "New mentions about it arrive in this thread, each with its own buttons."
        ),
    ]


def storm_fallback(storm: Storm, counts: dict[str, int]) -> str:
    return f"{sum(counts.values())} mentions about {safe_mrkdwn(storm.topic, 100)}"
