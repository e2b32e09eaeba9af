"""Background jobs: each source polled on its own interval, first at start-up."""

import logging
from collections.abc import Callable
from datetime import timedelta

import httpx
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, delete

from bot.clock import utcnow
from bot.config import Config
from bot.db import session_scope
from bot.models import SeenRequest
from bot.polling import Listener, poll
from bot.sources.kinds import SourceConfig

log = logging.getLogger(__name__)
REMEMBER_REQUESTS = timedelta(days=30)


def build_scheduler(
    engine: Engine, config: Config, *, http: httpx.Client, on_new_mentions: Callable[[], None]
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    )
    listener = Listener(config)

    def poll_job(source: SourceConfig) -> None:
        """Owns its session and never raises: one broken source must not stop the scheduler."""
        try:
            report = poll(engine, http, listener, source)
        except Exception:
            log.exception("polling %s failed unexpectedly", source.key)
            return
        if report.new:
            on_new_mentions()

    scheduler.add_job(
        _forget_old_requests, "interval", args=[engine], hours=1, next_run_time=utcnow(), id="forget-requests"
    )
    for source in config.sources:
        scheduler.add_job(
            poll_job,
            "interval",
            args=[source],
            seconds=source.every.total_seconds(),
            next_run_time=utcnow(),
            id=f"poll:{source.key}",
            name=f"poll {source.key}",
        )
    return scheduler


def _forget_old_requests(engine: Engine) -> None:
    """Webhook signatures are kept to refuse replays; a replay older than this is stale anyway."""
    try:
        with session_scope(engine) as session:
            session.execute(delete(SeenRequest).where(SeenRequest.seen_at < utcnow() - REMEMBER_REQUESTS))
    except Exception:
        log.exception("forgetting old webhook signatures failed; trying again in an hour")
