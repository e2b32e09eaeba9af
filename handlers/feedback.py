"""Answering the person who acted, privately, wherever the request came from."""

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.errors import UserError
from bot.slack.modals import ModalContext

log = logging.getLogger(__name__)


def tell(body: dict[str, Any], client: WebClient, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
    """An ephemeral answer through the request's response_url (a modal carries its opener's), else a DM."""
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    response_url = body.get("response_url") or _modal_response_url(body)
    if response_url:
        response = WebhookClient(response_url, timeout=10).send(
            text=text, blocks=blocks, response_type="ephemeral", replace_original=False
        )
        if response.status_code == 200:
            return
        log.warning("response_url answered %s; telling %s directly instead", response.status_code, user_id)
    if user_id:
        client.chat_postMessage(channel=user_id, text=text, blocks=blocks)


def _modal_response_url(body: dict[str, Any]) -> str | None:
    if body.get("type") != "view_submission":
        return None
    try:
        return ModalContext.of_submission(body).response_url
    except UserError:
        return None
