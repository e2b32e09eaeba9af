"""Acknowledgement latency of `/claim` through real HTTP, against `allears run` on SQLite.

Sends signed `/claim` commands at a steady rate (every one after the first is refused, so each goes
through the database and back), reports p50/p99 of the HTTP answer, which is the ack Slack waits
for, and checks that every private answer arrived. Also: seconds from a feed item being published
to its card reaching Slack.

    .venv/bin/python bench/ack_latency.py [--rate 20] [--seconds 10]
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.botprocess import BotProcess, config_toml  # noqa: E402
from tests.fakeslack import FakeSlack  # noqa: E402
from tests.feedserver import Entry, FeedServer, rss  # noqa: E402
from tests.slackreq import SlackUser  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    slack = FakeSlack(channels={"C0LISTEN", "C0URGENT", "C0SUPPORT", "C0PRODUCT"}).start()
    feeds = FeedServer().start()
    entry = Entry(guid="b-1", title="Acme question", description="How does Acme bill?", link="https://e.com/1")
    with tempfile.TemporaryDirectory() as workdir:
        bot = BotProcess(
            Path(workdir),
            slack_api_url=slack.api_url,
            database_url=f"sqlite:///{workdir}/bench.db",
            config=config_toml(feeds.url("/acme.xml")),
        )
        bot.start()
        published = time.monotonic()
        feeds.publish("/acme.xml", rss([entry]))
        slack.wait_for(lambda: slack.cards(), timeout=30, what="the card")
        to_card = time.monotonic() - published

        acks: list[float] = []
        people: list[SlackUser] = []
        http = httpx.Client(limits=httpx.Limits(max_connections=200))

        def claim(n: int) -> None:
            person = SlackUser(f"U_B{n:05d}", bot.url, slack, http)
            started = time.monotonic()
            response = person.command("/claim", "M-1")
            acks.append(time.monotonic() - started)
            assert response.status_code == 200
            people.append(person)

        total, threads = int(args.rate * args.seconds), []
        start = time.monotonic()
        for n in range(total):
            time.sleep(max(0.0, start + n / args.rate - time.monotonic()))
            thread = threading.Thread(target=claim, args=(n,))
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        slack.wait_for(
            lambda: all(slack.responses(p.last_response_key) for p in people), timeout=30, what="every answer"
        )
        bot.stop()
    slack.stop()
    feeds.stop()

    ms = [a * 1000 for a in acks]
    p50, p99 = statistics.median(ms), percentile(ms, 0.99)
    print(f"/claim at {args.rate:g}/s for {args.seconds:g}s: {len(ms)} requests, every private answer arrived")
    print(f"  ack (HTTP answer): p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(ms):.1f} ms")
    print(f"feed item published → card in Slack: {to_card:.2f} s (poll interval 1 s)")


if __name__ == "__main__":
    main()
