"""Delivering the outbox through Slack's Web API: store first, then post, retrying until it lands.

Each row is rendered from the database at send time, so a card update always shows the latest
state and updates cannot land out of order. No transaction is held open across a network call.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot import outbox
from bot.actions import history
from bot.clock import utcnow
from bot.db import session_scope
from bot.mentions import get_mention
from bot.models import Escalation, Event, EventKind, Mention, Outbox, OutboxKind, OutboxStatus
from bot.slack.cards import card_fallback, mention_card, team_alert, team_alert_fallback, thread_note
from bot.slack.kit import section

log = logging.getLogger(__name__)

# Errors that no retry can fix: the payload itself is wrong. Anything else (rate limits, outages,
# a revoked token, a channel the bot is not in yet) is retried with backoff until someone fixes it.
PERMANENT_ERRORS = {
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "invalid_arguments",
    "message_not_found",
    "cant_update_message",
    "no_text",
    "invalid_metadata_format",
    "invalid_metadata_schema",
}
_NOT_READY_DELAY = timedelta(seconds=1)
_METADATA_EVENT = "allears_mention"


@dataclass(frozen=True)
class _Call:
    method: str
    args: dict[str, Any]


class _NotReady(Exception):
    """The row depends on a message not posted yet (a thread note before its card)."""


class _Abandon(Exception):
    """The row can never be sent (what it depends on failed or vanished)."""


class Deliverer:
    def __init__(self, engine: Engine, client: WebClient) -> None:
        self._engine = engine
        self._client = client
        self._paused_until: datetime | None = None

    def deliver_due(self, *, limit: int = 500, stopping: Callable[[], bool] = lambda: False) -> int:
        """Send what is due, oldest first, until nothing is due, Slack asks us to wait, or `limit`."""
        sent = 0
        for _ in range(limit):
            if stopping() or (self._paused_until and utcnow() < self._paused_until):
                break
            with session_scope(self._engine) as session:
                row = outbox.lease_next(session)
            if row is None:
                break
            sent += self._deliver(row)
        return sent

    def _deliver(self, row: Outbox) -> int:
        assert row.id is not None
        try:
            with session_scope(self._engine) as session:
                call = self._prepare(session, row)
        except _NotReady as waiting:
            with session_scope(self._engine) as session:
                outbox.mark_retry(session, row.id, delay=_NOT_READY_DELAY, error=str(waiting), count_attempt=False)
            return 0
        except _Abandon as reason:
            log.error("outbox %s (%s for M-%s) abandoned: %s", row.id, row.kind, row.mention_id, reason)
            with session_scope(self._engine) as session:
                outbox.mark_failed(session, row.id, error=str(reason))
            return 0
        if call is None:  # already delivered before a crash; only the bookkeeping was lost
            with session_scope(self._engine) as session:
                outbox.mark_sent(session, row.id)
            return 0
        try:
            response = self._client.api_call(call.method, json=call.args)
        except SlackApiError as error:
            self._failed(row, error)
            return 0
        except Exception as error:  # network: refused, reset, timed out
            log.warning("outbox %s: %s failed: %s; will retry", row.id, call.method, error)
            with session_scope(self._engine) as session:
                outbox.mark_retry(session, row.id, delay=outbox.backoff(row.attempts), error=repr(error))
            return 0
        with session_scope(self._engine) as session:
            self._record(session, row, channel=response["channel"], ts=response["ts"])
        return 1

    def _failed(self, row: Outbox, error: SlackApiError) -> None:
        assert row.id is not None
        status = error.response.status_code
        code = str(error.response.get("error", "unknown_error"))
        with session_scope(self._engine) as session:
            if status == 429:
                wait = timedelta(seconds=_retry_after(error.response.headers))
                self._paused_until = utcnow() + wait
                log.warning("Slack rate-limited %s; pausing delivery for %ss", row.kind, wait.total_seconds())
                outbox.mark_retry(session, row.id, delay=wait, error="ratelimited", count_attempt=False)
            elif code in PERMANENT_ERRORS:
                log.error("outbox %s (%s for M-%s) refused by Slack: %s", row.id, row.kind, row.mention_id, code)
                outbox.mark_failed(session, row.id, error=code)
            else:
                delay = outbox.backoff(row.attempts)
                log.warning(
                    "outbox %s: Slack answered %s %s; retrying in %ss", row.id, status, code, delay.total_seconds()
                )
                outbox.mark_retry(session, row.id, delay=delay, error=f"{status} {code}")

    def _prepare(self, session: Session, row: Outbox) -> _Call | None:
        mention = get_mention(session, row.mention_id)
        match row.kind:
            case OutboxKind.CARD:
                if mention.card_ts:
                    return None
                return _Call(
                    "chat.postMessage",
                    {
                        "channel": mention.channel,
                        "text": card_fallback(mention),
                        "blocks": mention_card(mention, history(session, row.mention_id)),
                        "unfurl_links": False,
                        "unfurl_media": False,
                        "metadata": {"event_type": _METADATA_EVENT, "event_payload": {"mention_id": mention.id}},
                    },
                )
            case OutboxKind.CARD_REFRESH:
                self._require_card(session, mention)
                return _Call(
                    "chat.update",
                    {
                        "channel": mention.card_channel,
                        "ts": mention.card_ts,
                        "text": card_fallback(mention),
                        "blocks": mention_card(mention, history(session, row.mention_id)),
                    },
                )
            case OutboxKind.THREAD_NOTE:
                self._require_card(session, mention)
                event = session.get(Event, row.event_id)
                if event is None:
                    raise _Abandon(f"event {row.event_id} is gone")
                note = thread_note(mention, event)
                return _Call(
                    "chat.postMessage",
                    {
                        "channel": mention.card_channel,
                        "thread_ts": mention.card_ts,
                        "text": note,
                        "blocks": [section(note)],
                        "unfurl_links": False,
                        "unfurl_media": False,
                    },
                )
            case OutboxKind.TEAM_ALERT | OutboxKind.TEAM_ALERT_REFRESH:
                escalation = _escalation(session, row)
                if row.kind == OutboxKind.TEAM_ALERT:
                    if escalation.alert_ts:
                        return None
                    target = {"channel": escalation.channel, "unfurl_links": False, "unfurl_media": False}
                    method = "chat.postMessage"
                else:
                    if not escalation.alert_ts:
                        raise _NotReady("the team alert is not posted yet")
                    target = {"channel": escalation.alert_channel, "ts": escalation.alert_ts}
                    method = "chat.update"
                return _Call(
                    method,
                    target
                    | {"text": team_alert_fallback(mention, escalation), "blocks": team_alert(mention, escalation)},
                )
        raise _Abandon(f"unknown outbox kind {row.kind}")

    def _require_card(self, session: Session, mention: Mention) -> None:
        if mention.card_ts:
            return
        card = session.exec(
            select(Outbox).where(Outbox.mention_id == mention.id, Outbox.kind == OutboxKind.CARD)
        ).first()
        if card is None or card.status == OutboxStatus.FAILED:
            raise _Abandon(f"the card of {mention.reference} was never posted")
        raise _NotReady(f"the card of {mention.reference} is not posted yet")

    def _record(self, session: Session, row: Outbox, *, channel: str, ts: str) -> None:
        assert row.id is not None
        outbox.mark_sent(session, row.id, channel=channel, ts=ts)
        if row.kind == OutboxKind.CARD:
            mention = session.get(Mention, row.mention_id)
            assert mention is not None
            mention.card_channel, mention.card_ts = channel, ts
            session.add(Event(mention_id=row.mention_id, kind=EventKind.POSTED, data={"channel": channel, "ts": ts}))
        elif row.kind == OutboxKind.TEAM_ALERT:
            escalation = _escalation(session, row)
            escalation.alert_channel, escalation.alert_ts = channel, ts


def _escalation(session: Session, row: Outbox) -> Escalation:
    escalation = session.exec(select(Escalation).where(Escalation.event_id == row.event_id)).first()
    if escalation is None:
        raise _Abandon(f"no escalation for event {row.event_id}")
    return escalation


def _retry_after(headers: dict[str, Any]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(1.0, float(value if isinstance(value, str) else value[0]))
            except (TypeError, ValueError, IndexError):
                break
    return 30.0


class OutboxPump:
    """A thread that drains the outbox every second, or at once when an action kicks it."""

    def __init__(self, deliverer: Deliverer, *, every: float = 1.0) -> None:
        self._deliverer = deliverer
        self._every = every
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-pump", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._every)
            self._wake.clear()
            try:
                self._deliverer.deliver_due(stopping=self._stop.is_set)
            except Exception:
                log.exception("outbox delivery failed; trying again in %ss", self._every)
