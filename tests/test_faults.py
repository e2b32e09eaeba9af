"""Faults survived: Slack failing at random and rate limiting, kill -9 mid-work, the database going away,
and sources that hang, reset or flood. Each runs the real `allears` process; run alone with `-m faults`."""

import os
import random
import socket
import struct
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlmodel import func, select

from bot.app.standin.slack import FakeSlack, Message
from bot.app.standin.users import SlackUser
from bot.ground.db import make_engine, session_scope
from bot.ground.models import Mention, Outbox, OutboxStatus
from tests.botprocess import BotProcess, config_toml, wait_until_settled
from tests.feedserver import Entry, FeedServer, rss
from tests.tcpproxy import TcpProxy
from tests.waiting import eventually

pytestmark = pytest.mark.faults


def _entries(count: int, *, first: int = 1) -> list[Entry]:
    return [
        Entry(
            guid=f"post-{n}",
            title=f"Question {n} about Acme",
            description=f"How do I rotate keys in Acme cloud? Attempt {n}",
            link=f"https://forum.example.com/q/{n}",
        )
        for n in range(first, first + count)
    ]


def _card_counts(fake_slack: FakeSlack) -> Counter[int]:
    """How many times each mention's card was stored by Slack (each a successful chat.postMessage)."""
    return Counter(card.metadata["event_payload"]["mention_id"] for card in fake_slack.cards() if card.metadata)


def _cards_by_mention(fake_slack: FakeSlack) -> dict[int, Message]:
    return {card.metadata["event_payload"]["mention_id"]: card for card in fake_slack.cards() if card.metadata}


def _sqlite_bot(tmp_path: Path, fake_slack: FakeSlack, feeds: FeedServer, request: pytest.FixtureRequest) -> BotProcess:
    """`allears run` on SQLite with storms off: thirty similar questions at once would become one storm card."""
    bot = BotProcess(
        tmp_path,
        slack_api_url=fake_slack.api_url,
        database_url=f"sqlite:///{tmp_path / 'allears.db'}",
        config=config_toml(feeds.url("/acme.xml"), extra="[storm]\nthreshold = 1000\n"),
    )
    request.addfinalizer(bot.stop)
    return bot


def _mention_count(database_url: str) -> int:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        count = session.exec(select(func.count()).select_from(Mention)).one()
    engine.dispose()
    return count


def test_every_card_update_and_note_arrives_once_through_random_500s_and_a_429_burst(
    tmp_path, fake_slack, feeds, request
):
    """30% of chat calls answer 500 (storing nothing) for the whole run, and every chat.postMessage answers
    429 for 10 s (a shorter burst than the issue's minute: the bot's handling is the same, the suite faster)."""
    bot = _sqlite_bot(tmp_path, fake_slack, feeds, request)
    fake_slack.fail_randomly(0.3, seed=5, methods={"chat.postMessage", "chat.update"})
    feeds.publish("/acme.xml", rss(_entries(30)))
    bot.start()
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, seconds=10)
    eventually(lambda: _mention_count(bot.env["DATABASE_URL"]) == 30, timeout=30, interval=0.1, what="thirty mentions")

    ana, ben = SlackUser("U_ANA", bot.url, fake_slack), SlackUser("U_BEN", bot.url, fake_slack)
    for n in range(1, 11):
        ana.command("/claim", f"M-{n}")
    for n in range(11, 16):
        ben.command("/reply", f"M-{n} Rotate them under Settings, note {n}.")

    fake_slack.wait_for(lambda: len(_card_counts(fake_slack)) == 30, timeout=90, what="all thirty cards")
    fake_slack.heal()

    def final_state() -> bool:
        cards = _cards_by_mention(fake_slack)
        return all("Claimed by <@U_ANA>" in cards[n].all_text() for n in range(1, 11)) and all(
            "Claimed by <@U_BEN>" in cards[n].all_text() and fake_slack.thread(cards[n].channel, cards[n].ts)
            for n in range(11, 16)
        )

    fake_slack.wait_for(final_state, timeout=60, what="every claim and reply on its card")
    wait_until_settled(bot.env["DATABASE_URL"], feeds)  # more polls, an empty outbox: nothing may come twice

    refused = [call.status for call in fake_slack.calls if call.method.startswith("chat.") and call.status != 200]
    assert refused.count(500) >= 10 and refused.count(429) >= 1, "the faults really happened"
    assert _card_counts(fake_slack) == Counter(range(1, 31)), "every card exactly once"
    cards = _cards_by_mention(fake_slack)
    for n in range(16, 31):
        assert "Claimed by" not in cards[n].all_text()
        assert fake_slack.thread(cards[n].channel, cards[n].ts) == []
    for n in range(11, 16):
        notes = fake_slack.thread(cards[n].channel, cards[n].ts)
        assert len(notes) == 1 and f"note {n}." in notes[0].text, "each thread note exactly once"
    for n in range(1, 11):
        assert fake_slack.thread(cards[n].channel, cards[n].ts) == []


def test_kill_9_twenty_times_mid_poll_and_mid_dispatch_loses_nothing(tmp_path, fake_slack, feeds, request):
    """Slack answers slowly so kills land while cards are being sent; the feed grows between kills so
    they land in polls too. A kill after Slack stored a card but before the bot recorded it is the hard
    case: the restarted bot finds that card in the channel instead of posting it again."""
    bot = _sqlite_bot(tmp_path, fake_slack, feeds, request)
    rng = random.Random(int(os.environ.get("FAULTS_SEED", "9")))  # another seed, another schedule of kills
    kills, total = 20, 20
    fake_slack.slow_down(0.1)
    feeds.publish("/acme.xml", rss(_entries(total)))
    for round_ in range(kills):
        bot.start()
        if round_ % 2:  # mid-poll: new items are being read, matched and stored
            total += 3
            feeds.publish("/acme.xml", rss(_entries(total)))
            time.sleep(rng.uniform(0.0, 1.0))
        else:  # mid-dispatch: once a card has gone out, more are on their way
            if len(_card_counts(fake_slack)) == total:  # the bot caught up: give it cards to be sending
                total += 3
                feeds.publish("/acme.xml", rss(_entries(total)))
            sent = len(fake_slack.messages())
            fake_slack.wait_for(lambda sent=sent: len(fake_slack.messages()) > sent, timeout=10, what="a card")
            time.sleep(rng.uniform(0.0, 0.3))
        bot.kill()
    carded_while_killing = set(_card_counts(fake_slack))

    fake_slack.slow_down(0)
    bot.start()
    fake_slack.wait_for(lambda: len(_card_counts(fake_slack)) == total, timeout=60, what="every item's card")
    wait_until_settled(bot.env["DATABASE_URL"], feeds)

    counts = _card_counts(fake_slack)
    assert sorted(counts) == list(range(1, total + 1)), "no mention lost, none heard twice"
    assert _mention_count(bot.env["DATABASE_URL"]) == total
    duplicated = {mention: count - 1 for mention, count in counts.items() if count > 1}
    print(f"kill -9 x{kills}: {total} items, {len(carded_while_killing)} carded while killing, duplicates {duplicated}")
    assert duplicated == {}, "no card posted twice"


@pytest.mark.postgres
def test_the_database_going_away_for_ten_seconds_loses_nothing(tmp_path, fake_slack, feeds, own_postgres_url):
    proxy = TcpProxy("127.0.0.1", 5432)
    url = own_postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    bot = BotProcess(
        tmp_path, slack_api_url=fake_slack.api_url, database_url=url, config=config_toml(feeds.url("/acme.xml"))
    )
    feeds.publish("/acme.xml", rss(_entries(1)))
    try:
        bot.start()
        card = fake_slack.wait_for(lambda: fake_slack.cards(), what="the first card")[0]

        proxy.cut()
        cut_at = time.monotonic()
        feeds.publish("/acme.xml", rss(_entries(4)))
        ana = SlackUser("U_ANA", bot.url, fake_slack)
        try:
            clicked = ana.click("mention_claim", "1", channel=card.channel, message_ts=card.ts).status_code
        except httpx.TimeoutException:
            clicked = None
        health = httpx.get(bot.url + "/healthz", timeout=15)
        assert health.status_code == 503 and health.json()["database"] == "unreachable"
        time.sleep(max(0.0, 10 - (time.monotonic() - cut_at)))
        assert httpx.get(bot.url + "/healthz", timeout=15).status_code == 503
        proxy.restore()

        fake_slack.wait_for(lambda: httpx.get(bot.url + "/healthz", timeout=10).status_code == 200, what="recovery")
        fake_slack.wait_for(lambda: len(_card_counts(fake_slack)) == 4, timeout=30, what="the new items' cards")

        answers = fake_slack.responses(ana.last_response_key) + fake_slack.responses("ephemeral:U_ANA")
        claimed = "Claimed by <@U_ANA>" in card.all_text()
        print(f"click during the outage: HTTP {clicked}, claimed={claimed}, answers={answers}")
        assert claimed or any("Try again" in answer.get("text", "") for answer in answers), "took, or Ana was told"
        if not claimed:  # told it failed: clicking again once the database is back works
            ana.click("mention_claim", "1", channel=card.channel, message_ts=card.ts)
            fake_slack.wait_for(lambda: "Claimed by <@U_ANA>" in card.all_text(), what="the retried claim")
        wait_until_settled(own_postgres_url, feeds)
        assert _card_counts(fake_slack) == Counter(range(1, 5))
    finally:
        bot.stop()
        proxy.close()


class _Resetter:
    """A server that accepts each connection and resets it at once (RST, not a clean close)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._serve, name="resetter", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/feed.xml"

    def close(self) -> None:
        self._listener.close()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            connection.recv(1024)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()


def _rss_source(name: str, url: str) -> str:
    return f'\n[[sources]]\nkind = "rss"\nname = "{name}"\nurl = "{url}"\nevery = "1s"\n'


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


def test_hanging_resetting_and_flooding_sources_are_bounded_and_reported(tmp_path, fake_slack, feeds, api):
    resetter = _Resetter()
    api.answer("/hangs.xml", rss(_entries(1)), content_type="application/rss+xml", delay=120)
    garbage = random.Random(10).randbytes(10 * 1024 * 1024)
    api.answer("/garbage.xml", garbage, content_type="application/rss+xml")
    extra = (
        _rss_source("hangs", api.url("/hangs.xml"))
        + _rss_source("resets", resetter.url)
        + _rss_source("garbage", api.url("/garbage.xml"))
    )
    bot = BotProcess(
        tmp_path,
        slack_api_url=fake_slack.api_url,
        database_url=f"sqlite:///{tmp_path / 'allears.db'}",
        config=config_toml(feeds.url("/acme.xml"), extra=extra),
    )
    feeds.publish("/acme.xml", rss(_entries(1)))
    try:
        started = time.monotonic()
        bot.start()
        assert bot.pid is not None
        fake_slack.wait_for(lambda: len(fake_slack.cards()) == 1, timeout=5, what="the healthy feed's first card")

        peak = 0
        for n in range(2, 5):  # the healthy feed keeps flowing while the hanging fetch is in flight
            feeds.publish("/acme.xml", rss(_entries(n)))
            published = time.monotonic()
            fake_slack.wait_for(lambda n=n: len(fake_slack.cards()) == n, timeout=5, what=f"card {n}")
            assert time.monotonic() - published < 5
            peak = max(peak, _rss_kib(bot.pid))

        ana = SlackUser("U_ANA", bot.url, fake_slack)

        def failing_sources() -> set[str]:
            ana.command("/allears", "sources")
            answer = fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="/allears sources")
            lines = [block["elements"][0]["text"] for block in answer[0]["blocks"] if block["type"] == "context"]
            return {
                name
                for name in ("hangs", "resets", "garbage")
                for line in lines
                if f"*{name}*" in line and "failing" in line
            }

        while failing_sources() != {"hangs", "resets", "garbage"}:
            peak = max(peak, _rss_kib(bot.pid))
            assert time.monotonic() - started < 40, "each bad source's poll ends within the 30 s bound"
            time.sleep(1)
        reported_after = time.monotonic() - started
        settled = _rss_kib(bot.pid)  # the bot's own start-up growth is over by now (it settles near 210 MB here)
        flood_failed = "source garbage: sent more than 5 MB"
        floods = bot.logs().count(flood_failed)

        ana.command("/allears", "sources")
        text = str(fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="sources")[0])
        assert "more than 5 MB" in text
        feeds.publish("/acme.xml", rss(_entries(5)))
        fake_slack.wait_for(lambda: len(fake_slack.cards()) == 5, timeout=5, what="card 5 after the failures")
        # More failed polls of the flood since `settled` (it backs off, so the next may be seconds away).
        fake_slack.wait_for(lambda: bot.logs().count(flood_failed) > floods, timeout=40, what="a poll of the flood")
        final = _rss_kib(bot.pid)
        peak = max(peak, final)
        print(f"bad sources failing after {reported_after:.1f} s; RSS {settled // 1024} -> {final // 1024} MB")
        assert peak < 300 * 1024, f"RSS {peak // 1024} MB"
        assert final - settled < 32 * 1024, "each poll of the flood reads at most 5 MB and keeps none of it"
    finally:
        bot.stop()
        resetter.close()


def test_kill_9_after_slack_took_a_card_but_before_the_bot_heard_back_posts_it_once(
    tmp_path, fake_slack, feeds, request
):
    """Slack stores the card but holds its answer; the bot is killed in that window. The restarted bot finds
    the card in the channel by the outbox id it carries and adopts it: one card, and the mention points at it."""
    bot = _sqlite_bot(tmp_path, fake_slack, feeds, request)
    fake_slack.accept_then_drop("chat.postMessage", stall=5)
    feeds.publish("/acme.xml", rss(_entries(1)))
    bot.start()
    [card] = fake_slack.wait_for(lambda: fake_slack.cards(), what="Slack to take the card")
    bot.kill()
    engine = make_engine(bot.env["DATABASE_URL"])
    request.addfinalizer(engine.dispose)

    bot.start()  # on SQLite it is the only process, so it need not wait out the killed one's lease

    def card_settled() -> bool:
        with session_scope(engine) as session:
            return session.exec(select(Outbox.status).where(Outbox.kind == "card")).one() == OutboxStatus.SENT

    fake_slack.wait_for(card_settled, what="the card's row to be settled")
    assert fake_slack.calls_to("conversations.history"), "it looked before posting again"
    with session_scope(engine) as session:
        assert session.exec(select(Mention.card_ts)).one() == card.ts
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    ana.command("/claim", "M-1")
    fake_slack.wait_for(lambda: "Claimed by <@U_ANA>" in card.all_text(), what="the claim on the one card")
    wait_until_settled(bot.env["DATABASE_URL"], feeds)  # more polls, an empty outbox: nothing may come twice
    assert _card_counts(fake_slack) == Counter({1: 1})
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
