"""A storm: 1,000 mentions about an outage arrive within one minute, polled from a feed by a real
`allears run` (SQLite) and posted to the stand-in Slack, which like Slack answers 429 + Retry-After to a
second message in a channel within a second (`FakeSlack(post_interval=1.0)`).

What it reports: the channel's messages (cards, the storm card, thread posts), the storm card's count
updates, the drain time (the first mention published → the last message posted), the 429s, and that
every mention was posted exactly once (its reference appears in exactly one message) and none was lost
(each published post is stored, and each stored one has a card_ts).

    .venv/bin/python bench/storm_drain.py [--mentions 1000] [--seconds 60] [--post-interval 1.0]

`--post-interval` is the bot's `SLACK_POST_INTERVAL` (its default is 1.0, Slack's pace); a smaller one
shows what the 429s cost when the bot posts faster than Slack allows.
"""

import argparse
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app.standin.slack import FakeSlack  # noqa: E402
from tests.botprocess import BotProcess, config_toml  # noqa: E402
from tests.feedserver import Entry, FeedServer, rss  # noqa: E402

CHANNEL = "C0URGENT"  # negative mentions are routed here by `config_toml`
_REFERENCE = re.compile(r"\bM-(\d+)\b")


def outage(n: int) -> Entry:
    return Entry(
        guid=f"storm-{n}",
        title=f"Acme is down again ({n})",
        description=f"Acme is down again, nothing loads, this is terrible. Report {n}.",
        link=f"https://social.example.com/status/{n}",
        author=f"customer{n}@example.com (Customer {n})",
        published=datetime.now(UTC),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0, help="the storm arrives over this long")
    parser.add_argument("--post-interval", type=float, default=1.0, help="the bot's SLACK_POST_INTERVAL")
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()

    slack = FakeSlack(channels={"C0LISTEN", CHANNEL, "C0SUPPORT", "C0PRODUCT"}, post_interval=1.0).start()
    feeds = FeedServer().start()
    with tempfile.TemporaryDirectory() as workdir:
        database = Path(workdir) / "storm.db"
        bot = BotProcess(
            Path(workdir),
            slack_api_url=slack.api_url,
            database_url=f"sqlite:///{database}",
            config=config_toml(feeds.url("/acme.xml")),
        )
        bot.env["SLACK_POST_INTERVAL"] = str(args.post_interval)
        feeds.publish("/acme.xml", rss([]))  # polled before the storm, as a live feed is
        bot.start()
        try:
            time.sleep(2)

            published: list[Entry] = []
            first = time.monotonic()
            for n in range(args.mentions):
                time.sleep(max(0.0, first + n * args.seconds / args.mentions - time.monotonic()))
                published.append(outage(n))
                # Newest first, the latest 300, as real feeds are (the bot reads a feed's first 200 items).
                feeds.publish("/acme.xml", rss(published[:-301:-1]))
            arrived = time.monotonic() - first
            print(f"{args.mentions} mentions published over {arrived:.1f} s; waiting for the channel to drain …")

            expected = args.mentions + 1  # a card or a thread post each, and the storm card
            slack.wait_for(lambda: len(slack.messages(CHANNEL)) >= expected, timeout=args.timeout, what="the drain")
            time.sleep(5)  # anything more (a duplicate) would show now
        finally:
            bot.stop()
        with sqlite3.connect(database) as connection:
            stored, unposted = connection.execute(
                "SELECT count(*), sum(card_ts IS NULL) FROM mention WHERE status != 'joined'"
            ).fetchone()
            storms = connection.execute("SELECT count(*) FROM storm").fetchone()[0]
            undelivered = connection.execute("SELECT count(*) FROM outbox WHERE status != 'sent'").fetchone()[0]
    slack.stop()
    feeds.stop()

    messages = slack.messages(CHANNEL)
    top = [message for message in messages if message.thread_ts is None]
    storm_cards = [message for message in top if "mentions about" in message.all_text()]
    posts = [call for call in slack.calls_to("chat.postMessage") if call.status == 200]
    refused = [call for call in slack.calls_to("chat.postMessage") if call.status == 429]
    updates = [call for call in slack.calls_to("chat.update") if call.status == 200]
    posted_for = Counter(
        reference
        for message in messages
        if message not in storm_cards
        for reference in set(_REFERENCE.findall(message.text))
    )
    drain = max(call.at for call in posts) - first
    twice = [reference for reference, times in posted_for.items() if times > 1]

    print(
        "| mentions | stored | channel messages | cards | storm cards | thread posts | storm card updates "
        "| 429s | drain time | posted twice | lost |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.mentions:,} in {args.seconds:g} s | {stored:,} | {len(messages):,} | {len(top) - len(storm_cards)} "
        f"| {len(storm_cards)} | {len(messages) - len(top):,} | {len(updates)} | {len(refused)} | {drain:,.0f} s "
        f"| {len(twice)} | {args.mentions - stored + (unposted or 0)} |"
    )
    print(
        f"storms in the database: {storms}; outbox rows not sent: {undelivered}; mentions with a message: "
        f"{len(posted_for):,}; bot SLACK_POST_INTERVAL {args.post_interval:g} s, Slack's pace 1 message/s"
    )
    print(f"rate while draining: {len(posts) / drain:.2f} messages/s")


if __name__ == "__main__":
    main()
