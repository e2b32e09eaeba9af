"""Acknowledge first, act second, and turn whatever goes wrong into a private answer.

A domain refusal (UserError) reaches its author as written. Anything else is logged with a short
reference that the user sees too, so a report can be matched to the log: the reference is the request's
correlation id (`bot.ground.logs`), which every log line of that request and its work carries.
"""

import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.ground import prometheus
from bot.ground.answer_first import after_answer
from bot.ground.errors import UserError
from bot.ground.logs import correlated, correlation_id
from bot.slack.payloads import Origin
from handlers.answering import NotTold, tell

log = logging.getLogger(__name__)

Body = dict[str, Any]
Handler = Callable[[Body, WebClient], None]
Listener = Callable[[Ack, Body, WebClient], None]
Check = Callable[[Body], dict[str, str]]
"""A form's problems, as Slack wants them: each input's block id → what is wrong with it; empty when none."""
FollowUp = Callable[[Body, WebClient, bool], None]
"""Runs once a listener's work is done: its request, the client, and whether the work was refused (a UserError)."""


def after_ack(
    work: Executor, *, afterwards: FollowUp | None = None, check: Check | None = None
) -> Callable[[Handler], Listener]:
    """Listeners that ack on the request's own thread and hand the work to `work`.

    The ack never waits for the network or a free worker, and the work starts only once the answer has been
    sent (`bot.ground.answer_first`), so Slack gets its answer at once however busy the bot is. Errors are answered
    here, as `report` describes. `afterwards` runs once the work is done, told whether it was refused (it
    redraws the Home tab). `check` (for a modal) finds what is wrong with the form before it closes: its
    problems are acked as errors on their fields, the modal stays open with what was typed, and nothing is done.
    """

    def acknowledged(handler: Handler) -> Listener:
        def listener(ack: Ack, body: Body, client: WebClient) -> None:
            started = time.perf_counter()
            problems = _problems(check, body) if check is not None else None
            if problems:
                ack(response_action="errors", errors=problems)
                prometheus.acked(Origin.of(body).kind(), listener_started=started)
                return
            ack()
            prometheus.acked(Origin.of(body).kind(), listener_started=started)
            # The work runs on another thread, once the answer is out: it takes the request's id along (Socket
            # Mode gets a new one).
            after_answer(partial(work.submit, _run, handler, body, client, afterwards, correlation_id()))

        listener.__name__ = handler.__name__
        return listener

    return acknowledged


def _problems(check: Check, body: Body) -> dict[str, str] | None:
    try:
        return check(body)
    except Exception:  # the form is acked as it is; its work meets the same error and reports it
        log.exception("checking the %s form failed; submitting it as it is", Origin.of(body).what())
        return None


def _run(
    handler: Handler, body: Body, client: WebClient, afterwards: FollowUp | None, reference: str | None = None
) -> None:
    with correlated(reference):
        refused = False
        try:
            handler(body, client)
        except Exception as error:
            refused = isinstance(error, UserError)  # a refusal changed nothing; anything else may have half-done
            report(error, body, client)
        if afterwards is None:
            return
        # After the answer, and never instead of it: a failure here is only logged.
        try:
            afterwards(body, client, refused)
        except Exception:
            log.exception("follow-up to %s failed", Origin.of(body).what())


def report(error: Exception, body: Body, client: WebClient) -> None:
    origin = Origin.of(body)
    if isinstance(error, UserError):
        message = str(error)
    else:
        with correlated(correlation_id()) as reference:  # the work's own id, or a new one outside any
            log.error("unexpected error (ref %s) handling %s", reference, origin.what(), exc_info=error)
        message = (
            f":warning: Something went wrong on our side (ref `{reference}`). "
            "Try again; if it keeps happening, give the ref to whoever runs All Ears."
        )
    try:
        tell(origin, client, message)
    except NotTold as error:
        log.warning("could not tell the user (%s): %s", error, message)


def register(app: App) -> None:
    """Errors Bolt meets outside our listeners (before any ack) get the same treatment."""

    @app.error
    def handle_error(error: Exception, body: Body, client: WebClient) -> None:
        report(error, body, client)
