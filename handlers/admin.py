"""The admin-only `/allears` sub-commands: pause and resume a source, and export the mentions to a DM."""

import io

from slack_sdk import WebClient

from bot.act import admins
from bot.ground.clock import utcnow
from bot.ground.errors import UserError
from bot.ground.text import safe_mrkdwn
from bot.remember.export import ExportFormat, export, parse_moment
from bot.slack.kit import date
from bot.slack.payloads import CommandPayload
from handlers import Deps
from handlers.answering import confirm

ADMIN_COMMANDS = {
    "pause": "pause a source",
    "resume": "resume a source",
    "export": "export mentions",
}
"""Each admin sub-command, and what a refusal says only admins can do."""
EXPORT_USAGE = "`/allears export [since] [until]`, with UTC dates like `2026-01-01` or `2026-01-01T09:30`"


def handle_admin_command(deps: Deps, command: CommandPayload, client: WebClient, what: str, rest: str) -> None:
    """Refused, and logged, unless the user is listed in `[admins] users`."""
    user_id = command.user_id
    admins.require_admin(deps.config.admins, user_id=user_id, command=f"/allears {what}", doing=ADMIN_COMMANDS[what])
    if what == "export":
        send_export(deps, command, client, rest.split())
        return
    if not rest.strip():
        raise UserError(f"Which source? Usage: `/allears {what} <source>`.")
    source = admins.find_source(deps.config.sources, rest)
    if what == "pause":
        confirm(command, client, pause_confirmation(admins.pause(deps.engine, source=source, user_id=user_id)))
    else:
        confirm(command, client, resume_confirmation(admins.resume(deps.engine, source=source, user_id=user_id)))


def pause_confirmation(paused: admins.Pause) -> str:
    name = safe_mrkdwn(paused.source, 200)
    if not paused.changed and paused.paused_at:
        by = f" by <@{paused.paused_by}>" if paused.paused_by else ""
        return f"*{name}* is already paused{by} since {date(paused.paused_at)}."
    return (
        f"Paused *{name}*: it is not polled until `/allears resume {name}`. "
        "An operator's `allears poll --once` still polls it."
    )


def resume_confirmation(resumed: admins.Pause) -> str:
    name = safe_mrkdwn(resumed.source, 200)
    if not resumed.changed:
        return f"*{name}* is not paused."
    return f"Resumed *{name}*: it is polled again at its next interval."


def send_export(deps: Deps, command: CommandPayload, client: WebClient, words: list[str]) -> None:
    """The same CSV as `allears export`, uploaded to the admin in a direct message."""
    if len(words) > 2:
        raise UserError(f"Too many words. Usage: {EXPORT_USAGE}.")
    moments = [parse_moment(word) for word in words]
    since, until = [*moments, None, None][:2]
    csv = io.StringIO()
    count = export(deps.engine, csv, kind=ExportFormat.CSV, since=since, until=until)
    span = " ".join(
        f"{word} {moment:%Y-%m-%d %H:%M} UTC" for word, moment in (("from", since), ("until", until)) if moment
    )
    filename = f"allears-mentions-{utcnow():%Y%m%d-%H%M%S}.csv"
    channel = client.conversations_open(users=command.user_id)["channel"]["id"]
    client.files_upload_v2(
        channel=channel,
        content=csv.getvalue(),
        filename=filename,
        title="All Ears mentions",
        initial_comment=f"{count} mention(s) heard {span or 'so far'}, with their events and outcomes.",
    )
    confirm(command, client, f"Sent {count} mention(s) as `{filename}` in a direct message from me.")
