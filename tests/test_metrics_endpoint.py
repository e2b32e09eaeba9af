"""GET /metrics: what a Prometheus scrape of a real `allears run` shows after real work, and after failures."""

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, update

from bot.app.standin.ports import free_port
from bot.app.standin.users import SlackUser
from bot.ground import migrate
from bot.ground.db import make_engine, session_scope
from bot.ground.models import Outbox
from bot.ground.prometheus import OutboxCollector
from tests.apiserver import ApiServer
from tests.botprocess import BotProcess, config_toml
from tests.factories import store_mention
from tests.feedserver import Entry, rss

QUESTION = Entry(
    guid="q-1",
    title="Acme cloud question",
    description="How do I export my Acme data?",
    link="https://forum.example.com/q/1",
)


class Scrape:
    """One scrape, parsed as Prometheus parses it."""

    def __init__(self, url: str, *, content_type: str = "text/plain; version=0.0.4") -> None:
        answer = httpx.get(url + "/metrics", timeout=10)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith(content_type)
        self.samples = [sample for family in text_string_to_metric_families(answer.text) for sample in family.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples named `name` whose labels include `labels` (0 when none)."""
        return sum(
            s.value for s in self.samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def labels(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name and label in s.labels}


def _scrape_when(bot: BotProcess, fake_slack, condition, what: str) -> Scrape:
    return fake_slack.wait_for(lambda: (s := Scrape(bot.url)) and condition(s) and s, what=what)


def test_a_posted_card_and_an_acked_claim_show_in_the_metrics(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([QUESTION]))
    bot.start()
    card = fake_slack.wait_for(lambda: fake_slack.cards("C0LISTEN"), what="the card")[0]
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    ana.command("/claim", "M-1")
    fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="the claim's answer")
    fake_slack.wait_for(lambda: "Claimed by <@U_ANA>" in card.all_text(), what="the card to show Ana")

    scrape = _scrape_when(
        bot, fake_slack, lambda s: s.value("allears_outbox_pending") == 0, what="the outbox to drain in the metrics"
    )
    assert scrape.value("allears_mentions_ingested_total", source="acme-alerts") == 1
    assert scrape.value("allears_messages_posted_total", kind="card") == 1
    assert scrape.value("allears_messages_posted_total", kind="card_refresh") >= 1
    assert scrape.value("allears_slack_calls_total", method="chat.postMessage", outcome="ok") >= 1
    assert scrape.value("allears_slack_calls_total", method="chat.update", outcome="ok") >= 1
    buckets = [s for s in scrape.samples if s.name == "allears_slack_call_seconds_bucket"]
    assert {s.labels["method"] for s in buckets} >= {"chat.postMessage", "chat.update"}
    assert scrape.value("allears_slack_call_seconds_count", method="chat.postMessage") >= 1
    assert scrape.value("allears_ack_seconds_count", kind="command") >= 1
    assert scrape.value("allears_ack_seconds_bucket", kind="command", le="+Inf") >= 1
    assert scrape.value("allears_database_up") == 1
    assert scrape.value("allears_outbox_oldest_pending_seconds") == 0
    assert scrape.value("allears_outbox_rows", status="failed") == 0
    assert scrape.value("allears_source_errors_total") == 0


def test_failed_slack_calls_and_a_failing_source_are_counted(tmp_path, feeds, fake_slack):
    broken = ApiServer().start()
    broken.answer("/broken.xml", "upstream is down", status=500, content_type="text/plain")
    extra = f'[[sources]]\nkind = "rss"\nname = "broken"\nurl = "{broken.url("/broken.xml")}"\nevery = "1s"\n'
    bot = BotProcess(
        tmp_path,
        slack_api_url=fake_slack.api_url,
        database_url=f"sqlite:///{tmp_path / 'allears.db'}",
        config=config_toml(feeds.url("/acme.xml"), extra=extra),
    )
    feeds.publish("/acme.xml", rss([QUESTION]))
    fake_slack.fail("chat.postMessage", status=500, times=1)
    fake_slack.fail("chat.postMessage", status=200, error="not_in_channel", times=1)
    try:
        bot.start()
        fake_slack.wait_for(lambda: fake_slack.cards("C0LISTEN"), timeout=30, what="the card, after two failures")
        scrape = _scrape_when(
            bot, fake_slack, lambda s: s.value("allears_outbox_pending") == 0, what="the outbox to drain"
        )
        assert scrape.value("allears_slack_calls_total", method="chat.postMessage", outcome="internal_error") == 1
        assert scrape.value("allears_slack_calls_total", method="chat.postMessage", outcome="not_in_channel") == 1
        assert scrape.value("allears_slack_calls_total", method="chat.postMessage", outcome="ok") == 1
        assert scrape.value("allears_slack_call_seconds_count", method="chat.postMessage") == 3
        assert scrape.value("allears_messages_posted_total", kind="card") == 1
        assert scrape.value("allears_source_errors_total", source="broken") >= 1
        assert scrape.value("allears_source_errors_total", source="acme-alerts") == 0
        assert scrape.value("allears_mentions_ingested_total", source="acme-alerts") == 1
    finally:
        bot.stop()
        broken.stop()


def test_the_worker_serves_its_own_metrics_on_metrics_port(bot, feeds, fake_slack):
    port = free_port()
    bot.env["METRICS_PORT"] = str(port)
    feeds.publish("/acme.xml", rss([QUESTION]))
    assert bot.cli("db", "upgrade").returncode == 0  # the worker, unlike `run`, does not migrate
    bot.start("worker")
    fake_slack.wait_for(lambda: fake_slack.cards("C0LISTEN"), what="the worker to post the card")

    def scrape() -> Scrape | None:
        try:
            return Scrape(f"http://127.0.0.1:{port}", content_type="text/plain")
        except httpx.HTTPError:
            return None  # not listening yet

    scraped = fake_slack.wait_for(
        lambda: (s := scrape()) and s.value("allears_messages_posted_total", kind="card") == 1 and s,
        what="the worker's metrics",
    )
    assert scraped.value("allears_mentions_ingested_total", source="acme-alerts") == 1
    assert scraped.value("allears_database_up") == 1


def test_the_outbox_gauges_never_fail_a_scrape_when_the_database_is_away(tmp_path: Path):
    missing = create_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'allears.db'}")
    families = {family.name: family for family in OutboxCollector(missing).collect()}
    assert [sample.value for sample in families["allears_database_up"].samples] == [0]
    assert "allears_outbox_pending" not in families


def test_the_outbox_gauges_count_what_waits_and_since_when(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'allears.db'}")
    migrate.upgrade(engine)
    mention_id = store_mention(engine)  # its card is queued with it
    with session_scope(engine) as session:
        session.add(Outbox(kind="card_refresh", mention_id=mention_id, channel="C0LISTEN", status="sending"))
        session.add(Outbox(kind="thread_note", mention_id=mention_id, channel="C0LISTEN", status="failed"))
        session.add(Outbox(kind="card_refresh", mention_id=mention_id, channel="C0LISTEN", status="sent"))
    families = {family.name: family for family in OutboxCollector(engine).collect()}
    assert [s.value for s in families["allears_database_up"].samples] == [1]
    assert [s.value for s in families["allears_outbox_pending"].samples] == [2]
    rows = {s.labels["status"]: s.value for s in families["allears_outbox_rows"].samples}
    assert rows == {"pending": 1, "sending": 1, "failed": 1}
    assert families["allears_outbox_oldest_pending_seconds"].samples[0].value > 0

    with session_scope(engine) as session:
        session.execute(update(Outbox).values(status="sent"))
    families = {family.name: family for family in OutboxCollector(engine).collect()}
    assert [s.value for s in families["allears_outbox_pending"].samples] == [0]
    assert families["allears_outbox_oldest_pending_seconds"].samples[0].value == 0


def test_the_calls_a_slash_command_and_the_home_tab_make_are_counted_by_method(bot, feeds, fake_slack):
    """Not only the outbox: every Web API call of the bot's goes through one metered client."""
    feeds.publish("/acme.xml", rss([QUESTION]))
    bot.start()
    fake_slack.wait_for(lambda: fake_slack.cards("C0LISTEN"), what="the card")
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    ana.command("/claim", "M-1")
    fake_slack.wait_for(lambda: fake_slack.home("U_ANA"), what="Ana's Home, redrawn after her claim")
    ana.open_home()
    fake_slack.wait_for(lambda: fake_slack.homes_published("U_ANA") == 2, what="the Home she opened")

    made = {call.method for call in fake_slack.calls} - {"response_url"}
    assert {"users.conversations", "views.publish"} <= made
    scrape = _scrape_when(
        bot, fake_slack, lambda s: s.value("allears_slack_calls_total", method="views.publish") == 2, what="views"
    )
    for method in made:
        made_here = sum(call.method == method for call in fake_slack.calls)
        assert scrape.value("allears_slack_calls_total", method=method) == made_here, method
        assert scrape.value("allears_slack_call_seconds_count", method=method) == made_here, method
