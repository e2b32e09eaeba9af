"""Prometheus metrics: counters and histograms kept by this process, and the outbox read from the database
when scraped.

Counters are per process: `allears run` and `allears serve` show theirs on `GET /metrics`; `allears
worker` shows its own on `METRICS_PORT` when that is set. Sum them across processes in Prometheus.
"""

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from prometheus_client import REGISTRY, Counter, Histogram, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, text
from sqlmodel import col, select

from bot.ground.clock import utcnow
from bot.ground.db import read_scope
from bot.ground.models import Outbox, OutboxStatus

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # what `generate_latest` writes; every scraper reads it
_QUERY_TIMEOUT_MS = 2000

mentions_ingested = Counter(
    "allears_mentions_ingested", "New mentions stored, by source (polled, webhook, forwarded).", ["source"]
)
messages_posted = Counter("allears_messages_posted", "Outbox rows Slack accepted, by outbox kind.", ["kind"])
posts_recovered = Counter(
    "allears_posts_recovered",
    "Outbox posts found already in Slack after an interrupted attempt, so not posted again, by outbox kind.",
    ["kind"],
)
webhook_deliveries = Counter(
    "allears_webhook_deliveries",
    "Attempts to deliver an outbound webhook event, by outcome: ok, http_<status>, or a network error's type.",
    ["outcome"],
)
slack_calls = Counter(
    "allears_slack_calls", "Web API calls the bot made, by method and outcome (ok or the error).", ["method", "outcome"]
)
slack_call_seconds = Histogram("allears_slack_call_seconds", "Time a Web API call took, by method.", ["method"])
ack_seconds = Histogram(
    "allears_ack_seconds",
    "Time from a Slack request's arrival to its ack, by kind (command, block_actions, view_submission…).",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),  # Slack gives up at 3 seconds
)
source_errors = Counter("allears_source_errors", "Polls of a source that failed, by source.", ["source"])
sla_reminders = Counter("allears_sla_reminders", "SLA reminders sent (breaches), by step.", ["step"])

request_arrived: ContextVar[float | None] = ContextVar("allears_request_arrived", default=None)
"""When the HTTP request being handled on this thread arrived (`time.perf_counter()`), for `ack_seconds`."""


@contextmanager
def arrived_now() -> Iterator[None]:
    token = request_arrived.set(time.perf_counter())
    try:
        yield
    finally:
        request_arrived.reset(token)


def acked(kind: str, *, listener_started: float) -> None:
    """Observe one ack: from the request's arrival over HTTP, or (Socket Mode) from the listener's start."""
    ack_seconds.labels(kind).observe(time.perf_counter() - (request_arrived.get() or listener_started))


@contextmanager
def timed_slack_call(method: str) -> Iterator[None]:
    """Count one Web API call and its latency, its outcome `ok` or what went wrong: Slack's error code
    (`ratelimited`, `channel_not_found`), `http_<status>` without one, or the exception's type (network)."""
    started = time.perf_counter()
    try:
        yield
    except Exception as error:
        slack_calls.labels(method, _outcome(error)).inc()
        raise
    else:
        slack_calls.labels(method, "ok").inc()
    finally:
        slack_call_seconds.labels(method).observe(time.perf_counter() - started)


def _outcome(error: Exception) -> str:
    response = getattr(error, "response", None)
    if response is None:
        return type(error).__name__
    try:
        code = response.get("error")
    except Exception:  # a body that is not JSON
        code = None
    if isinstance(code, str) and code:
        return code[:60]
    return f"http_{getattr(response, 'status_code', 'unknown')}"


def reminders_sent(taken: Iterable[tuple[int, str]]) -> None:
    """Count what `bot.act.sla.timers.check` did, leaving out what is not a reminder (a snooze ending, a claim
    expiring)."""
    for _mention, step in taken:
        if step not in ("awake", "expired"):
            sla_reminders.labels(step).inc()


class OutboxCollector(Collector):
    """The outbox as it stands, in one query when scraped; a database that does not answer never fails
    the scrape, it shows as `allears_database_up 0`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> list[Metric]:
        return []  # keeps the registry from collecting (and querying) when this is registered

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("allears_database_up", "1 when the database answered this scrape's query.")
        rows = GaugeMetricFamily("allears_outbox_rows", "Outbox rows not yet sent, by status.", labels=["status"])
        pending = GaugeMetricFamily(
            "allears_outbox_pending", "Outbox rows waiting to be delivered (pending or sending)."
        )
        oldest = GaugeMetricFamily(
            "allears_outbox_oldest_pending_seconds", "Age of the oldest row waiting to be delivered; 0 when none."
        )
        try:
            counts = self._read()
        except Exception as error:
            log.warning("metrics: the database did not answer: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        now = utcnow()
        waiting = 0
        first = None
        for status in (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED):
            count, created = counts.get(status.value, (0, None))
            rows.add_metric([status.value], count)
            if status != OutboxStatus.FAILED:
                waiting += count
                if created is not None and (first is None or created < first):
                    first = created
        pending.add_metric([], waiting)
        oldest.add_metric([], max(0.0, (now - first).total_seconds()) if first else 0.0)
        yield from (up, rows, pending, oldest)

    def _read(self) -> dict[str, tuple[int, datetime | None]]:
        unsent = [OutboxStatus.PENDING.value, OutboxStatus.SENDING.value, OutboxStatus.FAILED.value]
        with read_scope(self.engine) as session:
            if self.engine.dialect.name == "postgresql":  # a slow database must not hold the scrape
                session.execute(text(f"SET LOCAL statement_timeout = {_QUERY_TIMEOUT_MS}"))
            statement = (
                select(col(Outbox.status), func.count(), func.min(col(Outbox.created_at)))
                .where(col(Outbox.status).in_(unsent))
                .group_by(col(Outbox.status))
            )
            return {status: (count, created) for status, count, created in session.exec(statement)}


_outbox: list[OutboxCollector] = []


def watch_outbox(engine: Engine) -> None:
    """Report the outbox of `engine` on every scrape (the latest engine given, when called again)."""
    if _outbox:
        _outbox[0].engine = engine
        return
    collector = OutboxCollector(engine)
    REGISTRY.register(collector)
    _outbox.append(collector)


def serve_metrics(engine: Engine, port: int) -> None:
    """GET /metrics on `port` from a thread of its own: for `allears worker`, which serves no other HTTP."""
    watch_outbox(engine)
    start_http_server(port)
    log.info("metrics on http://0.0.0.0:%d/metrics", port)


def exposition() -> bytes:
    return generate_latest(REGISTRY)
