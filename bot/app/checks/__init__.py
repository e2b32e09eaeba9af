"""`allears check`: what is wrong with an installation, each problem named with its fix, instead of silence."""

import httpx

from bot.app.checks import local, sources, trackers
from bot.ground.checklist import Report, guarded, render
from bot.ground.config import Config
from bot.slack import checks as slack

__all__ = ["Report", "check_installation", "render"]


def check_installation() -> Report:
    """Every check in order: the environment, the config, Slack, the sources, the trackers, the database, the
    webhook, the API, triage."""
    report = Report()
    settings, results = local.read_settings()
    report.results += results
    if settings is None:  # the config is read all the same; what follows it needs the environment right
        report.unreadable = True
        if path := local.config_path():
            report.results += local.read_config(path)[1]
        return report
    config: Config | None
    config, results = local.read_config(settings.allears_config)
    report.results += results
    report.unreadable = config is None
    report.results += guarded("Slack", lambda: slack.check_slack(settings, config))
    if config is not None and config.sources:
        with httpx.Client() as http:
            report.results += guarded("sources", lambda: sources.check_sources(config.sources, http))
    if config is not None and config.trackers.configured:
        with httpx.Client() as http:
            report.results += guarded("trackers", lambda: trackers.check_trackers(config.trackers, http))
    report.results += guarded("database", lambda: local.check_database(settings.database_url))
    report.results += local.check_webhook(settings.allears_webhook_secret)
    if config is not None:
        report.results += local.check_read_api(config.api)
    report.results += local.check_triage()
    return report
