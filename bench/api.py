"""The read API under load: pages of 100 mentions over a year of 1,000,000 (`bench/dataset.py`) on PostgreSQL,
asked by 20 clients at a paced 200 requests a second, from the real web process (`allears serve`, waitress).

Each client is a tool reading the API its own way: walks through everything from a random moment of the year,
this week's negative mentions (the data team's warehouse), the open ones, one source's, one owner's, one source's
positive ones, or single mentions with their events. A walk follows `next_cursor` and starts again at its end.
The clients run in a process of their own, so their parsing never shares the server's interpreter. Before the
load, each kind of page is EXPLAINed, to show the index it reads. Goal (issue 18): p99 under 100 ms.

    .venv/bin/python bench/api.py                          # a new database, loaded, dropped at the end
    .venv/bin/python bench/api.py --keep                   # keep it, printing its URL …
    .venv/bin/python bench/api.py --url postgresql+psycopg://postgres@127.0.0.1:5432/NAME
                                                           # … and load it again (migrated to head first)
    .venv/bin/python bench/api.py --url … --rate 200 --clients 20 --seconds 30
"""

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, event, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dataset import PEOPLE, SPAN_DAYS, counts, load  # noqa: E402
from bench.summary_scale import NOW, database  # noqa: E402
from bot.app.read_api import SHOWN_AS  # noqa: E402
from bot.app.standin.slack import FakeSlack  # noqa: E402
from bot.ground import migrate  # noqa: E402
from bot.ground.config_types import Sentiment  # noqa: E402
from bot.ground.db import make_engine  # noqa: E402
from bot.ground.models import MentionStatus  # noqa: E402
from bot.remember.mention_pages import MentionFilter  # noqa: E402
from bot.remember.page_json import JsonPages  # noqa: E402
from tests.botprocess import BotProcess, config_toml  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
GOAL_MS = 100.0
WEEK_AGO = (NOW - timedelta(days=7)).isoformat()

READERS: list[dict[str, str]] = [
    {},  # everything, from a random moment
    {},
    {},
    {},
    {},
    {},
    {"sentiment": "negative", "since": WEEK_AGO},  # the warehouse's pull of the week's complaints
    {"sentiment": "negative", "since": WEEK_AGO},
    {"sentiment": "negative", "since": WEEK_AGO},
    {"status": "open"},
    {"status": "open"},
    {"source": "github"},
    {"source": "g2-reviews"},
    {"owner": ""},  # a random person's, each walk
    {"owner": ""},
    {"source": "reddit", "sentiment": "positive"},
    {"status": "resolved", "sentiment": "neutral"},
    {"product": "Acme Cloud"},  # no mention of a product in this data: an empty answer, as fast as an index says
    {"ref": ""},  # one mention with its events
    {"ref": ""},
]
"""What each of the 20 clients asks (client k reads as READERS[k % 20])."""

EXPLAINED: list[tuple[str, MentionFilter]] = [
    ("everything, from the first", MentionFilter()),
    ("negative this week", MentionFilter(sentiment=Sentiment.NEGATIVE, since=NOW - timedelta(days=7))),
    ("open", MentionFilter(status=MentionStatus.OPEN)),
    ("one source", MentionFilter(source="github")),
    ("one owner", MentionFilter(owner="U0059")),
    ("one source's positive", MentionFilter(source="reddit", sentiment=Sentiment.POSITIVE)),
    ("a product with no mention", MentionFilter(product="Acme Cloud")),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def explain(engine: Engine) -> None:
    """The plan of each kind of page, from the statement the API runs (captured, then EXPLAINed)."""
    ran: list[tuple[str, Any]] = []

    def capture(connection: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        ran.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    pages = JsonPages(SHOWN_AS)
    print("| page of 100 | plan | actual time |")
    print("|---|---|---|")
    for name, kept in EXPLAINED:
        ran.clear()
        with engine.connect() as connection:
            pages.page(connection, kept, after=None, limit=100)
        statement, parameters = ran[-1]
        with engine.connect() as connection:
            plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar_one()
        print(f"| {name} | {_scans(plan[0]['Plan'])} | {plan[0]['Execution Time']:.2f} ms |")
    event.remove(engine, "before_cursor_execute", capture)


def _scans(node: dict[str, Any]) -> str:
    """The plan's scans, innermost last: `Index Scan using ix_… ` or a `Seq Scan` that would need an index."""
    here = node["Node Type"] + (f" using {node['Index Name']}" if "Index Name" in node else "")
    below = [_scans(child) for child in node.get("Plans", [])]
    return " → ".join([here, *below]) if node["Node Type"] not in ("Limit", "Gather") else " → ".join(below)


def drive(url: str, *, rate: float, clients: int, seconds: float, warmup: float, mentions: int) -> dict[str, Any]:
    """The clients: request n is due at start + n/rate and sent by client n % clients; latency is from its send
    (`late` says how far behind its due time a send was, if the clients could not keep up). The first `warmup`
    seconds at the same rate are not counted: the server loads triage's models then (`startup.settle_heap`)."""
    latencies: list[float] = []
    late: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    skipped = int(rate * warmup)
    total = skipped + int(rate * seconds)
    start = time.monotonic() + 0.5

    def client(k: int) -> None:
        chance = random.Random(k)
        wants = READERS[k % len(READERS)]
        http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        cursor: str | None = None
        params: dict[str, str] = {}
        for n in range(k, total, clients):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
            if "ref" in wants:
                path = f"/api/v1/mentions/M-{chance.randint(1, mentions)}"
            else:
                path = "/api/v1/mentions"
                if cursor is None:  # a new walk
                    params = {key: value for key, value in wants.items() if value}
                    if not wants:
                        params["since"] = (NOW - timedelta(days=SPAN_DAYS * chance.random())).isoformat()
                    if "owner" in wants:
                        params["owner"] = f"U{chance.randrange(PEOPLE):04d}"
                params["limit"] = "100"
                if cursor:
                    params["cursor"] = cursor
            sent = time.monotonic()
            try:
                answer = http.get(path, params=params if path == "/api/v1/mentions" else None)
                body = answer.json()
            except (httpx.HTTPError, ValueError) as error:
                if n >= skipped:
                    with lock:
                        errors.append(type(error).__name__)
                continue
            took = (time.monotonic() - sent) * 1000
            if path == "/api/v1/mentions" and answer.status_code == 200:
                cursor = body["next_cursor"] if body["has_more"] else None
            if n < skipped:
                continue
            with lock:
                latencies.append(took)
                late.append(max(0.0, (sent - (start + n / rate)) * 1000))
                if answer.status_code != 200:
                    errors.append(str(answer.status_code))
        http.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "latencies": latencies,
        "late": late,
        "errors": errors,
        "elapsed": time.monotonic() - start - skipped / rate,
    }


def serve(url: str, workdir: Path, slack: FakeSlack) -> BotProcess:
    """`allears serve` on the database, with `[api]` on; the stand-in Slack answers its start-up `auth.test`."""
    bot = BotProcess(
        workdir,
        slack_api_url=slack.api_url,
        database_url=url,
        config=config_toml("http://127.0.0.1:9/never-polled.xml", extra='[api]\ntokens_env = "ALLEARS_API_TOKENS"'),
    )
    bot.env["ALLEARS_API_TOKENS"] = TOKEN
    return bot.start("serve")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--url", help="an existing database loaded by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="keep the new database (its URL is printed)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second, all clients together")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds at the same rate first, not counted")
    parser.add_argument("--drive", metavar="URL", help=argparse.SUPPRESS)  # the clients' own process
    args = parser.parse_args()
    if args.drive:
        timed = drive(
            args.drive,
            rate=args.rate,
            clients=args.clients,
            seconds=args.seconds,
            warmup=args.warmup,
            mentions=args.mentions,
        )
        print(json.dumps(timed))
        return

    with database(args.url, args.keep) as (url, fresh):
        engine = make_engine(url)
        migrate.upgrade(engine)
        if fresh:
            print(f"loading {args.mentions:,} mentions into {url.rsplit('/', 1)[1]} (now = {NOW:%Y-%m-%d %H:%M} UTC):")
            started = time.perf_counter()
            load(engine, mentions=args.mentions, now=NOW)
            print(f"  loaded in {time.perf_counter() - started:.0f} s")
        else:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE mention"))  # the new indexes' statistics, after an upgrade
        mentions = counts(engine)["mention"]
        print(f"{mentions:,} mentions\n")
        explain(engine)
        engine.dispose()

        slack = FakeSlack(channels={"C0LISTEN", "C0URGENT", "C0SUPPORT", "C0PRODUCT"}).start()
        with tempfile.TemporaryDirectory() as workdir:
            bot = serve(url, Path(workdir), slack)
            try:
                assert bot.pid is not None
                load_before, cpu_before = os.getloadavg(), cpu_seconds(bot.pid)
                database_before = database_work(url)
                driven = subprocess.run(
                    [sys.executable, __file__, "--drive", bot.url, "--rate", str(args.rate)]
                    + ["--clients", str(args.clients), "--seconds", str(args.seconds), "--warmup", str(args.warmup)]
                    + ["--mentions", str(mentions)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                load_after, served = os.getloadavg(), cpu_seconds(bot.pid) - cpu_before
                database_after = database_work(url)
            finally:
                bot.stop()
        slack.stop()
        report(json.loads(driven.stdout), args, load_before, load_after, served)
        print(
            f"  PostgreSQL: {database_after[1] - database_before[1]} sessions opened during the run; its backends'",
            end=" ",
        )
        total = int(args.rate * (args.seconds + args.warmup))
        print(f"CPU {(database_after[0] - database_before[0]) / total * 1000:.2f} ms a request (those still open)")
        if args.keep:
            print(f"\nkept: --url {url}")


def database_work(url: str) -> tuple[float, int]:
    """The CPU seconds of the backends now serving this database, and how many sessions it has had."""
    engine = make_engine(url)
    with engine.connect() as connection:
        pids = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).scalars()
        sessions = connection.execute(
            text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        ).scalar_one()
        busy = 0.0
        for pid in pids:
            with contextlib.suppress(FileNotFoundError):  # ended meanwhile
                busy += cpu_seconds(pid)
    engine.dispose()
    return busy, sessions


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(
    timed: dict[str, Any],
    args: argparse.Namespace,
    before: tuple[float, ...],
    after: tuple[float, ...],
    served: float,
) -> None:
    ms, late, errors = timed["latencies"], timed["late"], timed["errors"]
    print(f"\n{args.clients} clients at {args.rate:g} requests/s for {args.seconds:g} s", end=" ")
    print("against `allears serve`", end=" ")
    print(f"(after {args.warmup:g} s at that rate, not counted):")
    print(f"  answered {len(ms):,} of {int(args.rate * args.seconds):,}: {len(ms) / timed['elapsed']:.1f} requests/s")
    print(f"  errors: {len(errors)} {sorted(set(errors)) if errors else ''}")
    p50, p95, p99 = statistics.median(ms), percentile(ms, 0.95), percentile(ms, 0.99)
    met = "met" if p99 < GOAL_MS else "**not met**"
    print(f"  latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {max(ms):.1f} ms", end=" ")
    print(f"(p99 < {GOAL_MS:g} ms: {met})")
    print(f"  sends behind schedule: p99 {percentile(late, 0.99):.1f} ms, max {max(late):.1f} ms")
    total = int(args.rate * (args.seconds + args.warmup))
    print(f"  the web process's CPU: {served:.1f} s for {total:,} requests (warm-up and its settling at start", end=" ")
    print(f"included), {served / total * 1000:.2f} ms each")
    print(f"  load average (1, 5, 15 min) before {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}, after", end=" ")
    print(f"{after[0]:.2f} {after[1]:.2f} {after[2]:.2f}; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
