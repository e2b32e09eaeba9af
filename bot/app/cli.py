"""The `allears` command: run the bot, serve HTTP, run the scheduler, migrate, poll, summarize.

Each command imports what only it needs when it runs: `allears db upgrade` and `allears export`, a deploy's
release step and a cron job, load half the modules a process that serves Slack does."""

import argparse
import logging
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from bot.ground import logs, migrate
from bot.ground.clock import utcnow
from bot.ground.config import by_name, load_config
from bot.ground.db import make_engine
from bot.ground.errors import ConfigError, UserError
from bot.ground.query import QuerySyntaxError, parse_listening
from bot.ground.settings import Settings, load_settings, require_database_file
from bot.remember.export import ExportFormat, export, parse_moment

log = logging.getLogger("allears")


def _check_config_if_present(settings: Settings) -> None:
    """`db upgrade` and `export` need no config and run where there is none; one that is there is checked first,
    so its mistakes are named before the database is touched (a deploy's release step stops on them)."""
    if settings.allears_config.exists():
        load_config(settings.allears_config)


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app.startup import background, serve_http, set_up

    setup = set_up(slack=True, upgrade=True, stays=True)
    with background(setup, scheduler=True) as pump:
        serve_http(setup, pump)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.app.demo.run import run_demo  # only here: the demo brings a stand-in Slack and sample data

    return run_demo(port=args.port, browser=not args.no_browser)


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.app.startup import background, serve_http, set_up

    setup = set_up(slack=True, stays=True)
    with background(setup, scheduler=False) as pump:
        serve_http(setup, pump)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from bot.app.startup import background, set_up, settle_heap
    from bot.ground import prometheus

    setup = set_up(slack=True, signing_secret=False, stays=True)
    if setup.settings.metrics_port:  # the worker serves no HTTP otherwise
        prometheus.serve_metrics(setup.engine, setup.settings.metrics_port)
    # As the serving processes do, but before its jobs start (it has no acks to answer first): the worker posts the
    # weekly summary, and unsettled, the first full collection walked every module's objects in the middle of it
    # (75-106 ms of a busy week's, bench/RESULTS.md 2026-12-08).
    settle_heap()
    with background(setup, scheduler=True):
        log.info("worker running %d source(s)", len(setup.config.sources))
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            log.info("stopping")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Reads what it can even when the config is broken, so every problem is named at once."""
    from bot.app.checks import check_installation, render

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
    from bot.app.startup import deliverer, set_up
    from bot.hear.polling import Listener, poll

    setup = set_up(slack=False)
    listener = Listener(setup.config)
    failed = False
    for source in setup.config.sources:
        report = poll(setup.engine, setup.http, listener, source, force=True)
        failed |= report.error is not None and report.fetched == 0
        status = f"error: {report.error}" if report.error else "ok"
        print(f"{source.key}: {report.fetched} item(s), {report.matched} matched, {report.new} new ({status})")
    if setup.settings.slack_bot_token:
        sent = deliverer(setup).deliver_due()
        print(f"posted {sent} message(s) to Slack")
    else:
        print("SLACK_BOT_TOKEN is not set: new cards wait in the outbox for `allears run` or `allears worker`")
    return 1 if failed else 0


def cmd_summary(args: argparse.Namespace) -> int:
    if args.again and not args.post:
        raise UserError("--again goes with --post")
    from bot.app.startup import set_up
    from bot.remember.chart import weekly_chart
    from bot.remember.summary import summary_text
    from bot.remember.summary_due import summarize
    from bot.remember.weeks import Week
    from bot.slack.client import slack_client
    from bot.slack.people import TeamDirectory
    from bot.slack.summary_post import SummaryPoster, post_by_hand

    setup = set_up(slack=args.post, signing_secret=False)
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
    require_database_file(settings.database_url)
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


def cmd_try(args: argparse.Namespace) -> int:
    """Needs no database and no Slack: only the sources' settings, and not even those with --file."""
    import httpx

    from bot.hear.matching import Facts, Matcher
    from bot.hear.trying import Unreachable, from_sources, from_texts, try_query

    try:
        matcher = Matcher(parse_listening(args.query))
    except QuerySyntaxError as error:
        raise UserError(f"query: {error}") from None
    if args.file:
        try:
            lines = args.file.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise UserError(f"cannot read {args.file}: {error.strerror}") from None
        heard: Iterable[tuple[str, Facts] | Unreachable] = from_texts(lines, name=args.file.name)
    else:
        config = load_config(load_settings().allears_config)
        sources = config.sources
        if args.source:
            named = {source.key: source for source in sources}
            sources = [by_name(named, args.source, what="source", add="[[sources]]")[1]]
        if not sources:
            raise UserError("there are no [[sources]] in the config to try the query on; try it on --file TEXTS")
        heard = from_sources(sources, httpx.Client())
    kept, seen = Counter[str](), Counter[str]()
    items: list[tuple[str, Facts]] = []
    for one in heard:
        if isinstance(one, Unreachable):
            print(f"{one.source}: could not be read ({one.error})", file=sys.stderr)
        else:
            items.append(one)
    sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    for tried in try_query(matcher, items):
        seen[tried.source] += 1
        if tried.kept or args.all:
            kept[tried.source] += tried.kept
            said = " ".join(tried.text.split())
            why = f"  (matched {', '.join(tried.why)})" if tried.kept else ""
            print(f"{'kept' if tried.kept else '    '}  {tried.source}: {said[:120]}{'…' * (len(said) > 120)}{why}")
    by_source = ", ".join(f"{source} {kept[source]} of {count}" for source, count in seen.items())
    print(f"{sum(kept.values())} of {sum(seen.values())} kept" + (f" ({by_source})" if len(seen) > 1 else ""))
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
    trying = commands.add_parser("try", help="what a query would keep of the sources' recent items, and why")
    trying.add_argument("query", help="""a query, as in [listen] query: 'acme OR "acme cloud" -hiring'""")
    trying.add_argument("--source", metavar="NAME", help="only this source (default: every source in the config)")
    trying.add_argument("--file", type=Path, metavar="TEXTS", help="a file of texts, one a line, instead of sources")
    trying.add_argument("--all", action="store_true", help="list what it would not keep too")
    trying.set_defaults(func=cmd_try)
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
