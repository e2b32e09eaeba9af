"""The calls that deliver an escalation to its team: the alert in the team's channel, its refresh once
acknowledged, and the notes (re-pings) in its thread."""

from sqlmodel import Session, col, select

from bot.ground.models import Escalation, Mention, Outbox, OutboxKind
from bot.slack.calls import NO_UNFURL, Abandon, Call, event_of
from bot.slack.cards import team_alert, team_alert_fallback, thread_note
from bot.slack.kit import section


def team_alert_call(session: Session, row: Outbox, mention: Mention) -> Call | None:
    """The call for a `TEAM_ALERT`, `TEAM_ALERT_NOTE` or `TEAM_ALERT_REFRESH` row; None if already sent."""
    match row.kind:
        case OutboxKind.TEAM_ALERT:
            escalation = escalation_of(session, row)
            if escalation.alert_ts:
                return None
            return Call(
                "chat.postMessage",
                {
                    "channel": escalation.channel,
                    "text": team_alert_fallback(mention, escalation),
                    "blocks": team_alert(mention, escalation),
                }
                | NO_UNFURL,
            )
        case OutboxKind.TEAM_ALERT_NOTE:
            event = event_of(session, row)
            escalation_id = event.data.get("escalation_id")
            noted = session.get(Escalation, escalation_id) if escalation_id else None
            if noted is None or not noted.alert_ts:
                raise Abandon("the team alert was never posted")
            note = thread_note(mention, event)
            return Call(
                "chat.postMessage",
                {
                    "channel": noted.alert_channel,
                    "thread_ts": noted.alert_ts,
                    "text": note,
                    "blocks": [section(note)],
                }
                | NO_UNFURL,
            )
        case OutboxKind.TEAM_ALERT_REFRESH:
            escalation = escalation_of(session, row)
            if not escalation.alert_ts:
                raise Abandon("the team alert was never posted")
            return Call(
                "chat.update",
                {
                    "channel": escalation.alert_channel,
                    "ts": escalation.alert_ts,
                    "text": team_alert_fallback(mention, escalation),
                    "blocks": team_alert(mention, escalation),
                },
            )
    raise Abandon(f"{row.kind} is not a team alert")


def escalation_of(session: Session, row: Outbox) -> Escalation:
    """The escalation a `TEAM_ALERT` or `TEAM_ALERT_REFRESH` row was queued for (by its escalating event)."""
    escalation = session.exec(select(Escalation).where(col(Escalation.event_id) == row.event_id)).first()
    if escalation is None:
        raise Abandon(f"no escalation for event {row.event_id}")
    return escalation
