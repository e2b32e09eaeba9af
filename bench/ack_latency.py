"""Acknowledgement latency of `/claim` through real HTTP, against `allears run` on SQLite, and in the
same run against a bare Bolt app that only acks (`bench/bare_bolt.py`, the floor).

Sends signed `/claim` commands at a steady rate from a process of its own, on a core of its own (every
one after the first is refused, so each goes through the database and back), reports p50/p99 of the
HTTP answer, which is the ack Slack waits for, and checks that every private answer arrived. Also:
seconds from a feed item being published to its card reaching Slack. Goal (issue 5): p99 at most
1.5 × the bare app's.

    .venv/bin/python bench/ack_latency.py [--rate 20] [--seconds 10]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app.standin.ports import free_port  # noqa: E402
from bot.app.standin.slack import BOT_TOKEN, FakeSlack  # noqa: E402
from bot.app.standin.users import SIGNING_SECRET, SlackUser  # noqa: E402
from tests.botprocess import BotProcess, config_toml  # noqa: E402
from tests.feedserver import Entry, FeedServer, rss  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class _RespondAt:
    """The fake Slack's response URLs in the process that sends the claims: its URL for the empty key, plus a key."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def response_url(self, key: str) -> str:
        return self._prefix + key


def send_claims(
    url: str, slack: FakeSlack, rate: float, seconds: float, cores: set[int]
) -> tuple[list[float], list[str]]:
    """The ack latency of each claim, in ms, and the response key each one's private answer goes to.

    The claims are sent and timed by a process of their own, on `cores`: the fake Slack in this process serves
    the bot's answers (All Ears answers every claim, the bare app none), and the claim's work runs right after
    each ack. Sharing a GIL or the cores with either, the timing threads read the bench's and the bot's later
    work as ack latency."""
    sent = subprocess.run(
        [sys.executable, __file__, "--send", url, "--respond-at", slack.response_url(""), "--rate", str(rate)]
        + ["--seconds", str(seconds), "--cores", ",".join(map(str, sorted(cores)))],
        check=True,
        capture_output=True,
        text=True,
    )
    timed = json.loads(sent.stdout)
    return timed["acks"], timed["keys"]


def split_cores() -> tuple[set[int], set[int]]:
    """One core for the sender, the others for the app under test and the fake Slack (both apps alike); all of
    them for everything on a machine with one."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return set(cores), set(cores)
    return {cores[0]}, set(cores[1:])


def _send(url: str, respond_at: str, rate: float, seconds: float, cores: set[int]) -> None:
    """Signed `/claim M-1` from a new person every 1/rate s; prints each one's ack latency and response key."""
    os.sched_setaffinity(0, cores)
    http = httpx.Client(limits=httpx.Limits(max_connections=200))
    acks: list[float] = []
    people: list[SlackUser] = []

    def claim(n: int) -> None:
        person = SlackUser(f"U_B{n:05d}", url, _RespondAt(respond_at), http)
        started = time.monotonic()
        response = person.command("/claim", "M-1")
        acks.append((time.monotonic() - started) * 1000)
        assert response.status_code == 200
        people.append(person)

    total, threads = int(rate * seconds), []
    start = time.monotonic()
    for n in range(total):
        time.sleep(max(0.0, start + n / rate - time.monotonic()))
        thread = threading.Thread(target=claim, args=(n,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    print(json.dumps({"acks": acks, "keys": [person.last_response_key for person in people]}))


def bare_bolt(slack: FakeSlack) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = os.environ | {
        "PORT": str(port),
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
    }
    process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("bare_bolt.py"))], env=env)
    url = f"http://127.0.0.1:{port}"
    slack.wait_for(lambda: _answers(url + "/healthz"), timeout=30, what="the bare Bolt app")
    return process, url


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--send", metavar="URL", help=argparse.SUPPRESS)  # the sending process (send_claims)
    parser.add_argument("--respond-at", help=argparse.SUPPRESS)
    parser.add_argument("--cores", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        _send(args.send, args.respond_at, args.rate, args.seconds, {int(core) for core in args.cores.split(",")})
        return

    sender, apps = split_cores()
    os.sched_setaffinity(0, apps)  # the fake Slack here, and the apps started from here

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
        feeds.publish("/acme.xml", rss([]))  # an empty feed at first: a 404 would make the source back off
        bot.start()
        time.sleep(1.5)  # past the first poll, as a feed already polled would be
        published = time.monotonic()
        feeds.publish("/acme.xml", rss([entry]))
        slack.wait_for(lambda: slack.cards(), timeout=30, what="the card")
        to_card = time.monotonic() - published

        try:
            ms, keys = send_claims(bot.url, slack, args.rate, args.seconds, sender)
            slack.wait_for(lambda: all(slack.responses(key) for key in keys), timeout=30, what="every answer")
        finally:
            bot.stop()
    floor, url = bare_bolt(slack)
    try:
        bare, _ = send_claims(url, slack, args.rate, args.seconds, sender)
    finally:
        floor.terminate()
        floor.wait(timeout=10)
    slack.stop()
    feeds.stop()

    print(f"/claim at {args.rate:g}/s for {args.seconds:g}s: {len(ms)} requests, every private answer arrived")
    print(f"  cores: sender {sorted(sender)}, each app and the fake Slack {sorted(apps)}")
    for name, values in (("All Ears", ms), ("bare Bolt", bare)):
        p50, p99 = statistics.median(values), percentile(values, 0.99)
        print(f"  {name:9} ack (HTTP answer): p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(values):.1f} ms")
    print(f"  p99 ratio All Ears / bare Bolt: {percentile(ms, 0.99) / percentile(bare, 0.99):.2f} (goal ≤ 1.5)")
    print(f"feed item published → card in Slack: {to_card:.2f} s (poll interval 1 s)")


if __name__ == "__main__":
    main()
