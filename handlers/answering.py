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

from bot.ground.errors import UserError
from bot.slack.modals import ModalContext

log = logging.getLogger(__name__)

Blocks = list[dict[str, Any]] | None
Way = Callable[[str, Blocks], None]

CATCHING_UP = " (Slack is slow to answer right now: the card will catch up in a moment.)"
"""Added to a confirmation that had to take a second way: the card's refresh may be waiting on Slack too."""


class NotTold(Exception):
    """No way of answering the person worked; the reasons are in the message."""


def tell(body: dict[str, Any], client: WebClient, text: str, blocks: Blocks = None, *, later: str = "") -> None:
    """A private answer, by the first way that works; `later` is added when an earlier way failed."""
    failures: list[str] = []
    for name, way in _ways(body, client):
        try:
            way(text + (later if failures else ""), blocks)
            if failures:
                log.info("answered %s by %s after: %s", _user_id(body), name, "; ".join(failures))
            return
        except Exception as error:  # Slack refusing, or the network: the next way may still reach them
            failures.append(f"{name}: {_reason(error)}")
    raise NotTold("; ".join(failures) or "the request names nobody to answer")


def confirm(body: dict[str, Any], client: WebClient, done: str, blocks: Blocks = None) -> None:
    """Tell the person what their action did, once it is committed. It happened whatever Slack answers now, so
    a failure here is logged, never turned into an error message, and the outbox brings the card up to date."""
    try:
        tell(body, client, done, blocks, later=CATCHING_UP)
    except NotTold as error:
        log.warning("%s was done for %s, who could not be told: %s", _what(body), _user_id(body), error)


def _ways(body: dict[str, Any], client: WebClient) -> Iterator[tuple[str, Way]]:
    user_id = _user_id(body)
    response_url = body.get("response_url") or _modal_response_url(body)
    if response_url:
        yield "response_url", lambda text, blocks: _respond(response_url, text, blocks)
    channel = _channel(body)
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


def _user_id(body: dict[str, Any]) -> str | None:
    return (body.get("user") or {}).get("id") or body.get("user_id")


def _channel(body: dict[str, Any]) -> str | None:
    """The conversation the person acted in: a command's, or the message a button is in. A DM with the app is
    left to the direct message, which lands there anyway."""
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    return channel if channel and not channel.startswith("D") else None


def _modal_response_url(body: dict[str, Any]) -> str | None:
    if body.get("type") != "view_submission":
        return None
    try:
        return ModalContext.of_submission(body).response_url
    except UserError:
        return None


def _what(body: dict[str, Any]) -> str:
    if body.get("command"):
        return str(body["command"])
    actions = body.get("actions") or [{}]
    return str(actions[0].get("action_id") or (body.get("view") or {}).get("callback_id") or body.get("type"))


def _reason(error: Exception) -> str:
    response = getattr(error, "response", None)
    if response is not None and hasattr(response, "get"):
        return str(response.get("error") or error)
    return f"{type(error).__name__}: {error}"[:200]
