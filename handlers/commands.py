"""Slash commands: each acks at once, then acts and answers privately."""

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from slack_bolt import App
from slack_sdk import WebClient

from bot.act import actions
from bot.act.labels import label_counts
from bot.ground.clock import utcnow
from bot.ground.config import Config, Team, by_name
from bot.ground.db import read_scope, session_scope
from bot.ground.errors import UserError
from bot.ground.mentions import count_open, open_mentions, parse_reference
from bot.ground.models import Escalation, Mention, Outcome
from bot.ground.text import safe_mrkdwn
from bot.hear.digests import count_muted, latest_muted
from bot.hear.health import source_health
from bot.hear.intake import Logged, log_forwarded
from bot.hear.safe_fetch import fetch_page
from bot.remember.summary_due import summarize
from bot.remember.webhooks import webhook_health
from bot.remember.weeks import Week
from bot.slack.answers import figures_blocks, help_text, queue_blocks, sources_blocks, webhooks_blocks
from bot.slack.digest_messages import MUTED_LINES, muted_blocks
from bot.slack.escapes import typed_text
from bot.slack.kit import date, link
from bot.slack.payloads import CommandPayload
from bot.slack.people import TeamDirectory
from handlers import Deps
from handlers.admin import ADMIN_COMMANDS, handle_admin_command
from handlers.answering import confirm, tell
from handlers.errors import Body, after_ack
from handlers.trackers import issue_command, link_command

USAGE = {
    "/claim": "`/claim M-7`",
    "/unclaim": "`/unclaim M-7`",
    "/reply": "`/reply M-7 <what you answered>`",
    "/escalate": "`/escalate M-7 <team> [reason]`",
    "/resolve": "`/resolve M-7 <outcome> [note]`",
    "/reopen": "`/reopen M-7`",
    "/snooze": "`/snooze M-7 2h` (or `/snooze M-7 off` to wake it)",
}
QUEUE_LIMIT = 15

Act = Callable[[CommandPayload, list[str], str], str]
"""A command's action: (command, its words, who) → the private confirmation."""


def _words(command: CommandPayload, parts: int) -> list[str]:
    """The first `parts - 1` words of the command's text as the person typed it, then the rest of it as one."""
    return typed_text(command.text).strip().split(None, parts - 1)


def _reference(command: CommandPayload, words: list[str]) -> int:
    if not words:
        raise UserError(f"Which mention? Usage: {USAGE[command.command]}")
    return parse_reference(words[0])


def _rest(command: CommandPayload, words: list[str], index: int, question: str) -> str:
    if len(words) <= index:
        raise UserError(f"{question} Usage: {USAGE[command.command]}")
    return words[index]


def find_team(config: Config, name: str) -> tuple[str, Team]:
    """The team's configured name and settings; names match case-insensitively."""
    return by_name(config.teams, name, what="team", add="[teams.<name>]")


def parse_outcome(text: str) -> Outcome:
    try:
        return Outcome(text.strip().lower())
    except ValueError:
        choices = ", ".join(f"`{outcome.value}`" for outcome in Outcome)
        raise UserError(f"`{text}` is not an outcome. Choose one of {choices}.") from None


def reply_confirmation(recorded: actions.ReplyRecorded) -> str:
    mention = recorded.mention
    parts = [f"Recorded your reply to {mention.reference} in its thread."]
    if recorded.claimed:
        parts.append("It was unclaimed, so it is yours now.")
    if mention.url:
        parts.append(link(mention.url, "Answer the customer on the source") + ".")
    return " ".join(parts)


def escalation_confirmation(escalation: Escalation) -> str:
    return f"Escalated M-{escalation.mention_id} to *{escalation.team}* (<#{escalation.channel}>)."


def snooze_confirmation(snoozed: actions.Snoozed) -> str:
    mention = snoozed.mention
    if mention.snoozed_until is None:
        return f"{mention.reference} is awake: its SLA timers run again."
    was = f" (it was snoozed until {date(snoozed.replaced)})" if snoozed.replaced else ""
    return f"Snoozed {mention.reference} until {date(mention.snoozed_until)}{was}: no SLA reminders until then."


def resolve_confirmation(mention: Mention) -> str:
    return f"Resolved {mention.reference} as *{mention.outcome}*."


def register(app: App, deps: Deps) -> None:
    acknowledged = after_ack(deps.work, afterwards=deps.homes.after_action)

    def action_command(name: str, parts: int) -> Callable[[Act], Act]:
        """Register a command that changes a mention: act, wake the outbox, confirm privately."""

        def register_action(act: Act) -> Act:
            def handle(body: Body, client: WebClient) -> None:
                command = CommandPayload.of(body)
                answer = act(command, _words(command, parts), command.user_id)
                deps.notify()
                confirm(command, client, answer)

            handle.__name__ = f"handle_{act.__name__}_command"
            app.command(name)(acknowledged(handle))
            return act

        return register_action

    @action_command("/claim", 2)
    def claim(command: CommandPayload, words: list[str], user_id: str) -> str:
        with session_scope(deps.engine) as session:
            mention = actions.claim(session, mention_id=_reference(command, words), user_id=user_id)
        return f"You claimed {mention.reference}. It is yours until you resolve or `/unclaim` it."

    @action_command("/unclaim", 2)
    def unclaim(command: CommandPayload, words: list[str], user_id: str) -> str:
        with session_scope(deps.engine) as session:
            mention = actions.unclaim(session, mention_id=_reference(command, words), user_id=user_id)
        return f"You gave {mention.reference} back; it is unclaimed now."

    @action_command("/reply", 2)
    def reply(command: CommandPayload, words: list[str], user_id: str) -> str:
        mention_id = _reference(command, words)
        text = _rest(command, words, 1, "What did you answer?")
        with session_scope(deps.engine) as session:
            recorded = actions.reply(session, mention_id=mention_id, user_id=user_id, text=text)
        return reply_confirmation(recorded)

    @action_command("/escalate", 3)
    def escalate(command: CommandPayload, words: list[str], user_id: str) -> str:
        mention_id = _reference(command, words)
        team_name, team = find_team(deps.config, _rest(command, words, 1, "To which team?"))
        reason = words[2] if len(words) > 2 else None
        with session_scope(deps.engine) as session:
            escalation = actions.escalate(
                session, mention_id=mention_id, user_id=user_id, team_name=team_name, team=team, reason=reason
            )
        return escalation_confirmation(escalation)

    @action_command("/resolve", 3)
    def resolve(command: CommandPayload, words: list[str], user_id: str) -> str:
        mention_id = _reference(command, words)
        outcome = parse_outcome(_rest(command, words, 1, "With which outcome?"))
        note = words[2] if len(words) > 2 else None
        with session_scope(deps.engine) as session:
            mention = actions.resolve(
                session,
                mention_id=mention_id,
                user_id=user_id,
                outcome=outcome,
                note=note,
                feedback_channel=deps.config.feedback_channel,
            )
        return resolve_confirmation(mention)

    @action_command("/reopen", 2)
    def reopen(command: CommandPayload, words: list[str], user_id: str) -> str:
        with session_scope(deps.engine) as session:
            mention = actions.reopen(session, mention_id=_reference(command, words), user_id=user_id)
        return f"Reopened {mention.reference}."

    @action_command("/snooze", 2)
    def snooze(command: CommandPayload, words: list[str], user_id: str) -> str:
        mention_id = _reference(command, words)
        duration = actions.parse_snooze(_rest(command, words, 1, "For how long?"))
        with session_scope(deps.engine) as session:
            snoozed = actions.snooze(session, mention_id=mention_id, user_id=user_id, duration=duration)
        return snooze_confirmation(snoozed)

    @app.command("/allears")
    @acknowledged
    def handle_allears_command(body: Body, client: WebClient) -> None:
        command = CommandPayload.of(body)
        words = _words(command, 2)
        what = words[0].lower() if words else "help"
        if what == "queue":
            user_id = command.user_id
            with read_scope(deps.engine) as session:
                blocks = queue_blocks(
                    mine=open_mentions(session, owner_id=user_id, limit=QUEUE_LIMIT),
                    unclaimed=open_mentions(session, owner_id=None, limit=QUEUE_LIMIT),
                    mine_total=count_open(session, owner_id=user_id),
                    unclaimed_total=count_open(session, owner_id=None),
                )
            tell(command, client, "Your queue", blocks)
        elif what == "stats":
            week = Week.containing(utcnow(), deps.config.summary.timezone)
            figures = summarize(deps.engine, deps.config, week, team_of=TeamDirectory(deps.config.people, client))
            with read_scope(deps.engine) as session:
                labels = label_counts(session)
            tell(command, client, "This week so far", figures_blocks(figures, labels=labels))
        elif what == "muted":
            since = utcnow() - MUTED_DAYS
            with read_scope(deps.engine) as session:
                muted, total = latest_muted(session, since=since, limit=MUTED_LINES), count_muted(session, since=since)
            tell(command, client, f"Muted: {total}", muted_blocks(muted, total=total, days=MUTED_DAYS.days))
        elif what == "sources":
            with read_scope(deps.engine) as session:
                health = source_health(session, deps.config.sources)
            tell(command, client, "Sources", sources_blocks(health))
        elif what == "webhooks":
            with read_scope(deps.engine) as session:
                receivers = webhook_health(session, deps.config.webhooks)
            tell(command, client, "Webhooks", webhooks_blocks(receivers))
        elif what == "issue":
            issue_command(deps, command, client, words[1] if len(words) > 1 else "")
        elif what == "link":
            link_command(deps, command, client, words[1] if len(words) > 1 else "")
        elif what in ADMIN_COMMANDS:
            handle_admin_command(deps, command, client, what, words[1] if len(words) > 1 else "")
        elif what == "log":
            url, text = split_link(words[1] if len(words) > 1 else "")
            logged = log_forwarded(
                deps.engine,
                deps.listener,
                text=text,
                url=url,
                forwarded_by=command.user_id,
                external_id=f"log:{command.user_id}:{hashlib.sha256(f'{url} {text}'.encode()).hexdigest()}",
                read_page=partial(fetch_page, allowed_hosts=deps.config.admins.fetch_hosts),
            )
            if logged.new:
                deps.notify()
            confirm(command, client, logged_confirmation(logged))
        else:
            intro = "" if what == "help" else f"I don't know `/allears {words[0]}`.\n\n"
            tell(command, client, intro + help_text(teams=list(deps.config.teams), outcomes=[o.value for o in Outcome]))


_LEADING_LINK = re.compile(r"^<?(https?://[^\s|>]+)(?:\|[^>]*)?>?\s*(.*)$", re.DOTALL)


MUTED_DAYS = timedelta(days=7)


def split_link(text: str) -> tuple[str | None, str]:
    """A leading link (as typed, or as Slack wraps it: `<https://…|label>`) and the words after it."""
    match = _LEADING_LINK.match(text.strip())
    return (match.group(1), match.group(2).strip()) if match else (None, text.strip())


def logged_confirmation(logged: Logged) -> str:
    if logged.joined_to:
        said = f"Logged as M-{logged.mention_id}: it is the post M-{logged.joined_to} is about, noted in its thread."
    elif logged.new:
        said = f"Logged as M-{logged.mention_id}; its card is on its way to the listening channel."
    else:
        return f"That was already logged as M-{logged.mention_id}."
    if logged.page_title:
        said += f" Its text is from the page “{safe_mrkdwn(logged.page_title, 300)}”."
    if logged.not_fetched:
        said += f" Its page was not read: {safe_mrkdwn(logged.not_fetched, 500)}. The mention keeps the link."
    return said
