"""Acknowledge first, act second, and turn whatever goes wrong into a private answer.

A domain refusal (UserError) reaches its author as written. Anything else is logged with a short
reference that the user sees too, so a report can be matched to the log.
"""

import logging
import secrets
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.errors import UserError
from handlers.feedback import tell

log = logging.getLogger(__name__)

Body = dict[str, Any]
Handler = Callable[[Body, WebClient], None]
Listener = Callable[[Ack, Body, WebClient], None]


def acknowledged(handler: Handler) -> Listener:
    """A listener that acks before doing anything, so Slack never waits on the database or the network.

    Errors are caught here rather than left to Bolt's error handler: when a listener raises after
    ack() with process_before_response off, Bolt 1.30 can drop the ack and answer Slack 404.
    """

    def listener(ack: Ack, body: Body, client: WebClient) -> None:
        ack()
        try:
            handler(body, client)
        except Exception as error:
            report(error, body, client)

    listener.__name__ = handler.__name__
    return listener


def report(error: Exception, body: Body, client: WebClient) -> None:
    if isinstance(error, UserError):
        message = str(error)
    else:
        reference = secrets.token_hex(4)
        what = body.get("command") or body.get("type") or "request"
        log.error("unexpected error (ref %s) handling %s", reference, what, exc_info=error)
        message = (
            f":warning: Something went wrong on our side (ref `{reference}`). "
            "Try again; if it keeps happening, give the ref to whoever runs All Ears."
        )
    try:
        tell(body, client, message)
    except Exception:
        log.exception("could not tell the user: %s", message)


def register(app: App) -> None:
    """Errors Bolt meets outside our listeners (before any ack) get the same treatment."""

    @app.error
    def handle_error(error: Exception, body: Body, client: WebClient) -> None:
        report(error, body, client)
