"""Ingest throughput: fetched feed document → parsed, matched, scored, routed, stored mention with its
card queued, committed; the same steps `bot.hear.polling.poll` takes after the fetch
(`bot.hear.polling.store`), on one core.

    .venv/bin/python bench/ingest.py                     # SQLite file and PostgreSQL, 5,000 mentions each
    .venv/bin/python bench/ingest.py --mentions 20000 --per-poll 100 --database sqlite
    .venv/bin/python bench/ingest.py --fresh             # posts of the last minutes: storms weathered too
    .venv/bin/python bench/ingest.py --against 0653d75   # beside that commit's code, and the insert alone

The mentions are real customer tweets (../shared/data/customer-tweets) with the airline's name
replaced by the brand, served as RSS documents of `--per-poll` items, one transaction per document
as a poll commits. Goal (issue 5): at least 2,000 mentions/s on one core.

`--against COMMIT` runs, in one sitting, each in a process of its own and `--repeat` times (the median
is shown): that commit's code (`git archive` into a temporary directory, imported instead of this
tree's), this tree's, and the floor, the same mention rows inserted with one Core `executemany` and
nothing else. `--alone` stores each mention by itself instead, as the webhook and a colleague's
forward do (`record`).

`--instructions` (with `--against`) counts instructions instead of seconds: each side runs under
`valgrind --tool=callgrind` twice, with 100 and with 100 + `--mentions` mentions, and the difference over
`--mentions` is its count per mention; start-up, imports and the first poll cancel out. Counts repeat to
the instruction whatever else the machine is doing, so a few percent are seen that CPU time hides.
"""

import argparse
import csv
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parents[1]
CODE = os.environ.get("ALLEARS_BENCH_CODE", str(ROOT))
"""The tree whose code is measured: this one, or (`--against`) an older one beside it."""
sys.path.insert(0, CODE)

from bot.ground import migrate  # noqa: E402
from bot.ground.config import Config  # noqa: E402
from bot.ground.db import make_engine, session_scope  # noqa: E402
from bot.ground.models import Mention, Outbox  # noqa: E402
from bot.hear.polling import Listener, store  # noqa: E402
from bot.hear.sources.rss import parse_feed  # noqa: E402
from bot.hear.triage import triage  # noqa: E402
from tests.databases import new_postgres_database  # noqa: E402

TWEETS = ROOT.parent / "shared" / "data" / "customer-tweets" / "airline-tweets.csv"
_AIRLINES = re.compile(r"@?(VirginAmerica|united|SouthwestAir|JetBlue|USAirways|AmericanAir|Delta)\b", re.I)
CONFIG = Config.model_validate(
    {
        "listen": {"keywords": ["acme"]},
        "channels": {"default": "C0LISTEN"},
        "routes": [
            {"sentiment": "negative", "channel": "C0URGENT"},
            {"category": "feature request", "channel": "C0PRODUCT"},
        ],
    }
)


def customer_posts(count: int) -> list[tuple[str, str]]:
    """(author, text) pairs mentioning the brand, cycling through the tweets with distinct texts."""
    with TWEETS.open(encoding="utf-8", newline="") as file:
        rows = [(row["name"], _AIRLINES.sub("Acme", row["text"])) for row in csv.DictReader(file)]
    rows = [(author, body) for author, body in rows if "Acme" in body]
    return [
        (author, f"{body} #{n}" if n >= len(rows) else body)
        for n, (author, body) in ((n, rows[n % len(rows)]) for n in range(count))
    ]


def feed_documents(
    posts: list[tuple[str, str]], per_poll: int, start: datetime, step: timedelta = timedelta(seconds=1)
) -> list[bytes]:
    documents = []
    for first in range(0, len(posts), per_poll):
        items = []
        for n, (author, body) in enumerate(posts[first : first + per_poll], start=first):
            published = format_datetime(start + n * step)
            items.append(
                f"<item><guid>tweet-{n}</guid><title>{escape(body[:80])}</title>"
                f"<link>https://social.example.com/{escape(author)}/status/{n}</link>"
                f"<author>{escape(author)}</author><description>{escape(body)}</description>"
                f"<pubDate>{published}</pubDate></item>"
            )
        channel = "".join(items)
        documents.append(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>{channel}</channel></rss>'.encode()
        )
    return documents


def ingest(engine, documents: list[bytes], now: datetime, *, alone: bool = False) -> tuple[int, float, float]:
    """What `poll` does after its fetch, document by document (or, `alone`, what the webhook does for each
    mention); returns (stored, wall s, CPU s)."""
    listener = Listener(CONFIG)
    record = _record()
    triage("warming up")  # the running bot loads TextBlob's lexicon once, at its first mention
    stored = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for document in documents:
        fetched = parse_feed(document, content_type="application/rss+xml")
        items = sorted(reversed(fetched.items), key=lambda item: item.published_at or now)
        if not alone:
            with session_scope(engine) as session:
                stored += store(session, listener, items, source="bench", source_kind="rss", now=now)[1]
            continue
        for item in items:
            heard = listener.hear(item, source="bench", source_kind="webhook", require_keywords=False)
            with session_scope(engine) as session:
                stored += record(session, heard, storm=listener.storm, now=now) is not None
    return stored, time.perf_counter() - wall, time.process_time() - cpu


def _record():
    try:
        from bot.hear.batches import record
    except ImportError:  # the code before one way in (0653d75) recorded one mention apart from a batch
        from bot.hear.recording import record
    return record


def floor(engine, scratch, documents: list[bytes], now: datetime) -> tuple[int, float, float]:
    """The rows `ingest` stores, inserted into an empty database with one `executemany` and nothing else."""
    ingest(scratch, documents, now)
    table = Mention.__table__
    with scratch.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(select(table))]
    for row in rows:  # the same rows, without the storms they were stored in (the floor stores no storm)
        del row["id"]
        row["storm_id"] = None
    wall, cpu = time.perf_counter(), time.process_time()
    with engine.begin() as connection:
        connection.execute(insert(table), rows)
    return len(rows), time.perf_counter() - wall, time.process_time() - cpu


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "postgres":
        with new_postgres_database("allears_bench") as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite:///{directory}/bench.db"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=5000)
    parser.add_argument("--per-poll", type=int, default=100)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="posts of the last minutes, so each also weathers storms as a live one does",
    )
    parser.add_argument("--alone", action="store_true", help="each mention stored by itself, as the webhook does")
    parser.add_argument("--against", metavar="COMMIT", help="beside that commit's code, and the floor")
    parser.add_argument("--repeat", type=int, default=3, help="with --against: runs of each, the median shown")
    parser.add_argument(
        "--instructions", action="store_true", help="with --against: instructions per mention, under callgrind"
    )
    parser.add_argument("--child", choices=["code", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
    if args.fresh:  # all within the storm window (15 minutes), so every mention asks whether a storm blows
        start, step = now - timedelta(minutes=10), timedelta(minutes=10) / args.mentions
    else:  # two days old, as a source's first poll brings them: no storms
        start, step = now - timedelta(days=2), timedelta(seconds=1)
    documents = feed_documents(customer_posts(args.mentions), args.per_poll, start, step)
    kinds = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    if args.child:
        print(json.dumps(child(args.child, kinds[0], documents, now, alone=args.alone)))
    elif args.against and args.instructions:
        counted_side_by_side(args, kinds, now)
    elif args.against:
        side_by_side(args, kinds, now)
    else:
        in_this_process(args, kinds, documents, now)


def child(variant: str, kind: str, documents: list[bytes], now: datetime, *, alone: bool) -> dict[str, object]:
    import bot

    with database(kind) as url, database(kind) as scratch_url:
        engine, scratch = make_engine(url), make_engine(scratch_url)
        migrate.upgrade(engine)
        if variant == "floor":
            migrate.upgrade(scratch)
            stored, wall, cpu = floor(engine, scratch, documents, now)
        else:
            stored, wall, cpu = ingest(engine, documents, now, alone=alone)
        engine.dispose()
        scratch.dispose()
    return {"stored": stored, "wall": wall, "cpu": cpu, "code": str(Path(bot.__file__).parents[1])}


@contextmanager
def tree_of(commit: str) -> Iterator[str]:
    """That commit's files (`git archive`) in a temporary directory."""
    with tempfile.TemporaryDirectory() as directory:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(directory, filter="data")
        yield directory


def side_by_side(args: argparse.Namespace, kinds: tuple[str, ...], now: datetime) -> None:
    """Old code, this code and the floor, each run in a process of its own, taking turns."""
    with tree_of(args.against) as old:
        variants = {"old": ("code", old), "new": ("code", str(ROOT)), "floor": ("floor", str(ROOT))}
        flags = [f"--mentions={args.mentions}", f"--per-poll={args.per_poll}", f"--now={now.isoformat()}"]
        flags += ["--fresh"] * args.fresh + ["--alone"] * args.alone
        mode = "each mention alone" if args.alone else f"polls of {args.per_poll}"
        print(f"{args.mentions} mentions, {mode}{', fresh' if args.fresh else ''}; median of {args.repeat} runs")
        print("| database | old: CPU per mention | new | floor | new/old | new/floor |")
        print("|---|---|---|---|---|---|")
        for kind in kinds:
            cpu: dict[str, list[float]] = {name: [] for name in variants}
            names = list(variants)
            for repetition in range(args.repeat):  # each goes first in turn: no side gains from running after another
                for name in names[repetition % 3 :] + names[: repetition % 3]:
                    variant, code = variants[name]
                    command = [sys.executable, __file__, f"--child={variant}", f"--database={kind}", *flags]
                    env = {**os.environ, "ALLEARS_BENCH_CODE": code}
                    run = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
                    result = json.loads(run.stdout.splitlines()[-1])
                    assert result["code"] == code, f"{name} ran {result['code']}'s code"
                    assert result["stored"] == args.mentions, (name, result)
                    cpu[name].append(result["cpu"] / result["stored"] * 1000)
            old_ms, new_ms, floor_ms = (statistics.median(cpu[name]) for name in variants)
            print(
                f"| {kind} | {old_ms:.3f} ms | {new_ms:.3f} ms | {floor_ms:.3f} ms"
                f" | {new_ms / old_ms:.2f} | {new_ms / floor_ms:.1f} |"
            )


def counted_side_by_side(args: argparse.Namespace, kinds: tuple[str, ...], now: datetime) -> None:
    """Old code and this code, instructions per mention under callgrind (the floor is left to `side_by_side`)."""
    with tree_of(args.against) as old, tempfile.TemporaryDirectory() as out:
        trees = {"old": old, "new": str(ROOT)}
        for tree in trees.values():  # both trees' bytecode written before counting, so neither counts compiling
            subprocess.run([sys.executable, "-m", "compileall", "-q", "bot", "tests"], cwd=tree, check=True)
        mode = "each mention alone" if args.alone else f"polls of {args.per_poll}"
        print(f"instructions per mention, ({100 + args.mentions} - 100 mentions) / {args.mentions}, {mode}")
        print("| database | old | new | new/old |")
        print("|---|---|---|---|")
        env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
        for kind in kinds:
            per: dict[str, float] = {}
            for name, tree in trees.items():
                counts = []
                for mentions in (100, 100 + args.mentions):
                    command = [
                        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/{name}.out",
                        sys.executable, __file__, "--child=code", f"--database={kind}", f"--mentions={mentions}",
                        f"--per-poll={args.per_poll}", f"--now={now.isoformat()}",
                        *["--fresh"] * args.fresh, *["--alone"] * args.alone,
                    ]  # fmt: skip
                    run = subprocess.run(
                        command, capture_output=True, text=True, check=True, env={**env, "ALLEARS_BENCH_CODE": tree}
                    )
                    assert json.loads(run.stdout.splitlines()[-1])["stored"] == mentions, (name, run.stdout)
                    counts.append(int(re.findall(r"Collected : (\d+)", run.stderr)[-1]))
                per[name] = (counts[1] - counts[0]) / args.mentions
            print(f"| {kind} | {per['old']:,.0f} | {per['new']:,.0f} | {per['new'] / per['old']:.3f} |")


def in_this_process(args: argparse.Namespace, kinds: tuple[str, ...], documents: list[bytes], now: datetime) -> None:
    parse_wall = time.perf_counter()
    for document in documents:
        parse_feed(document, content_type="application/rss+xml")
    parse_wall = time.perf_counter() - parse_wall
    print(
        f"{args.mentions} mentions in {len(documents)} documents of {args.per_poll}; parsing alone {parse_wall:.2f} s"
        f" ({parse_wall / args.mentions * 1000:.3f} ms a mention)"
    )
    print("| database | stored | wall | CPU | CPU per mention | mentions/s (wall) | mentions/s (CPU) | outbox rows |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in kinds:
        with database(kind) as url:
            engine = make_engine(url)
            migrate.upgrade(engine)
            stored, wall, cpu = ingest(engine, documents, now, alone=args.alone)
            with session_scope(engine) as session:
                mentions = session.execute(select(func.count()).select_from(Mention)).scalar_one()
                queued = session.execute(select(func.count()).select_from(Outbox)).scalar_one()
            engine.dispose()
        assert stored == mentions == args.mentions, (stored, mentions)
        rates = f"{stored / wall:,.0f} | {stored / cpu:,.0f}"
        per = f"{cpu / stored * 1000:.3f} ms"
        print(f"| {kind} | {stored:,} | {wall:.2f} s | {cpu:.2f} s | {per} | {rates} | {queued:,} |")


if __name__ == "__main__":
    main()
