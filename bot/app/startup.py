"""Starting the bot's processes: the settings, config and database a command needs, the outbox pump and the
scheduler behind it, and the HTTP server in front, shared by the `allears` command and `allears demo`."""

import gc
import logging
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import httpx
import waitress
from sqlalchemy import Engine

from bot.act.source_replies import SourceReplies
from bot.act.trackers.outbox_calls import TrackerCalls
from bot.act.trackers.registry import TrackerSet
from bot.app.scheduler import build_scheduler
from bot.app.web import create_web_app
from bot.ground import migrate, outbox
from bot.ground.config import Config, load_config
from bot.ground.db import make_engine, session_scope
from bot.ground.errors import ConfigError
from bot.ground.leader import LeaderScheduler, hold_single_process_lock
from bot.ground.settings import Settings, load_settings, require_database_file
from bot.ground.webhooks import sync_receivers
from bot.hear.triage import triage
from bot.remember.webhooks import WebhookDeliverer
from bot.slack.client import slack_client
from bot.slack.delivery import Deliverer, OutboxPump
from bot.slack.summary_post import SummaryPoster
from handlers.app import WORK_THREADS, create_app, deps_for

log = logging.getLogger("allears")
HTTP_THREADS = 16
ACK_SWITCH_INTERVAL = 0.001
"""Seconds a thread keeps the GIL while another waits for it. At Python's 5 ms, a claim's work still running when
the next request arrived held that request's ack back as long; 1 ms bounds the wait (bench/RESULTS.md, 2026-12-05)."""
MAX_REQUEST_BYTES = 1024 * 1024  # Slack's payloads are far smaller; waitress would otherwise spool a gigabyte


@dataclass
class Setup:
    settings: Settings
    config: Config
    engine: Engine
    http: httpx.Client
    """For the sources: polling them and replying on them."""
    process_lock: IO[bytes] | None = None
    """On SQLite, held by `run`, `serve` and `worker` for as long as they run: one such process only."""

    @property
    def replies(self) -> SourceReplies:
        return SourceReplies(self.config.sources, self.http)

    @property
    def trackers(self) -> TrackerSet:
        return TrackerSet(self.config.trackers, self.http)


def set_up(
    *,
    slack: bool,
    upgrade: bool = False,
    signing_secret: bool = True,
    stays: bool = False,
    settings: Settings | None = None,
) -> Setup:
    """`stays`: a process that runs until stopped, which SQLite allows only one of. `settings`: instead of the
    environment's (`allears demo` brings its own)."""
    settings = settings or load_settings()
    config = load_config(settings.allears_config)
    if slack:
        settings.require_slack(signing_secret=signing_secret)
    if not upgrade:
        require_database_file(settings.database_url)
    process_lock = hold_single_process_lock(settings.database_url) if stays else None
    engine = make_engine(settings.database_url)
    if upgrade:
        migrate.upgrade(engine)
    elif not migrate.is_current(engine):
        raise ConfigError("the database schema is not up to date; run `allears db upgrade` first")
    if process_lock:
        with session_scope(engine) as session:
            if released := outbox.release_abandoned(session):
                log.info("%d message(s) were mid-send when the last process stopped: sending them now", released)
    return Setup(settings, config, engine, httpx.Client(), process_lock)


def deliverer(setup: Setup) -> Deliverer:
    return Deliverer(
        setup.engine,
        slack_client(setup.settings),
        post_interval=setup.settings.slack_post_interval,
        replies=setup.replies,
        trackers=TrackerCalls(setup.engine, setup.trackers),
    )


@dataclass(frozen=True)
class Pumps:
    """The outbox's two pumps: Slack's, and the outbound webhooks' (a receiver that hangs never holds up Slack)."""

    slack: OutboxPump
    webhooks: OutboxPump

    def kick(self) -> None:
        self.slack.kick()
        self.webhooks.kick()


@contextmanager
def background(setup: Setup, *, scheduler: bool) -> Iterator[Pumps]:
    """The outbox pumps, and the polling scheduler when asked, for as long as the block runs."""
    with session_scope(setup.engine) as session:  # before anything is queued: who hears of what
        sync_receivers(session, setup.config.webhooks)
    hooks = WebhookDeliverer(setup.engine, setup.http, setup.config.webhooks)
    pump = Pumps(OutboxPump(deliverer(setup)), OutboxPump(hooks, name="webhooks"))
    pump.slack.start()
    pump.webhooks.start()
    poster = SummaryPoster(setup.engine, setup.config, slack_client(setup.settings))
    jobs = (  # on PostgreSQL, only while this process leads the others
        LeaderScheduler(
            setup.engine,
            lambda: build_scheduler(
                setup.engine, setup.config, http=setup.http, on_new_mentions=pump.kick, post_summary=poster.post_due
            ),
        )
        if scheduler
        else None
    )
    if jobs:
        jobs.start()
    try:
        yield pump
    finally:
        if jobs:
            jobs.shutdown(wait=True)
        pump.slack.stop()
        pump.webhooks.stop()
        setup.http.close()


def settle_heap() -> None:
    """Load now what the first mention would load, then freeze all the process holds: run once, as a serving
    process or the worker starts.

    Each full pass of the cyclic garbage collector stops every thread while it walks every tracked object: with
    the app's modules and triage's lexicons loaded that is over 100,000 objects (230,000 and 100–270 ms on the
    shared 2-core box while triage still imported nltk, scipy and sklearn), and every ack caught behind it waited
    as long (the p99 at 100 requests/s). The
    collector skips frozen objects. They are still freed when their last reference goes; only a cycle among them
    is never collected, which for what lives as long as the process (modules, the app, the lexicons) is moot."""
    triage("")
    gc.collect()
    gc.freeze()


def serve_http(setup: Setup, pump: Pumps, *, host: str = "0.0.0.0") -> None:
    """Serve until stopped; work already acknowledged to Slack is finished before returning."""
    with ThreadPoolExecutor(max_workers=WORK_THREADS, thread_name_prefix="work") as work:
        deps = deps_for(
            setup.settings, engine=setup.engine, config=setup.config, notify=pump.kick, work=work, http=setup.http
        )
        bolt = create_app(setup.settings, deps)
        assert setup.settings.slack_signing_secret  # required by _setup for the commands that serve HTTP
        web = create_web_app(
            bolt,
            setup.engine,
            signing_secret=setup.settings.slack_signing_secret,
            listener=deps.listener,
            webhook_secret=setup.settings.allears_webhook_secret,
            notify=pump.kick,
            api_tokens=setup.config.api.tokens if setup.config.api else None,
            trackers=setup.config.trackers,
        )
        socket = None
        if setup.settings.slack_app_token:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            socket = SocketModeHandler(bolt, setup.settings.slack_app_token)
            socket.connect()
            log.info("connected to Slack over Socket Mode")
        # Beside the first requests rather than before them: readiness does not wait for the imports.
        threading.Thread(target=settle_heap, name="settle-heap", daemon=True).start()
        sys.setswitchinterval(ACK_SWITCH_INTERVAL)
        log.info(
            "listening on http://%s:%d (POST /slack/events, POST /hooks/mentions, POST /hooks/github, "
            "POST /hooks/jira, POST /hooks/linear, GET /healthz, GET /metrics%s)",
            host,
            setup.settings.port,
            ", GET /api/v1/mentions" if setup.config.api else "",
        )
        try:
            waitress.serve(
                web,
                host=host,
                port=setup.settings.port,
                threads=HTTP_THREADS,
                ident="allears",
                max_request_body_size=MAX_REQUEST_BYTES,
            )
        finally:
            if socket:  # stop taking envelopes before the work pool closes
                socket.close()
