"""Delivering the outbox through Slack's Web API: store first, then post, retrying until it lands.

Each row is rendered from the database at send time, so a card update shows the state as it is
when sent; `bot.ground.outbox` hands out a mention's rows one at a time, in order. No transaction is held
open across a network call. A post tried before may be in Slack already (the process died, or the answer
was lost, after Slack took it): it is looked for first (`bot.slack.posted`), so each message lands once.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, update
from sqlmodel import Session, col

from bot.act import actions
from bot.act.actions import history
from bot.act.source_replies import SourceReplies
from bot.act.trackers.outbox_calls import TRACKER_KINDS, TrackerCalls
from bot.ground import outbox, prometheus
from bot.ground.clock import utcnow
from bot.ground.db import read_scope, session_scope, write_retrying
from bot.ground.logs import correlated, new_id
from bot.ground.mentions import get_mention
from bot.ground.models import POSTING_KINDS, Event, EventKind, Mention, Outbox, OutboxKind, Storm
from bot.hear.sources import SourceError
from bot.hear.storms import storm_counts
from bot.slack.calls import NO_UNFURL, Abandon, Call, NotReady, event_of, failed_for_good
from bot.slack.cards import (
    card_fallback,
    feedback_fallback,
    feedback_message,
    mention_card,
    storm_card,
    storm_fallback,
    thread_note,
)
from bot.slack.digest_delivery import digest_call, record_digest
from bot.slack.kit import section
from bot.slack.posted import find_posted, tagged
from bot.slack.spike_delivery import record_spike_alert, spike_call
from bot.slack.team_alert_delivery import escalation_of, team_alert_call
from bot.slack.tracker_messages import note_actions, shipped_message

log = logging.getLogger(__name__)

# Errors that no retry can fix: the payload itself is wrong. Anything else (rate limits, outages,
# a revoked token, a channel the bot is not in yet) is retried with backoff until someone fixes it.
PERMANENT_ERRORS = {
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "invalid_arguments",
    "message_not_found",
    "thread_not_found",  # the card it belongs under was deleted
    "cant_update_message",
    "no_text",
    "invalid_metadata_format",
    "invalid_metadata_schema",
}
_NOT_READY_DELAY = timedelta(seconds=1)


class Deliverer:
    def __init__(
        self,
        engine: Engine,
        client: WebClient,
        *,
        post_interval: float = 1.0,
        replies: SourceReplies | None = None,
        trackers: TrackerCalls | None = None,
    ) -> None:
        """`post_interval`: seconds between two new messages in one channel (Slack allows about one a second);
        `replies` posts answers on the sources themselves; `trackers` makes the issue trackers' calls. `client` must
        not resend a call whose connection dropped (`bot.slack.client.slack_client` does not): only the outbox knows
        to look for the post first."""
        self._engine = engine
        self._client = client
        self._replies = replies
        self._trackers = trackers
        self._paused_until: datetime | None = None
        self._post_interval = post_interval
        self._free_at: dict[str, float] = {}
        """When each channel may be posted to again (monotonic clock): after our last post, or a 429."""

    def deliver_due(self, *, limit: int = 500, stopping: Callable[[], bool] = lambda: False) -> int:
        """Send what is due, oldest first, until nothing is due, Slack asks us to wait, or `limit`.

        A channel posted to a moment ago is held for the rest of `post_interval`; other channels'
        messages go first, so a storm in one channel never delays a team alert in another.
        """
        sent = 0
        for _ in range(limit):
            if stopping() or (self._paused_until and utcnow() < self._paused_until):
                break
            hold = self._held_channels()
            with session_scope(self._engine) as session:
                row = outbox.lease_next(session, hold=hold)
            if row is None:
                wait = min((self._free_at[c] for c in hold), default=0.0) - time.monotonic()
                if not hold or wait > self._post_interval:
                    break  # nothing due, or only channels resting after a 429: the pump comes back
                time.sleep(max(0.0, wait))
                continue
            sent += self._deliver(row)
        return sent

    def _held_channels(self) -> set[str]:
        now = time.monotonic()
        return {channel for channel, free_at in self._free_at.items() if free_at > now}

    def _deliver(self, row: Outbox) -> int:
        if row.kind == OutboxKind.SOURCE_REPLY:
            return self._reply_on_source(row)
        if row.kind in TRACKER_KINDS:
            if self._trackers is None:
                self._settle(outbox.mark_failed, row, error="this process has no issue tracker configured")
                return 0
            return self._trackers.send(row)
        # A storm's count update claims its flag as it renders, so it needs a writing transaction.
        scope = session_scope if row.kind == OutboxKind.STORM_REFRESH else read_scope
        try:
            with scope(self._engine) as session:
                call = _prepare(session, row)
        except NotReady as waiting:
            self._settle(outbox.mark_retry, row, delay=_NOT_READY_DELAY, error=str(waiting), count_attempt=False)
            return 0
        except Abandon as reason:
            log.error("outbox %s (%s for M-%s) abandoned: %s", row.id, row.kind, row.mention_id, reason)
            self._settle(outbox.mark_failed, row, error=str(reason))
            return 0
        if call is None:  # sent by a process whose lease ran out before it could say so
            self._settle(outbox.mark_sent, row)
            return 0
        if call.method == "chat.postMessage":
            call = Call(call.method, tagged(call.args, row))
            self._free_at[call.args["channel"]] = time.monotonic() + self._post_interval
        try:
            response = self._posted_before(row, call) or self._client.api_call(call.method, json=call.args)
        except SlackApiError as error:
            self._failed(row, error)
            return 0
        except Exception as error:  # network: refused, reset, timed out
            log.warning("outbox %s: %s failed: %s; will retry", row.id, call.method, error)
            self._settle(outbox.mark_retry, row, delay=outbox.RETRY.after(row.attempts), error=repr(error))
            return 0

        def mark_sent(session: Session) -> None:
            if outbox.mark_sent(session, row, channel=response["channel"], ts=response["ts"]):
                _record(session, row, channel=response["channel"], ts=response["ts"])
            else:
                log.warning("outbox %s: sent, but its lease had passed to another process", row.id)

        # Slack has the message: a database away for a moment is waited out while the lease lasts, or the row would
        # stay leased and hold back its mention's later rows (a claim, a note) until the lease ran out.
        write_retrying(self._engine, mark_sent, until=row.lease_until)
        prometheus.messages_posted.labels(row.kind).inc()
        return 1

    def _posted_before(self, row: Outbox, call: Call) -> dict[str, str] | None:
        """Where an earlier attempt's message landed, if it did: that attempt may have been cut short after Slack
        accepted it (a crash, a lost answer). Only a post tried before pays for the look."""
        if call.method != "chat.postMessage" or row.attempts < 2:
            return None
        try:
            ts = find_posted(self._client, row, call.args)
        except SlackApiError as error:
            if error.response.status_code == 429 or error.response.status_code >= 500:
                raise  # Slack is busy or down: the row waits, as for the post itself
            # No history scope (an install from an older manifest), or a public channel the bot is not in.
            code = error.response.get("error")
            log.warning("outbox %s: cannot look for an earlier copy (%s); posting, maybe twice", row.id, code)
            return None
        if ts is None:
            return None
        log.warning("outbox %s: an earlier attempt had reached Slack (ts %s); keeping that message", row.id, ts)
        prometheus.posts_recovered.labels(row.kind).inc()
        return {"channel": call.args["channel"], "ts": ts}

    def _reply_on_source(self, row: Outbox) -> int:
        """One attempt, whatever happens: a reply that may have gone out is never sent again."""
        with read_scope(self._engine) as session:
            mention, reply_event = get_mention(session, row.mention_id), event_of(session, row)
        url, error = None, None
        try:
            if row.attempts > 1:  # an earlier attempt was cut short: it may have reached the source
                raise SourceError("an earlier attempt was interrupted, so it may or may not have been posted")
            if self._replies is None:
                raise SourceError("this process cannot post on sources")
            url = self._replies.send(mention, reply_event.data.get("text", ""), key=f"allears-reply-{reply_event.id}")
        except SourceError as failure:
            error = str(failure)
        except Exception as failure:  # a bug in one source's replier must still be reported, not retried
            log.exception("outbox %s: replying on %s failed", row.id, mention.source)
            error = f"unexpected {type(failure).__name__}"
        with session_scope(self._engine) as session:
            settled = outbox.mark_sent(session, row) if error is None else outbox.mark_failed(session, row, error=error)
            if settled:
                actions.sent_to_source(session, reply_event=reply_event, url=url, error=error)
        return 0

    def _settle(self, mark: Callable[..., bool], row: Outbox, **values: Any) -> None:
        with session_scope(self._engine) as session:
            if not mark(session, row, **values):
                log.warning("outbox %s: its lease had passed to another process", row.id)

    def _failed(self, row: Outbox, error: SlackApiError) -> None:
        status = error.response.status_code
        code = str(error.response.get("error", "unknown_error"))
        if status == 429:
            wait = timedelta(seconds=_retry_after(error.response.headers))
            if row.kind in POSTING_KINDS and row.channel:  # Slack limits posting per channel
                self._free_at[row.channel] = time.monotonic() + wait.total_seconds()
            else:  # other methods are limited across the workspace
                self._paused_until = utcnow() + wait
            log.warning("Slack rate-limited %s; holding it for %ss", row.kind, wait.total_seconds())
            self._settle(outbox.mark_retry, row, delay=wait, error="ratelimited", count_attempt=False)
        elif code in PERMANENT_ERRORS:
            log.error("outbox %s (%s for M-%s) refused by Slack: %s", row.id, row.kind, row.mention_id, code)
            self._settle(outbox.mark_failed, row, error=code)
        else:
            delay = outbox.RETRY.after(row.attempts)
            log.warning("outbox %s: Slack answered %s %s; retrying in %ss", row.id, status, code, delay.total_seconds())
            self._settle(outbox.mark_retry, row, delay=delay, error=f"{status} {code}")


def _prepare(session: Session, row: Outbox) -> Call | None:
    """The Web API call for a row, rendered from the database as it is now; None if already sent."""
    if row.kind in (OutboxKind.SPIKE_ALERT, OutboxKind.SPIKE_NOTE):
        return spike_call(session, row)
    mention = get_mention(session, row.mention_id)
    storm = session.get(Storm, mention.storm_id) if mention.storm_id else None
    match row.kind:
        case OutboxKind.CARD:
            if mention.card_ts:
                return None
            return Call(
                "chat.postMessage",
                {
                    "channel": mention.channel,
                    "text": card_fallback(mention),
                    "blocks": mention_card(mention, history(session, row.mention_id)),
                }
                | _under_storm(session, storm)
                | NO_UNFURL,
            )
        case OutboxKind.STORM_CARD:
            assert storm is not None
            if storm.card_ts:
                return None
            counts = storm_counts(session, storm)
            return Call(
                "chat.postMessage",
                {"channel": storm.channel, "text": storm_fallback(storm, counts), "blocks": storm_card(storm, counts)}
                | NO_UNFURL,
            )
        case OutboxKind.STORM_REFRESH:
            assert storm is not None
            if not storm.card_ts:
                if _storm_card_failed(session, storm):
                    raise Abandon("the storm card was never posted")
                raise NotReady("the storm card is not posted yet")
            session.execute(update(Storm).where(col(Storm.id) == storm.id).values(refresh_queued=False))
            counts = storm_counts(session, storm)
            return Call(
                "chat.update",
                {
                    "channel": storm.card_channel,
                    "ts": storm.card_ts,
                    "text": storm_fallback(storm, counts),
                    "blocks": storm_card(storm, counts),
                },
            )
        case OutboxKind.CARD_REFRESH:
            _require_card(mention)
            return Call(
                "chat.update",
                {
                    "channel": mention.card_channel,
                    "ts": mention.card_ts,
                    "text": card_fallback(mention),
                    "blocks": mention_card(mention, history(session, row.mention_id)),
                },
            )
        case OutboxKind.THREAD_NOTE:
            _require_card(mention)
            event = event_of(session, row)
            note = thread_note(mention, event)
            in_storm_thread = storm is not None and storm.card_ts is not None
            # The mention's card is itself in the storm's thread, so its notes go there; the storm's own reminder
            # (sent as its first mention's note) is about the whole storm, so it names no mention.
            if in_storm_thread and event.data.get("step") != "storm":
                note = f"*{mention.reference}*: {note}"
            thread = {"thread_ts": storm.card_ts if storm is not None and in_storm_thread else mention.card_ts}
            blocks = [section(note), *note_actions(mention, event)]
            return Call(
                "chat.postMessage",
                {"channel": mention.card_channel, "text": note, "blocks": blocks} | thread | NO_UNFURL,
            )
        case OutboxKind.SHIPPED_DM:
            text = shipped_message(mention, event_of(session, row))
            return Call(
                "chat.postMessage", {"channel": row.channel, "text": text, "blocks": [section(text)]} | NO_UNFURL
            )
        case OutboxKind.FEEDBACK:
            event = event_of(session, row)
            blocks = feedback_message(mention, event)
            return Call(
                "chat.postMessage",
                {"channel": event.data["feedback_channel"], "text": feedback_fallback(mention), "blocks": blocks}
                | NO_UNFURL,
            )
        case OutboxKind.TEAM_ALERT | OutboxKind.TEAM_ALERT_NOTE | OutboxKind.TEAM_ALERT_REFRESH:
            return team_alert_call(session, row, mention)
        case OutboxKind.DIGEST | OutboxKind.DIGEST_PAGE:
            return digest_call(session, row, mention)
    raise Abandon(f"unknown outbox kind {row.kind}")


def _under_storm(session: Session, storm: Storm | None) -> dict[str, Any]:
    """A storm's later mentions are posted in its thread once its card is there; if Slack refused the
    card for good, they are posted as cards of their own rather than wait for ever."""
    if storm is None:
        return {}
    if storm.card_ts:
        return {"thread_ts": storm.card_ts}
    if _storm_card_failed(session, storm):
        return {}
    raise NotReady("the storm card is not posted yet")


def _storm_card_failed(session: Session, storm: Storm) -> bool:
    return failed_for_good(session, OutboxKind.STORM_CARD, col(Mention.storm_id) == storm.id)


def _require_card(mention: Mention) -> None:
    """Rows after the card are due only once the card is settled: no ts means it failed for good."""
    if not mention.card_ts:
        raise Abandon(f"the card of {mention.reference} was never posted")


def _record(session: Session, row: Outbox, *, channel: str, ts: str) -> None:
    """Remember where a new message landed, so later rows can update it or reply under it."""
    if row.kind == OutboxKind.CARD:
        mention = get_mention(session, row.mention_id)
        mention.card_channel, mention.card_ts = channel, ts
        session.add(mention)
        session.add(Event(mention_id=row.mention_id, kind=EventKind.POSTED, data={"channel": channel, "ts": ts}))
    elif row.kind == OutboxKind.TEAM_ALERT:
        escalation = escalation_of(session, row)
        escalation.alert_channel, escalation.alert_ts = channel, ts
        session.add(escalation)
    elif row.kind == OutboxKind.SPIKE_ALERT:
        record_spike_alert(session, row, channel=channel, ts=ts)
    elif row.kind == OutboxKind.STORM_CARD:
        mention = get_mention(session, row.mention_id)
        session.execute(update(Storm).where(col(Storm.id) == mention.storm_id).values(card_channel=channel, card_ts=ts))
    elif row.kind == OutboxKind.DIGEST:
        record_digest(session, row, channel=channel, ts=ts)


def _retry_after(headers: dict[str, Any]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(1.0, float(value if isinstance(value, str) else value[0]))
            except (TypeError, ValueError, IndexError):
                break
    return 30.0


class Drains(Protocol):
    def deliver_due(self, *, limit: int = 500, stopping: Callable[[], bool] = lambda: False) -> int: ...


class OutboxPump:
    """A thread that drains the outbox every second, or at once when an action kicks it: Slack's rows
    (`Deliverer`), or the webhooks' (`bot.remember.webhooks.WebhookDeliverer`) on a thread of their own."""

    def __init__(self, deliverer: Drains, *, every: float = 1.0, name: str = "outbox") -> None:
        self._deliverer = deliverer
        self._every = every
        self._name = name
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{name}-pump", daemon=True)

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
                with correlated(f"{self._name}:{new_id()}"):  # each round's log lines read together
                    self._deliverer.deliver_due(stopping=self._stop.is_set)
            except Exception:
                log.exception("%s delivery failed; trying again in %ss", self._name, self._every)
