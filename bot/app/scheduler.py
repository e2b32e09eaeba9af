"""Background jobs: each source polled on its own interval, first at start-up."""

import logging
from collections.abc import Callable
from datetime import timedelta

import httpx
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, delete
from sqlmodel import col

from bot.act import learning
from bot.act.sla import timers
from bot.ground.clock import utcnow
from bot.ground.config import Config
from bot.ground.config_sources import SourceConfig
from bot.ground.db import session_scope
from bot.ground.logs import job
from bot.ground.models import SeenRequest
from bot.hear import digests, llm
from bot.hear.polling import Listener, poll
from bot.hear.spike_watch import check_spikes

log = logging.getLogger(__name__)
REMEMBER_REQUESTS = timedelta(days=30)
CHECK_UNSURE_EVERY = timedelta(seconds=5)
"""How soon an unsure mention is asked about: its card waits for the answer."""


def build_scheduler(
    engine: Engine,
    config: Config,
    *,
    http: httpx.Client,
    on_new_mentions: Callable[[], None],
    post_summary: Callable[[], None] | None = None,
) -> BackgroundScheduler:
    """`post_summary` posts the weekly summary when it is due (and never raises); checked every minute
    and at start, so a restart or a second process changes nothing: the database decides who posts."""
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
    if config.sla.enabled:
        scheduler.add_job(
            job("sla", _check_sla),
            "interval",
            args=[engine, config, on_new_mentions],
            seconds=config.sla.check_every.total_seconds(),
            next_run_time=utcnow(),
            id="sla",
            name="SLA reminders",
        )
    if post_summary is not None and config.summary.enabled:
        scheduler.add_job(
            job("summary", post_summary),
            "interval",
            minutes=1,
            next_run_time=utcnow(),
            id="weekly-summary",
            name="weekly summary",
        )
    if config.spikes.enabled:
        scheduler.add_job(
            job("spikes", _check_spikes),
            "interval",
            args=[engine, config, on_new_mentions],
            seconds=config.spikes.every.total_seconds(),
            next_run_time=utcnow(),
            id="spikes",
            name="spikes against the usual",
        )
    scheduler.add_job(
        job("learn", _learn),
        "interval",
        args=[engine],
        minutes=1,
        next_run_time=utcnow(),
        id="learn",
        name="relevance model learns the team's labels",
    )
    if config.relevance.mute:
        scheduler.add_job(
            job("digest", _make_digests),
            "interval",
            args=[engine, config, on_new_mentions],
            minutes=1,
            next_run_time=utcnow(),
            id="digest",
            name="daily digest of muted mentions",
        )
    if config.llm is not None and config.relevance.mute:
        scheduler.add_job(
            job("llm", _check_unsure),
            "interval",
            args=[engine, http, config, on_new_mentions],
            seconds=CHECK_UNSURE_EVERY.total_seconds(),
            next_run_time=utcnow(),
            id="llm",
            name="the LLM's word on mentions the relevance model is unsure of",
        )
    for source in config.sources:
        scheduler.add_job(
            job(f"poll:{source.key}", poll_job),  # each run's log lines carry `poll:<source>:<id>`
            "interval",
            args=[source],
            seconds=source.every.total_seconds(),
            next_run_time=utcnow(),
            id=f"poll:{source.key}",
            name=f"poll {source.key}",
        )
    return scheduler


def _check_sla(engine: Engine, config: Config, deliver: Callable[[], None]) -> None:
    """Never raises: a failed check is simply made again at the next interval."""
    try:
        taken = timers.check(engine, config)
    except Exception:
        log.exception("the SLA check failed; trying again at the next one")
        return
    if taken:
        log.info("SLA: %s", ", ".join(f"M-{mention_id} {what}" for mention_id, what in taken))
        deliver()


def _check_spikes(engine: Engine, config: Config, deliver: Callable[[], None]) -> None:
    """Never raises: a check that failed is made again at the next interval, against the hour as it is then."""
    try:
        done = check_spikes(engine, config)
    except Exception:
        log.exception("the spike check failed; trying again at the next one")
        return
    if done:
        log.info("spikes: %s", ", ".join(f"{scope or 'all mentions'} {step}" for scope, step in done))
        deliver()


def _learn(engine: Engine) -> None:
    """Never raises: labels not learned now are learned at the next run."""
    try:
        learned = learning.learn(engine)
    except Exception:
        log.exception("the relevance model could not learn; trying again in a minute")
        return
    if learned.relearned:
        log.warning("the stored relevance model could not be read (another scikit-learn?): learned again")
    if learned.labels:
        log.info("relevance model: learned %d label(s)", learned.labels)


def _make_digests(engine: Engine, config: Config, deliver: Callable[[], None]) -> None:
    """Never raises: a digest not made now is made at the next run (the database keeps it to one a day)."""
    try:
        made = digests.make_digests(engine, config.relevance)
    except Exception:
        log.exception("the digest of muted mentions could not be made; trying again in a minute")
        return
    if made:
        log.info("digest: %s", ", ".join(f"{m.muted} muted in {m.channel}" for m in made))
        deliver()


def _check_unsure(engine: Engine, http: httpx.Client, config: Config, deliver: Callable[[], None]) -> None:
    """Never raises: what is not asked now is asked at the next run."""
    try:
        checked = llm.check_unsure(engine, http, config)
    except Exception:
        log.exception("asking the LLM failed unexpectedly; trying again shortly")
        return
    if checked.relevant or checked.not_relevant or checked.unanswered:
        log.info("LLM: %s", checked)
        deliver()


def _forget_old_requests(engine: Engine) -> None:
    """Webhook signatures are kept to refuse replays; a replay older than this is stale anyway."""
    try:
        with session_scope(engine) as session:
            session.execute(delete(SeenRequest).where(col(SeenRequest.seen_at) < utcnow() - REMEMBER_REQUESTS))
    except Exception:
        log.exception("forgetting old webhook signatures failed; trying again in an hour")
