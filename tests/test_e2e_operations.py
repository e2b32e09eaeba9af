"""End-to-end: what an operator sees: health checks, start-up checks, the CLI, and /allears."""

import subprocess
import sys

import httpx
import pytest

from bot.app.standin.users import SlackUser
from tests.botprocess import BotProcess, config_toml
from tests.feedserver import Entry, rss
from tests.tcpproxy import TcpProxy

QUESTION = Entry(
    guid="q-1",
    title="Acme cloud question",
    description="How do I export my Acme data?",
    link="https://forum.example.com/q/1",
)


@pytest.mark.postgres
def test_healthz_reports_503_while_the_database_is_away_and_recovers(tmp_path, fake_slack, feeds, own_postgres_url):
    proxy = TcpProxy("127.0.0.1", 5432)
    url = own_postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    bot = BotProcess(
        tmp_path, slack_api_url=fake_slack.api_url, database_url=url, config=config_toml(feeds.url("/acme.xml"))
    )
    feeds.publish("/acme.xml", rss([QUESTION]))
    try:
        bot.start()
        health = httpx.get(bot.url + "/healthz", timeout=10)
        assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}

        proxy.cut()
        health = httpx.get(bot.url + "/healthz", timeout=15)
        assert health.status_code == 503 and health.json()["database"] == "unreachable"

        proxy.restore()
        fake_slack.wait_for(lambda: httpx.get(bot.url + "/healthz", timeout=10).status_code == 200, what="recovery")
    finally:
        bot.stop()
        proxy.close()


def test_a_wrong_config_stops_start_up_naming_the_key(tmp_path, fake_slack, feeds):
    bad = (
        config_toml(feeds.url("/acme.xml"))
        .replace('default = "C0LISTEN"', 'default = "#listening"')
        .replace('every = "1s"', 'every = "soon"')
    )
    bot = BotProcess(
        tmp_path, slack_api_url=fake_slack.api_url, database_url=f"sqlite:///{tmp_path / 'a.db'}", config=bad
    )
    result = bot.cli("run", timeout=30)
    assert result.returncode == 2
    assert "channels.default" in result.stderr and "is not a Slack channel ID" in result.stderr
    assert "sources[0].every" in result.stderr

    bot.env.pop("SLACK_SIGNING_SECRET")
    bot.env["SLACK_SIGNING_SECRET"] = ""
    (tmp_path / "allears.toml").write_text(config_toml(feeds.url("/acme.xml")))
    result = bot.cli("run", timeout=30)
    assert result.returncode == 2 and "SLACK_SIGNING_SECRET is not set" in result.stderr


def test_db_upgrade_then_poll_once_posts_the_cards(tmp_path, fake_slack, feeds):
    bot = BotProcess(
        tmp_path,
        slack_api_url=fake_slack.api_url,
        database_url=f"sqlite:///{tmp_path / 'a.db'}",
        config=config_toml(feeds.url("/acme.xml")),
    )
    feeds.publish("/acme.xml", rss([QUESTION]))

    not_migrated = bot.cli("poll", "--once")
    assert not_migrated.returncode == 2 and "allears db upgrade" in not_migrated.stderr

    assert bot.cli("db", "upgrade").returncode == 0
    polled = bot.cli("poll", "--once")
    assert polled.returncode == 0, polled.stderr
    assert "acme-alerts: 1 item(s), 1 matched, 1 new (ok)" in polled.stdout
    assert "posted 1 message(s)" in polled.stdout
    assert len(fake_slack.cards("C0LISTEN")) == 1

    again = bot.cli("poll", "--once")
    assert "0 new" in again.stdout and len(fake_slack.cards()) == 1

    feeds.publish("/acme.xml", b"<rss><channel><item><title>broken")
    (tmp_path / "allears.toml").write_text(config_toml(feeds.url("/missing.xml")))
    failed = bot.cli("poll", "--once")
    assert failed.returncode == 1 and "HTTP 404" in failed.stdout


def test_the_release_steps_commands_load_neither_slack_nor_the_web_server():
    """`allears db upgrade` and `allears export` run in a deploy's release step and from cron: the Slack SDK,
    Bolt, Flask, the scheduler and the sources are for the commands that serve, and load only when one runs."""
    code = "import sys, bot.app.cli; print(sorted(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for serving_only in ("slack_sdk", "slack_bolt", "flask", "waitress", "apscheduler", "feedparser", "textblob"):
        assert f"'{serving_only}'" not in loaded, serving_only


def test_allears_help_queue_and_stats(bot, feeds, fake_slack):
    second = Entry(
        guid="q-2",
        title="Another Acme question",
        description="Does Acme support SSO?",
        link="https://forum.example.com/q/2",
    )
    feeds.publish("/acme.xml", rss([QUESTION, second]))
    bot.start()
    fake_slack.wait_for(lambda: len(fake_slack.cards()) == 2, what="two cards")
    ana = SlackUser("U_ANA", bot.url, fake_slack)

    def ask(text: str) -> dict:
        ana.command("/allears", text)
        return fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what=f"/allears {text}")[0]

    help_text = ask("help")["text"]
    for command in (
        "/claim",
        "/unclaim",
        "/reply",
        "/escalate",
        "/resolve",
        "/reopen",
        "/allears queue",
        "/allears stats",
    ):
        assert command in help_text
    assert "`support`" in help_text and "`no-action`" in help_text
    assert "I don't know `/allears frobnicate`" in ask("frobnicate")["text"]

    ana.command("/claim", "M-2")
    fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="claim")
    queue = str(ask("queue")["blocks"])
    assert "Yours, open (1)" in queue and "Unclaimed (1)" in queue
    assert queue.index("M-2") < queue.index("Unclaimed") < queue.index("M-1")

    stats = str(ask("stats")["blocks"])
    assert "Mentions heard:* 2" in stats and "Claimed:* 1" in stats and "(so far)" in stats
    assert "*1* relevant (claimed, answered, escalated, fixed or feedback), *0* not" in stats
    assert "the relevance model starts scoring at 30 of each" in stats


def test_socket_mode_receives_a_slash_command_without_a_public_url(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([QUESTION]))
    bot.env["SLACK_APP_TOKEN"] = "xapp-1-test"
    bot.start()
    fake_slack.wait_for(lambda: fake_slack.socket_mode.connected, what="the Socket Mode connection")
    fake_slack.wait_for(lambda: fake_slack.cards(), what="the card")

    command = {
        "command": "/claim",
        "text": "M-1",
        "user_id": "U_ANA",
        "user_name": "ana",
        "channel_id": "C0LISTEN",
        "team_id": "T0TEST",
        "response_url": fake_slack.response_url("socket-ana"),
        "trigger_id": "t-1",
    }
    envelope = fake_slack.socket_mode.send("slash_commands", command)
    assert fake_slack.wait_for(lambda: fake_slack.socket_mode.ack(envelope), what="the ack")["envelope_id"] == envelope
    answer = fake_slack.wait_for(lambda: fake_slack.responses("socket-ana"), what="the answer")[0]
    assert "You claimed M-1" in answer["text"]


@pytest.mark.postgres
def test_web_and_worker_run_apart_on_postgres(tmp_path, fake_slack, feeds, own_postgres_url):
    """The Procfile's shape: release migrates, the worker polls and posts, the web process takes clicks."""
    config = config_toml(feeds.url("/acme.xml"))
    web = BotProcess(tmp_path / "web", slack_api_url=fake_slack.api_url, database_url=own_postgres_url, config=config)
    worker = BotProcess(
        tmp_path / "worker", slack_api_url=fake_slack.api_url, database_url=own_postgres_url, config=config
    )
    feeds.publish("/acme.xml", rss([QUESTION]))
    try:
        assert "allears db upgrade" in web.cli("serve", timeout=30).stderr, "serve refuses an unmigrated database"
        assert web.cli("db", "upgrade").returncode == 0
        worker.start("worker")
        card = fake_slack.wait_for(lambda: fake_slack.cards("C0LISTEN"), what="the worker to post the card")[0]
        web.start("serve")
        ana = SlackUser("U_ANA", web.url, fake_slack)
        ana.click("mention_claim", "1", channel="C0LISTEN", message_ts=card.ts)
        fake_slack.wait_for(lambda: "Claimed by <@U_ANA>" in card.all_text(), what="the card to show Ana")
        assert len(fake_slack.cards()) == 1
    finally:
        web.stop()
        worker.stop()
