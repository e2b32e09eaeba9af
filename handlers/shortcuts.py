"""The message shortcut "Log as customer mention": what a colleague pasted or heard becomes a mention."""

from functools import partial

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.hear.intake import log_forwarded
from bot.slack.ids import ShortcutId
from bot.slack.message_markup import Names, message_text
from bot.slack.payloads import ShortcutPayload
from handlers import Deps
from handlers.answering import confirm
from handlers.commands import logged_confirmation
from handlers.errors import Body, after_ack


def _permalink(client: WebClient, channel: str, ts: str) -> str | None:
    """A link back to the message; Slack refuses it for conversations the bot cannot see, which is fine."""
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError:
        return None


def register(app: App, deps: Deps) -> None:
    acknowledged = after_ack(deps.work, afterwards=deps.homes.after_action)
    names = Names()

    @app.shortcut(ShortcutId.LOG_MENTION)
    @acknowledged
    def handle_log_mention_shortcut(body: Body, client: WebClient) -> None:
        shortcut = ShortcutPayload.of(body)
        channel, ts = shortcut.conversation() or "", shortcut.message.ts
        text = message_text(
            shortcut.message.text or "",
            person=partial(names.person, client),
            channel=partial(names.channel, client),
        )
        logged = log_forwarded(
            deps.engine,
            deps.listener,
            text=text,
            url=_permalink(client, channel, ts) if channel and ts else None,
            forwarded_by=shortcut.actor(),
            external_id=f"slack:{channel}:{ts}",
        )
        if logged.new:
            deps.notify()
        confirm(shortcut, client, logged_confirmation(logged))
