"""The figures at scale: a year of 1,000,000 mentions and about 5,000,000 events on PostgreSQL
(`bench/dataset.py`), then the time to build what people ask for, exactly as the bot builds it:

- the weekly summary of the last full week, the year's busiest (`bot.remember.summary_due.summarize`, with the example
  config's `[sla]`), and of a week half a year back (whose backlog reads which of the year's mentions were open then),
- `/allears stats` (the same for this week so far),
- the Home tab's data (what `handlers.home.HomeTabs` reads: the week's numbers, `bot.remember.counting.week_so_far`,
  and the viewer's queues),
- `/allears queue` and `/allears sources`,
- the SLA check the leader runs every minute (`bot.act.sla.timers.due`), over the year's open mentions.

Before timing, the resolved mentions' SLA verdicts are recorded, as the bot records them after the upgrade that
adds them (`bot.act.sla.verdicts`; a database loaded or migrated earlier has none), and the summary counts them.

Each is timed cold (first call on new connections, nothing compiled or planned yet in this process, whose heap
is settled first as the bot's processes settle theirs as they start; the server's and the OS's caches hold
whatever they hold) and warm (median of `--repeat` further calls),
with its statement count. Goal (issue 5): under 2 s each; the weekly summary (issue 17): under 1 s; the SLA
check, ours: under 15 s.

    .venv/bin/python bench/summary_scale.py                       # a new database, loaded, dropped at the end
    .venv/bin/python bench/summary_scale.py --keep                # keep it, printing its URL …
    .venv/bin/python bench/summary_scale.py --url postgresql+psycopg://postgres@127.0.0.1:5432/NAME
                                                                  # … and time it again (migrated to head first)
    .venv/bin/python bench/summary_scale.py --url … --statements  # also the slowest statements of each
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dataset import counts, link_issues, load  # noqa: E402
from bot.act.queues import queues_for  # noqa: E402
from bot.act.sla.timers import due  # noqa: E402
from bot.act.sla.verdicts import record_verdicts  # noqa: E402
from bot.app.startup import settle_heap  # noqa: E402
from bot.ground import migrate  # noqa: E402
from bot.ground.config import load_config  # noqa: E402
from bot.ground.db import make_engine, read_scope  # noqa: E402
from bot.ground.mentions import count_open, open_mentions  # noqa: E402
from bot.hear.health import source_health  # noqa: E402
from bot.remember.counting import week_so_far  # noqa: E402
from bot.remember.summary_due import summarize  # noqa: E402
from bot.remember.weeks import Week  # noqa: E402
from bot.slack.home import ROWS  # noqa: E402
from tests.databases import POSTGRES_ADMIN_URL, new_postgres_database  # noqa: E402

CONFIG = load_config(ROOT / "allears.example.toml")
NOW = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
"""A Friday afternoon: this week has four and a half busy days in it."""
VIEWER = "U0001"
CHANNELS = frozenset({"C0LISTEN", "C0URGENT", "C0BILLING"})
GOAL = 2.0
SUMMARY_GOAL = 1.0
SLA_CHECK_GOAL = 15.0
"""Ours, not the issue's: the check runs every minute on the leader, so it must leave most of the minute free."""


class Statements:
    """Counts and times every statement an engine runs, to see which ones cost."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[tuple[float, str]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        connection.info["started"] = time.perf_counter()

    def _after(self, connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append((time.perf_counter() - connection.info.pop("started"), statement))


def weekly_summary(engine: Engine) -> object:
    week = Week.containing(NOW, CONFIG.summary.timezone).previous
    return summarize(engine, CONFIG, week, team_of=lambda person: None, now=NOW)


def past_summary(engine: Engine) -> object:
    """A week long past: its backlog asks which of the year's mentions were open then."""
    week = Week.containing(NOW - timedelta(weeks=26), CONFIG.summary.timezone)
    return summarize(engine, CONFIG, week, team_of=lambda person: None, now=NOW)


def stats(engine: Engine) -> object:
    week = Week.containing(NOW, CONFIG.summary.timezone)
    return summarize(engine, CONFIG, week, team_of=lambda person: None, now=NOW)


def home(engine: Engine) -> object:
    """What `HomeTabs.publish` reads when its shared numbers are older than `NUMBERS_FOR` (else the queues only)."""
    with read_scope(engine) as session:
        queues = queues_for(session, user_id=VIEWER, channels=CHANNELS, limit=ROWS)
        return queues, week_so_far(session, Week.containing(NOW, CONFIG.summary.timezone), now=NOW)


def queue(engine: Engine) -> object:
    with read_scope(engine) as session:
        return (
            open_mentions(session, owner_id=VIEWER, limit=15),
            open_mentions(session, owner_id=None, limit=15),
            count_open(session, owner_id=VIEWER),
            count_open(session, owner_id=None),
        )


def sources(engine: Engine) -> object:
    with read_scope(engine) as session:
        return source_health(session, CONFIG.sources)


def sla_check(engine: Engine) -> object:
    """What the leader asks every minute: which open mentions need a reminder now (67,000 open here)."""
    return due(engine, CONFIG, now=NOW)


TIMED: list[tuple[str, Callable[[Engine], object], float]] = [
    ("weekly summary (last full week, the busiest)", weekly_summary, SUMMARY_GOAL),
    ("weekly summary (half a year back, 2026-W23)", past_summary, SUMMARY_GOAL),
    ("/allears stats (this week so far)", stats, GOAL),
    ("Home tab data (numbers + queues)", home, GOAL),
    ("/allears queue", queue, GOAL),
    ("/allears sources", sources, GOAL),
    ("SLA check (what is due, every minute)", sla_check, SLA_CHECK_GOAL),
]


@contextmanager
def database(url: str | None, keep: bool) -> Iterator[tuple[str, bool]]:
    """(its URL, whether it must be loaded): the one given, a new one kept afterwards, or a new one dropped."""
    if url:
        yield url, False
    elif keep:
        name = f"allears_scale_{int(time.time())}"
        admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", True
    else:
        with new_postgres_database("allears_scale") as fresh:
            yield fresh, True


def measure(url: str, repeat: int, show_statements: bool) -> None:
    engine = make_engine(url)
    statements = Statements(engine)
    print("| what | cold | warm (median) | statements | goal |")
    print("|---|---|---|---|---|")
    slowest: dict[str, list[tuple[float, str]]] = {}
    for name, run, goal in TIMED:
        times = []
        for attempt in range(1 + repeat):
            statements.seen.clear()
            started = time.perf_counter()
            run(engine)
            times.append(time.perf_counter() - started)
            if attempt == 0:
                ran = len(statements.seen)
                slowest[name] = sorted(statements.seen, reverse=True)[:5]
        cold, warm = times[0], statistics.median(times[1:]) if repeat else times[0]
        met = f"< {goal:g} s: " + ("met" if max(cold, warm) < goal else "**not met**")
        print(f"| {name} | {cold * 1000:,.0f} ms | {warm * 1000:,.0f} ms | {ran} | {met} |")
    if show_statements:
        for name, seen in slowest.items():
            print(f"\n{name}, slowest statements (cold):")
            for seconds, statement in seen:
                print(f"  {seconds * 1000:8.1f} ms  {' '.join(statement.split())[:300]}")
    engine.dispose()


def record_all_verdicts(engine: Engine) -> None:
    """Record every resolved mention's SLA verdicts, as the bot's job does in its first hours after the upgrade
    (`bot.act.sla.verdicts`), then VACUUM, as autovacuum would have by then: the summary counts the records."""
    started, recorded = time.perf_counter(), 0
    while taken := record_verdicts(engine, CONFIG.sla):
        recorded += taken
    if not recorded:
        return
    print(f"recorded the SLA verdicts of {recorded:,} resolved mentions in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE mention"))
    print(f"  vacuum analyze: {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--url", help="an existing database loaded by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="keep the new database (its URL is printed)")
    parser.add_argument("--repeat", type=int, default=3, help="warm calls after the cold one")
    parser.add_argument("--statements", action="store_true", help="print each one's slowest statements")
    args = parser.parse_args()
    with database(args.url, args.keep) as (url, fresh):
        engine = make_engine(url)
        migrate.upgrade(engine)
        if fresh:
            print(f"loading {args.mentions:,} mentions into {url.rsplit('/', 1)[1]} (now = {NOW:%Y-%m-%d %H:%M} UTC):")
            started = time.perf_counter()
            load(engine, mentions=args.mentions, now=NOW)
            print(f"  loaded in {time.perf_counter() - started:.0f} s")
        link_issues(engine, now=NOW)  # a database loaded before the product loop was in the year
        record_all_verdicts(engine)
        print(", ".join(f"{table} {count:,}" for table, count in counts(engine).items()))
        with engine.connect() as connection:
            size = connection.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
        print(f"database size {size}\n")
        engine.dispose()
        # As `allears run`, `serve` and `worker` do as they start: unsettled, the first call caught this process's
        # first full collection, 75-106 ms walking its modules' 100,000 objects, which a running bot does not pay.
        settle_heap()
        measure(url, args.repeat, args.statements)
        if args.keep:
            print(f"\nkept: --url {url}")


if __name__ == "__main__":
    main()
