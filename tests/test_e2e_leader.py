"""End-to-end: workers on one PostgreSQL elect one leader, which a follower replaces when it is killed;
on SQLite a second long-running process refuses to start."""

import re
import time

import pytest

from tests.botprocess import BotProcess, config_toml, wait_until_settled
from tests.feedserver import Entry, rss

FIRST = Entry(guid="q-1", title="Acme cloud question", description="How do I export my Acme data?", link="https://f/1")
SECOND = Entry(guid="q-2", title="Acme cloud and SSO", description="Does Acme support SAML?", link="https://f/2")
FAILOVER_SECONDS = 30


@pytest.mark.postgres
@pytest.mark.parametrize("leader", ["worker", "run"])
def test_a_follower_takes_over_within_30s_when_the_leader_is_killed(
    leader, tmp_path, fake_slack, feeds, own_postgres_url
):
    """`allears run` stands for election too; either way a worker replaces it."""
    # Each worker reads the same source from its own address, so the feed server tells who polls.
    workers = {
        name: BotProcess(
            tmp_path / name,
            slack_api_url=fake_slack.api_url,
            database_url=own_postgres_url,
            config=config_toml(feeds.url(f"/{name}.xml")),
        )
        for name in ("one", "two")
    }
    one, two = workers["one"], workers["two"]
    for name in workers:
        feeds.publish(f"/{name}.xml", rss([FIRST]))
    try:
        assert one.cli("db", "upgrade").returncode == 0
        one.start(leader)
        fake_slack.wait_for(lambda: "leading: running the scheduler" in one.logs(), what="the first to lead")
        two.start("worker")
        fake_slack.wait_for(lambda: "following: another worker leads" in two.logs(), what="the second to follow")
        fake_slack.wait_for(lambda: fake_slack.cards(), what="the first card")
        read = feeds.polls("/one.xml")
        fake_slack.wait_for(lambda: feeds.polls("/one.xml") >= read + 3, what="three more polls by the leader")
        assert feeds.polls("/one.xml") >= 3 and feeds.polls("/two.xml") == 0, "only the leader polls"

        one.kill()
        killed = time.monotonic()
        for name in workers:
            feeds.publish(f"/{name}.xml", rss([FIRST, SECOND]))
        fake_slack.wait_for(lambda: len(fake_slack.cards()) == 2, timeout=FAILOVER_SECONDS, what="the follower's card")
        failover = time.monotonic() - killed
        print(f"failover: the new card arrived {failover:.1f}s after the leader was killed")
        assert "took over as leader" in two.logs()
        wait_until_settled(own_postgres_url, feeds, "/two.xml")  # more polls by the new leader, the outbox drained
        cards = fake_slack.cards()
        assert len(cards) == 2 and len({card.text for card in cards}) == 2, "no card twice"
        assert feeds.polls("/two.xml") >= 2
    finally:
        for worker in workers.values():
            worker.stop()
    logs = one.logs() + two.logs()
    assert "Traceback" not in logs, logs
    assert len(re.findall("took over as leader", logs)) == 1


def test_with_sqlite_a_second_process_refuses_to_start(bot, feeds):
    feeds.publish("/acme.xml", rss([]))
    bot.start()
    for command in ("run", "worker", "serve"):
        refused = bot.cli(command, timeout=30)
        assert refused.returncode == 2, refused.stderr
        assert "another All Ears process is using" in refused.stderr
        assert "with SQLite run a single `allears run`, or use PostgreSQL to run several" in refused.stderr
    assert bot.cli("poll", "--once").returncode == 0, "a one-off command still runs beside it"
    bot.stop()
    assert "database is up to date" in bot.cli("db", "upgrade").stdout
