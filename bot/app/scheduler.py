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
from bot.act.sla.verdicts import record_verdicts
from bot.act.trackers import Tracker
from bot.act.trackers.registry import TrackerSet
from bot.act.trackers.watch import check_issues
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
REMEMBER_REQUESTS_CHECK = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
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

    def every(
        interval: timedelta, key: str, run: Callable[..., None], name: str, *args: object, job_id: str = ""
    ) -> None:
        """Run `run(*args)` every `interval`, first at start-up; each run's log lines carry `key:<run id>`."""
        scheduler.add_job(
            job(key, run),
            "interval",
            args=list(args),
            seconds=interval.total_seconds(),
            next_run_time=utcnow(),
            id=job_id or key,
            name=name,
        )

    every(REMEMBER_REQUESTS_CHECK, "forget-requests", _forget_old_requests, "forget old webhook signatures", engine)
    if config.sla.enabled:
        every(config.sla.check_every, "sla", _check_sla, "SLA reminders", engine, config, on_new_mentions)
    # Whether or not anyone is reminded, the summary counts the shares within SLA: from these records, mostly.
    every(MINUTE, "sla-verdicts", _record_verdicts, "SLA verdicts of resolved mentions", engine, config)
    if post_summary is not None and config.summary.enabled:
        every(MINUTE, "summary", post_summary, "weekly summary", job_id="weekly-summary")
    if config.spikes.enabled:
        every(config.spikes.every, "spikes", _check_spikes, "spikes against the usual", engine, config, on_new_mentions)
    every(MINUTE, "learn", _learn, "relevance model learns the team's labels", engine)
    if config.relevance.mute:
        every(MINUTE, "digest", _make_digests, "daily digest of muted mentions", engine, config, on_new_mentions)
    if config.llm is not None and config.relevance.mute:
        unsure = "the LLM's word on mentions the relevance model is unsure of"
        every(CHECK_UNSURE_EVERY, "llm", _check_unsure, unsure, engine, http, config, on_new_mentions)
    for source in config.sources:
        every(source.every, f"poll:{source.key}", poll_job, f"poll {source.key}", source)
    trackers = TrackerSet(config.trackers, http)
    for name, settings in config.trackers.configured.items():
        watching = f"linked {name} issues: shipped, reopened, closed"
        every(
            settings.every, f"tracker:{name}", _check_tracker, watching, engine, trackers.named(name), on_new_mentions
        )
    return scheduler


def _check_tracker(engine: Engine, tracker: Tracker, deliver: Callable[[], None]) -> None:
    """Never raises: an issue not read now is read at the next check."""
    try:
        changed = check_issues(engine, tracker)
    except Exception:
        log.exception("checking the %s issues failed unexpectedly; trying again at the next check", tracker.name)
        return
    if changed:
        log.info("tracker %s: %d linked issue(s) changed", tracker.name, changed)
    deliver()  # a refused token is told in a thread too


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


def _record_verdicts(engine: Engine, config: Config) -> None:
    """Never raises: what is not recorded now is recorded at the next run, and summaries replay it meanwhile."""
    try:
        recorded = record_verdicts(engine, config.sla)
    except Exception:
        log.exception("recording SLA verdicts failed; trying again in a minute")
        return
    if recorded:
        log.info("SLA: recorded the verdicts of %d resolved mention(s)", recorded)


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
