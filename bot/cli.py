"""The `allears` command: run the bot, serve HTTP, run the scheduler, migrate, poll, summarize."""

import argparse
import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import waitress
from sqlalchemy import Engine

from bot import logs, migrate, outbox, telemetry
from bot.chart import weekly_chart
from bot.checks import check_installation, render
from bot.clock import utcnow
from bot.config import Config, load_config
from bot.db import make_engine, session_scope
from bot.errors import ConfigError, UserError
from bot.export import ExportFormat, export, parse_moment
from bot.leader import LeaderScheduler, hold_single_process_lock
from bot.polling import Listener, poll
from bot.scheduler import build_scheduler
from bot.settings import CREATE_DATABASE, Settings, load_settings, missing_sqlite_file
from bot.slack.client import slack_client
from bot.slack.delivery import Deliverer, OutboxPump
from bot.slack.people import TeamDirectory
from bot.slack.weekly import SummaryPoster, post_by_hand
from bot.sources.replying import SourceReplies
from bot.summary import summary_text
from bot.triage import triage
from bot.web import create_web_app
from bot.weekly import summarize
from bot.weeks import Week
from handlers import Deps
from handlers.app import create_app
from handlers.home import HomeTabs

log = logging.getLogger("allears")
HTTP_THREADS = 16
WORK_THREADS = 16
ACK_SWITCH_INTERVAL = 0.001
"""Seconds a thread keeps the GIL while another waits for it. At Python's 5 ms, a claim's work still running when
the next request arrived held that request's ack back as long; 1 ms bounds the wait (bench/RESULTS.md, 2026-12-05)."""
MAX_REQUEST_BYTES = 1024 * 1024  # Slack's payloads are far smaller; waitress would otherwise spool a gigabyte


@dataclass
class _Setup:
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


def _setup(
    *,
    slack: bool,
    upgrade: bool = False,
    signing_secret: bool = True,
    stays: bool = False,
    settings: Settings | None = None,
) -> _Setup:
    """`stays`: a process that runs until stopped, which SQLite allows only one of. `settings`: instead of the
    environment's (`allears demo` brings its own)."""
    settings = settings or load_settings()
    config = load_config(settings.allears_config)
    if slack:
        settings.require_slack(signing_secret=signing_secret)
    if not upgrade:
        _require_database_file(settings.database_url)
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
    return _Setup(settings, config, engine, httpx.Client(), process_lock)


def _require_database_file(database_url: str) -> None:
    """A command that does not create the database refuses a SQLite file that is not there: opening it would
    leave an empty one behind, and the next command would blame its schema."""
    if missing := missing_sqlite_file(database_url):
        raise ConfigError(f"there is no database file at {missing} yet; {CREATE_DATABASE}")


def _check_config_if_present(settings: Settings) -> None:
    """`db upgrade` and `export` need no config and run where there is none; one that is there is checked first,
    so its mistakes are named before the database is touched (a deploy's release step stops on them)."""
    if settings.allears_config.exists():
        load_config(settings.allears_config)


def _deliverer(setup: _Setup) -> Deliverer:
    return Deliverer(
        setup.engine,
        slack_client(setup.settings),
        post_interval=setup.settings.slack_post_interval,
        replies=setup.replies,
    )


@contextmanager
def _background(setup: _Setup, *, scheduler: bool) -> Iterator[OutboxPump]:
    """The outbox pump, and the polling scheduler when asked, for as long as the block runs."""
    pump = OutboxPump(_deliverer(setup))
    pump.start()
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
        pump.stop()
        setup.http.close()


def settle_heap() -> None:
    """Load now what the first mention would load, then freeze all the process holds: run once, as serving starts.

    Each full pass of the cyclic garbage collector stops every thread while it walks every tracked object: with
    triage's TextBlob stack loaded (nltk, scipy, sklearn: some 1,300 modules) that is ~230,000 objects, 100–270 ms
    on the shared 2-core box, and every ack caught behind it waited as long (the p99 at 100 requests/s). The
    collector skips frozen objects. They are still freed when their last reference goes; only a cycle among them
    is never collected, which for what lives as long as the process (modules, the app, the lexicons) is moot."""
    triage("")
    gc.collect()
    gc.freeze()


def _serve_http(setup: _Setup, pump: OutboxPump, *, host: str = "0.0.0.0") -> None:
    """Serve until stopped; work already acknowledged to Slack is finished before returning."""
    with ThreadPoolExecutor(max_workers=WORK_THREADS, thread_name_prefix="work") as work:
        listener = Listener(setup.config)
        deps = Deps(
            engine=setup.engine,
            config=setup.config,
            notify=pump.kick,
            work=work,
            listener=listener,
            replies=setup.replies,
            homes=HomeTabs(setup.engine, setup.config),
        )
        bolt = create_app(setup.settings, deps)
        assert setup.settings.slack_signing_secret  # required by _setup for the commands that serve HTTP
        web = create_web_app(
            bolt,
            setup.engine,
            signing_secret=setup.settings.slack_signing_secret,
            listener=listener,
            webhook_secret=setup.settings.allears_webhook_secret,
            notify=pump.kick,
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
            "listening on http://%s:%d (POST /slack/events, POST /hooks/mentions, GET /healthz, GET /metrics)",
            host,
            setup.settings.port,
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


def cmd_run(args: argparse.Namespace) -> int:
    setup = _setup(slack=True, upgrade=True, stays=True)
    with _background(setup, scheduler=True) as pump:
        _serve_http(setup, pump)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo.run import run_demo  # only here: the demo brings a stand-in Slack and sample data

    return run_demo(port=args.port, browser=not args.no_browser)


def cmd_serve(args: argparse.Namespace) -> int:
    setup = _setup(slack=True, stays=True)
    with _background(setup, scheduler=False) as pump:
        _serve_http(setup, pump)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    setup = _setup(slack=True, signing_secret=False, stays=True)
    if setup.settings.metrics_port:  # the worker serves no HTTP otherwise
        telemetry.serve_metrics(setup.engine, setup.settings.metrics_port)
    with _background(setup, scheduler=True):
        log.info("worker running %d source(s)", len(setup.config.sources))
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            log.info("stopping")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Reads what it can even when the config is broken, so every problem is named at once."""
    logging.getLogger("slack_sdk").setLevel(logging.CRITICAL)  # its failures are lines of the checklist
    report = check_installation()
    sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    print(render(report))
    return report.exit_code


def cmd_db(args: argparse.Namespace) -> int:
    settings = load_settings()
    _check_config_if_present(settings)
    migrate.upgrade(make_engine(settings.database_url))
    print("database is up to date")
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    setup = _setup(slack=False)
    listener = Listener(setup.config)
    failed = False
    for source in setup.config.sources:
        report = poll(setup.engine, setup.http, listener, source, force=True)
        failed |= report.error is not None and report.fetched == 0
        status = f"error: {report.error}" if report.error else "ok"
        print(f"{source.key}: {report.fetched} item(s), {report.matched} matched, {report.new} new ({status})")
    if setup.settings.slack_bot_token:
        sent = _deliverer(setup).deliver_due()
        print(f"posted {sent} message(s) to Slack")
    else:
        print("SLACK_BOT_TOKEN is not set: new cards wait in the outbox for `allears run` or `allears worker`")
    return 1 if failed else 0


def cmd_summary(args: argparse.Namespace) -> int:
    if args.again and not args.post:
        raise UserError("--again goes with --post")
    setup = _setup(slack=args.post, signing_secret=False)
    zone = setup.config.summary.timezone
    week = Week.parse(args.week, zone) if args.week else Week.containing(utcnow(), zone)
    client = slack_client(setup.settings) if setup.settings.slack_bot_token else None
    if args.post:
        assert client is not None
        print(post_by_hand(SummaryPoster(setup.engine, setup.config, client), week, again=args.again))
        return 0
    figures = summarize(setup.engine, setup.config, week, team_of=TeamDirectory(setup.config.people, client))
    print(summary_text(figures))
    if args.chart:
        args.chart.write_bytes(weekly_chart(figures))
        print(f"(chart written to {args.chart})", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Needs only the database: it can run where neither the config nor the Slack tokens are."""
    settings = load_settings()
    _check_config_if_present(settings)
    _require_database_file(settings.database_url)
    engine = make_engine(settings.database_url)
    if not migrate.is_current(engine):
        raise ConfigError("the database schema is not up to date; run `allears db upgrade` first")
    since = parse_moment(args.since) if args.since else None
    until = parse_moment(args.until) if args.until else None
    kind = ExportFormat(args.format)
    if args.output is None:
        sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
        try:
            export(engine, sys.stdout, kind=kind, since=since, until=until)
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader stopped early (`| head`), which is fine; keep Python from complaining at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    try:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            count = export(engine, out, kind=kind, since=since, until=until)
    except OSError as error:
        raise UserError(f"cannot write {args.output}: {error.strerror}") from None
    print(f"exported {count} mention(s) to {args.output}", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="allears", description="All Ears: customer mentions, heard and answered in Slack."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    commands.add_parser("run", help="one process: Slack listener (Socket Mode or HTTP) and scheduler").set_defaults(
        func=cmd_run
    )
    demo = commands.add_parser("demo", help="try it without Slack: the real bot in a local demo workspace")
    demo.add_argument("--port", type=int, default=3000, help="where the demo page is served (default: 3000)")
    demo.add_argument("--no-browser", action="store_true", help="do not open the page in a browser")
    demo.set_defaults(func=cmd_demo)
    commands.add_parser("serve", help="HTTP only: Slack requests and /healthz on $PORT").set_defaults(func=cmd_serve)
    commands.add_parser("worker", help="scheduler only: poll sources and deliver to Slack").set_defaults(
        func=cmd_worker
    )
    commands.add_parser(
        "check", help="check the tokens, scopes, channels, user groups, sources, database and webhook"
    ).set_defaults(func=cmd_check)
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="action")
    db_commands.add_parser("upgrade", help="create or migrate the tables (Alembic)").set_defaults(func=cmd_db)
    poll_parser = commands.add_parser("poll", help="poll every source now")
    poll_parser.add_argument("--once", action="store_true", required=True, help="poll each source once and exit")
    poll_parser.set_defaults(func=cmd_poll)
    summary = commands.add_parser("summary", help="the weekly summary")
    summary.add_argument("--week", help="ISO week like 2026-W47, in [summary] timezone (default: this week so far)")
    mode = summary.add_mutually_exclusive_group()
    mode.add_argument("--print", action="store_true", help="print it (the default)")
    mode.add_argument("--post", action="store_true", help="post it and its chart to the summary channel, once a week")
    summary.add_argument("--again", action="store_true", help="with --post: post a week already posted once more")
    summary.add_argument("--chart", type=Path, metavar="FILE", help="with --print: also write the chart as a PNG")
    summary.set_defaults(func=cmd_summary)
    exporting = commands.add_parser("export", help="write mentions with their events and outcomes as CSV or JSONL")
    exporting.add_argument("--since", help="heard on or after this date or time, UTC: 2026-01-01 (default: all)")
    exporting.add_argument("--until", help="heard before this date or time, UTC (default: now)")
    exporting.add_argument("--format", choices=[f.value for f in ExportFormat], default=ExportFormat.CSV.value)
    exporting.add_argument("--output", metavar="FILE", help="write to FILE (default: standard output)")
    exporting.set_defaults(func=cmd_export)
    return parser


def _log_format() -> str:
    """LOG_FORMAT, read before anything else so every line has the same shape; a bad value is text here and
    is reported with the other settings' problems."""
    try:
        return Settings().log_format
    except Exception:
        return "text"


def main(argv: list[str] | None = None) -> int:
    logs.configure(_log_format())
    # A platform stops processes with SIGTERM: unwind like Ctrl-C so the outbox pump finishes its send.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # httpx logs every request with its full URL at INFO, and feed URLs can carry secret tokens.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, UserError) as error:
        print(f"allears: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
