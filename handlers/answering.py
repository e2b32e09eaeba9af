"""Answering the person who acted, privately, wherever the request came from.

There are three ways to reach them, tried in turn: the request's response_url (a modal carries its opener's),
an ephemeral message in the channel they acted in, and a direct message from the app. A response_url expires
after half an hour, and an ephemeral needs a channel the bot may post in, so one failing is no reason to
stay silent."""

import logging
from collections.abc import Callable, Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.slack.payloads import Asker, Origin

log = logging.getLogger(__name__)

Blocks = list[dict[str, Any]] | None
Way = Callable[[str, Blocks], None]

CATCHING_UP = " (Slack is slow to answer right now: the card will catch up in a moment.)"
"""Added to a confirmation that had to take a second way: the card's refresh may be waiting on Slack too."""


class NotTold(Exception):
    """No way of answering the person worked; the reasons are in the message."""


def _asker(body: Asker | dict[str, Any]) -> Asker:
    """A parsed request as it is; one as Slack sent it (an error's, which may be of any kind) read leniently."""
    return Origin.of(body) if isinstance(body, dict) else body


def tell(body: Asker | dict[str, Any], client: WebClient, text: str, blocks: Blocks = None, *, later: str = "") -> None:
    """A private answer, by the first way that works; `later` is added when an earlier way failed."""
    asker = _asker(body)
    failures: list[str] = []
    for name, way in _ways(asker, client):
        try:
            way(text + (later if failures else ""), blocks)
            if failures:
                log.info("answered %s by %s after: %s", asker.actor(), name, "; ".join(failures))
            return
        except Exception as error:  # Slack refusing, or the network: the next way may still reach them
            failures.append(f"{name}: {_reason(error)}")
    raise NotTold("; ".join(failures) or "the request names nobody to answer")


def confirm(body: Asker | dict[str, Any], client: WebClient, done: str, blocks: Blocks = None) -> None:
    """Tell the person what their action did, once it is committed. It happened whatever Slack answers now, so
    a failure here is logged, never turned into an error message, and the outbox brings the card up to date."""
    asker = _asker(body)
    try:
        tell(asker, client, done, blocks, later=CATCHING_UP)
    except NotTold as error:
        log.warning("%s was done for %s, who could not be told: %s", asker.what(), asker.actor(), error)


def _ways(asker: Asker, client: WebClient) -> Iterator[tuple[str, Way]]:
    user_id = asker.actor()
    response_url = asker.reply_url()
    if response_url:
        yield "response_url", lambda text, blocks: _respond(response_url, text, blocks)
    channel = _channel(asker)
    if channel and user_id:
        yield "ephemeral", lambda text, blocks: _ephemeral(client, channel, user_id, text, blocks)
    if user_id:
        yield "direct message", lambda text, blocks: _direct_message(client, user_id, text, blocks)


def _respond(response_url: str, text: str, blocks: Blocks) -> None:
    response = WebhookClient(response_url, timeout=10).send(
        text=text, blocks=blocks, response_type="ephemeral", replace_original=False
    )
    if response.status_code != 200:
        raise NotTold(f"answered {response.status_code}")


def _ephemeral(client: WebClient, channel: str, user_id: str, text: str, blocks: Blocks) -> None:
    client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks)


def _direct_message(client: WebClient, user_id: str, text: str, blocks: Blocks) -> None:
    """In the app's Messages tab, which Slack opens for a user id as channel."""
    client.chat_postMessage(channel=user_id, text=text, blocks=blocks)


def _channel(asker: Asker) -> str | None:
    """The conversation the person acted in: a command's, or the message a button is in. A DM with the app is
    left to the direct message, which lands there anyway."""
    channel = asker.conversation()
    return channel if channel and not channel.startswith("D") else None


def _reason(error: Exception) -> str:
    response = getattr(error, "response", None)
    if response is not None and hasattr(response, "get"):
        return str(response.get("error") or error)
    return f"{type(error).__name__}: {error}"[:200]
