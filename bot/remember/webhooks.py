"""Delivering outbound webhooks: each `webhook` outbox row POSTed, signed, to its receiver until it answers 2xx.

A receiver that fails waits out a backoff before any of its rows is tried again (one attempt per wait, not
one per queued event); one failing for `PAUSE_AFTER` is paused: tried once in a while, longer the longer it
stays down, until a success resumes it. Its rows wait meanwhile, in order, so nothing is lost. An attempt
whose answer was lost may have landed: it is sent again with the same `Idempotency-Key`, which receivers
use to take each event once (docs/webhooks.md).
"""

import hashlib
import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from bot.ground import outbox, prometheus
from bot.ground.clock import utcnow
from bot.ground.config import Webhook
from bot.ground.config_types import secret
from bot.ground.db import read_scope, session_scope, write_retrying
from bot.ground.models import Outbox, OutboxStatus, WebhookReceiver
from bot.remember.webhook_bodies import webhook_body

log = logging.getLogger(__name__)

PAUSE_AFTER = timedelta(minutes=10)
"""A receiver failing this long is paused (shown in `/allears webhooks`)."""
PAUSED_RETRY_LEAST = timedelta(minutes=5)
PAUSED_RETRY_MOST = timedelta(hours=1)
"""A paused receiver is tried again after as long as it has been paused, within these bounds."""
TIMEOUT = 10.0
USER_AGENT = "allears-webhooks/1"


def signature(secret_value: str, timestamp: int, body: bytes) -> str:
    """`X-Allears-Signature`: HMAC-SHA256 of `v1:{timestamp}:{body}`, so a receiver can refuse an old body."""
    signed = b"v1:" + str(timestamp).encode() + b":" + body
    return "sha256=" + hmac.new(secret_value.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(secret_value: str, row: Outbox, body: bytes, *, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Allears-Event": row.webhook_event or "",
        "X-Allears-Timestamp": str(timestamp),
        "X-Allears-Signature": signature(secret_value, timestamp, body),
        "Idempotency-Key": row.webhook_event_id or "",
    }


class WebhookDeliverer:
    def __init__(
        self,
        engine: Engine,
        http: httpx.Client,
        webhooks: Sequence[Webhook],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`clock`: the time the backoffs, pauses and signatures go by."""
        self._engine = engine
        self._http = http
        self._clock = clock
        self._secrets = {webhook.url: secret(webhook.secret_env) or "" for webhook in webhooks}

    def deliver_due(self, *, limit: int = 500, stopping: Callable[[], bool] = lambda: False) -> int:
        """Send what is due, oldest first, of the receivers not resting; returns how many were taken."""
        sent = 0
        for _ in range(limit):
            if stopping():
                break
            now = self._clock()
            with session_scope(self._engine) as session:
                receivers = {receiver.id or 0: receiver for receiver in session.exec(select(WebhookReceiver))}
                resting = [id_ for id_, receiver in receivers.items() if not self._ready(receiver, now)]
                row = outbox.lease_next(session, now=now, hold=resting, webhooks=True)
            if row is None:
                break
            sent += self._deliver(row, receivers[row.webhook_id or 0], now)
        return sent

    def _ready(self, receiver: WebhookReceiver, now: datetime) -> bool:
        """Configured here (a receiver no longer in the config keeps its rows for when it is back), and not waiting."""
        return receiver.url in self._secrets and (receiver.retry_at is None or receiver.retry_at <= now)

    def _deliver(self, row: Outbox, receiver: WebhookReceiver, now: datetime) -> int:
        with read_scope(self._engine) as session:
            body = webhook_body(session, row)
        headers = signed_headers(self._secrets[receiver.url], row, body, now=now)
        try:  # streamed, and its body never read: only the status matters, however much a receiver answers
            with self._http.stream("POST", receiver.url, content=body, headers=headers, timeout=TIMEOUT) as answer:
                status = answer.status_code
        except httpx.HTTPError as error:  # refused, reset, timed out: it may have arrived, the key says so
            prometheus.webhook_deliveries.labels(type(error).__name__).inc()
            said = str(error).replace(receiver.url, _host(receiver.url))  # its query can hold a token
            return self._failed(row, receiver, f"{type(error).__name__}: {said}", now)
        prometheus.webhook_deliveries.labels("ok" if 200 <= status < 300 else f"http_{status}").inc()
        if not 200 <= status < 300:
            return self._failed(row, receiver, f"HTTP {status}", now)

        def mark_sent(session: Session) -> None:
            if not outbox.mark_sent(session, row, now=now):
                log.warning("outbox %s: sent, but its lease had passed to another process", row.id)
            session.execute(
                update(WebhookReceiver)
                .where(col(WebhookReceiver.id) == receiver.id)
                .values(
                    last_success_at=now, last_error=None, failing_since=None, failures=0, retry_at=None, paused_at=None
                )
            )

        # The receiver has it: a database away for a moment is waited out while the lease lasts, or the row would
        # be sent again once the lease ran out (the receiver would take it once all the same, by its key).
        write_retrying(self._engine, mark_sent, until=row.lease_until)
        return 1

    def _failed(self, row: Outbox, receiver: WebhookReceiver, error: str, now: datetime) -> int:
        failing_since = receiver.failing_since or now
        paused_at = receiver.paused_at or (now if now - failing_since >= PAUSE_AFTER else None)
        if paused_at is None:
            wait = outbox.RETRY.after(receiver.failures + 1)
        else:
            wait = min(max(now - paused_at, PAUSED_RETRY_LEAST), PAUSED_RETRY_MOST)
        if paused_at == now:
            log.warning("webhook %s failing since %s: paused", _host(receiver.url), failing_since.isoformat())
        seconds = wait.total_seconds()
        log.info("webhook %s: %s for %s; retrying in %ss", _host(receiver.url), error, row.webhook_event_id, seconds)
        with session_scope(self._engine) as session:
            outbox.mark_retry(session, row, delay=wait, error=error, now=now)
            session.execute(
                update(WebhookReceiver)
                .where(col(WebhookReceiver.id) == receiver.id)
                .values(
                    last_error=error[:2000],
                    failing_since=func.coalesce(col(WebhookReceiver.failing_since), failing_since),
                    failures=col(WebhookReceiver.failures) + 1,
                    retry_at=now + wait,
                    paused_at=paused_at,
                )
            )
        return 0


def _host(url: str) -> str:
    """A receiver is shown by its host: its path and query can carry a token."""
    return urlsplit(url).hostname or "?"


@dataclass(frozen=True)
class WebhookHealth:
    host: str
    events: list[str]
    last_success_at: datetime | None
    failing_since: datetime | None
    last_error: str | None
    queued: int
    """Events waiting for it, in order."""
    paused_at: datetime | None
    retry_at: datetime | None
    """Its next attempt, while it fails."""


def webhook_health(session: Session, webhooks: Sequence[Webhook]) -> list[WebhookHealth]:
    """How each configured receiver is doing, for `/allears webhooks`."""
    receivers = {receiver.url: receiver for receiver in session.exec(select(WebhookReceiver))}
    unsent = [OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]
    queued = dict(
        session.exec(
            select(col(Outbox.webhook_id), func.count())
            .where(col(Outbox.webhook_id).is_not(None), col(Outbox.status).in_(unsent))
            .group_by(col(Outbox.webhook_id))
        ).all()
    )
    report = []
    for webhook in webhooks:
        receiver = receivers.get(webhook.url) or WebhookReceiver(url=webhook.url)
        report.append(
            WebhookHealth(
                host=_host(webhook.url),
                events=[str(event) for event in webhook.events],
                last_success_at=receiver.last_success_at,
                failing_since=receiver.failing_since,
                last_error=receiver.last_error,
                queued=queued.get(receiver.id, 0),
                paused_at=receiver.paused_at,
                retry_at=receiver.retry_at if receiver.failing_since else None,
            )
        )
    return report
