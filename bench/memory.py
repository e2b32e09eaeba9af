"""Peak memory of the bot's processes with 100,000 mentions stored, while they do their usual work, and what a
Home tab redraw costs at that size.

PostgreSQL: `allears worker` and `allears serve` side by side; SQLite: `allears run` (one process only, the
single-process rule). The data is a year of a busy deployment (`bench/dataset.py`, generated in PostgreSQL
and copied into SQLite) ending now, so the SLA reminders, the Home tab and `/allears stats` see this week's.
The work: a poll bringing 50 new mentions (cards posted), the weekly summary falling due at start (posted
with its chart), the SLA check over every open mention, and people's `/allears queue`, `/allears stats`,
Home tab openings and `/claim`s. Memory is VmHWM (peak resident set) from /proc/<pid>/status once all of it
is done.

The redraw: `HomeTabs.publish` in this process against the stand-in Slack, timed and its statements counted,
with the week's numbers shared (as it runs) and recounted every time (`numbers_for=0`), beside what the
redraw read before it was made cheap (every weekly figure, `bot.remember.counting.weekly_figures`).

    .venv/bin/python bench/memory.py [--mentions 100000] [--database postgres|sqlite|both]
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from slack_sdk import WebClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dataset import copy_to, counts, load  # noqa: E402
from bench.summary_scale import Statements  # noqa: E402
from bot.act.queues import queues_for  # noqa: E402
from bot.app.standin.slack import BOT_TOKEN, FakeSlack  # noqa: E402
from bot.app.standin.users import SlackUser  # noqa: E402
from bot.ground import migrate  # noqa: E402
from bot.ground.config import Config  # noqa: E402
from bot.ground.db import make_engine, read_scope  # noqa: E402
from bot.remember.counting import weekly_figures  # noqa: E402
from bot.remember.weeks import Week  # noqa: E402
from bot.slack.home import ROWS  # noqa: E402
from handlers.home import HomeTabs  # noqa: E402
from tests.botprocess import BotProcess, config_toml  # noqa: E402
from tests.databases import new_postgres_database  # noqa: E402
from tests.feedserver import Entry, FeedServer, rss  # noqa: E402

CHANNELS = {"C0LISTEN", "C0URGENT", "C0SUPPORT", "C0PRODUCT", "C0BILLING"}
PEOPLE = [f"U{n:04d}" for n in range(8)]
REDRAWS = 30


def peak_memory(pid: int) -> tuple[int, int]:
    """(VmHWM, VmRSS) in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmHWM"].split()[0]) // 1024, int(fields["VmRSS"].split()[0]) // 1024


def config_due_now(feed_url: str, now: datetime) -> str:
    """The bench's config, with the weekly summary due a minute ago, so the scheduler posts it at start."""
    due = now - timedelta(minutes=1)
    summary = f'weekday = "{due.strftime("%A").lower()}"\ntime = "{due:%H:%M}"\ntimezone = "UTC"'
    return config_toml(feed_url, every="2s", summary=summary)


def new_posts(count: int, prefix: str) -> list[Entry]:
    return [
        Entry(
            guid=f"{prefix}-{n}",
            title=f"Acme question {n}",
            description=f"How do I export my Acme reports as CSV? ({n})",
            link=f"https://forum.example.com/t/{n}",
            author=f"asker{n}@example.com (Asker {n})",
            published=datetime.now(UTC),
        )
        for n in range(count)
    ]


def usual_work(slack: FakeSlack, feeds: FeedServer, web_url: str, http: httpx.Client, kind: str) -> None:
    """A poll, the weekly summary, and people asking for their queue, the stats and their Home, and claiming."""
    before = len(slack.messages())
    feeds.publish("/acme.xml", rss(new_posts(50, prefix=kind)))  # fresh and alike: a storm card and its thread
    slack.wait_for(lambda: len(slack.messages()) >= before + 50, timeout=120, what="the 50 new messages")
    slack.wait_for(lambda: slack.uploads, timeout=180, what="the weekly summary's chart")
    people = [SlackUser(person, web_url, slack, http) for person in PEOPLE]
    for person in people:
        for command, text in (("/allears", "queue"), ("/allears", "stats")):
            assert person.command(command, text).status_code == 200
        assert person.open_home().status_code == 200
    for n, person in enumerate(people):
        person.command("/claim", f"M-{100 + n}")
    slack.wait_for(
        lambda: all(len(slack.responses(p.last_response_key)) for p in people), timeout=180, what="the answers"
    )
    slack.wait_for(lambda: all(slack.homes_published(p.user_id) >= 2 for p in people), timeout=180, what="Homes")


def measure_processes(kind: str, url: str, slack: FakeSlack, feeds: FeedServer, workdir: Path) -> list[str]:
    http = httpx.Client()
    feeds.publish("/acme.xml", rss([]))
    config = config_due_now(feeds.url("/acme.xml"), datetime.now(UTC))
    rows = []
    if kind == "postgres":
        worker = BotProcess(workdir / "worker", slack_api_url=slack.api_url, database_url=url, config=config)
        web = BotProcess(workdir / "web", slack_api_url=slack.api_url, database_url=url, config=config)
        processes = [("allears worker", worker.start("worker")), ("allears serve", web.start("serve"))]
    else:
        web = BotProcess(workdir / "run", slack_api_url=slack.api_url, database_url=url, config=config)
        processes = [("allears run", web.start("run"))]
    try:
        started = time.monotonic()
        usual_work(slack, feeds, web.url, http, kind)
        took = time.monotonic() - started
        for name, process in processes:
            assert process.pid is not None
            hwm, rss_now = peak_memory(process.pid)
            rows.append(f"| {kind} | {name} | {hwm} MB | {rss_now} MB | {took:.0f} s |")
    finally:
        for _, process in processes:
            process.stop()
        http.close()
    return rows


def time_redraws(engine: object, slack: FakeSlack, config: Config) -> list[str]:
    """ms and statements per Home redraw, three ways, for a person in the listening and urgent channels."""
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
    statements = Statements(engine)  # type: ignore[arg-type]
    viewer = PEOPLE[1]
    slack.set_channels(viewer, "C0LISTEN", "C0URGENT")

    def before() -> None:
        now = datetime.now(UTC)
        with read_scope(engine) as session:  # type: ignore[arg-type]
            queues_for(session, user_id=viewer, channels={"C0LISTEN", "C0URGENT"}, limit=ROWS)
            weekly_figures(session, Week.containing(now), now=now)

    shared, recounted = HomeTabs(engine, config), HomeTabs(engine, config, numbers_for=0)  # type: ignore[arg-type]
    ways: list[tuple[str, Callable[[], None]]] = [
        ("before: every weekly figure + queues (reads only, not published)", before),
        ("now, numbers recounted (the first redraw in 10 s)", lambda: recounted.publish(viewer, client)),
        ("now, numbers shared (a burst of actions)", lambda: shared.publish(viewer, client)),
    ]
    rows = []
    for name, redraw in ways:
        redraw()  # channels listed, statements compiled
        times, ran = [], []
        for _ in range(REDRAWS):
            statements.seen.clear()
            started = time.perf_counter()
            redraw()
            times.append((time.perf_counter() - started) * 1000)
            ran.append(len(statements.seen))
        median, most = statistics.median(times), max(times)
        rows.append(f"| {name} | {median:.1f} ms | {most:.1f} ms | {statistics.median(ran):g} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--database", choices=["postgres", "sqlite", "both"], default="both")
    args = parser.parse_args()
    kinds = ["postgres", "sqlite"] if args.database == "both" else [args.database]
    config = Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}})
    memory = ["| database | process | VmHWM (peak) | VmRSS after | work took |", "|---|---|---|---|---|"]
    redraws = ["| database | redraw | median | max | statements |", "|---|---|---|---|---|"]
    with new_postgres_database("allears_memory") as url, tempfile.TemporaryDirectory() as directory:
        source = make_engine(url)
        migrate.upgrade(source)
        print(f"loading {args.mentions:,} mentions (a year, ending now) …")
        load(source, mentions=args.mentions, now=datetime.now(UTC), say=lambda line: None)
        print(", ".join(f"{table} {count:,}" for table, count in counts(source).items()))
        urls = {"postgres": url, "sqlite": f"sqlite:///{directory}/memory.db"}
        if "sqlite" in kinds:  # before PostgreSQL's bot adds to it
            target = make_engine(urls["sqlite"])
            migrate.upgrade(target)
            started = time.perf_counter()
            copy_to(source, target)
            target.dispose()
            print(f"copied into SQLite in {time.perf_counter() - started:.0f} s")
        for kind in kinds:
            target_url = urls[kind]
            slack = FakeSlack(channels=CHANNELS).start()
            feeds = FeedServer().start()
            try:
                memory += measure_processes(kind, target_url, slack, feeds, Path(directory) / kind)
                engine = make_engine(target_url)
                redraws += [f"| {kind} |{row[1:]}" for row in time_redraws(engine, slack, config)]
                engine.dispose()
            finally:
                slack.stop()
                feeds.stop()
        source.dispose()
    print("\n".join(["", *memory, "", *redraws]))


if __name__ == "__main__":
    main()
