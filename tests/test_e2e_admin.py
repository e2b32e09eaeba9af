"""End-to-end: admins pause, resume and export from Slack; a logged link is read only when it is safe."""

import csv
import io

from bot.app.standin.slack import BOT_TOKEN, im_channel
from bot.app.standin.users import SlackUser
from tests.botprocess import BotProcess, config_toml
from tests.feedserver import Entry, rss

QUESTION = Entry(
    guid="q-1",
    title="Acme cloud question",
    description="How do I export my Acme data?",
    link="https://forum.example.com/q/1",
)
SECOND = Entry(
    guid="q-2",
    title="Another Acme question",
    description="Does Acme support SSO?",
    link="https://forum.example.com/q/2",
)
ADMINS = '[admins]\nusers = ["U0ANA"]\nfetch_hosts = ["127.0.0.1"]\n'
REVIEW = """<html><head><title>Acme review: slow support</title>
<meta name="description" content="A customer says Acme support took a week to answer."></head><body></body></html>"""


def start_bot(tmp_path, fake_slack, feeds) -> BotProcess:
    bot = BotProcess(
        tmp_path,
        slack_api_url=fake_slack.api_url,
        database_url=f"sqlite:///{tmp_path / 'allears.db'}",
        config=config_toml(feeds.url("/acme.xml"), extra=ADMINS),
    )
    return bot.start()


def asker(fake_slack):
    def ask(user: SlackUser, text: str) -> dict:
        user.command("/allears", text)
        return fake_slack.wait_for(lambda: fake_slack.responses(user.last_response_key), what=f"/allears {text}")[0]

    return ask


def test_ana_pauses_a_source_ben_is_refused_ana_resumes_it_and_exports_the_mentions(tmp_path, fake_slack, feeds):
    feeds.publish("/acme.xml", rss([QUESTION]))
    bot = start_bot(tmp_path, fake_slack, feeds)
    try:
        fake_slack.wait_for(lambda: len(fake_slack.cards()) == 1, what="the first card")
        ana, ben = SlackUser("U0ANA", bot.url, fake_slack), SlackUser("U0BEN", bot.url, fake_slack)
        ask = asker(fake_slack)

        paused = ask(ana, "pause ACME-alerts")["text"]
        assert paused.startswith("Paused *acme-alerts*: it is not polled until `/allears resume acme-alerts`.")
        # The source's job runs on at its interval and skips the fetch: one run finishes after the pause (so a
        # poll already under way when she paused has finished), then three more come without a request.
        runs = bot.jobs_run("poll acme-alerts")
        fake_slack.wait_for(lambda: bot.jobs_run("poll acme-alerts") > runs, what="a run of the poll since the pause")
        polls, runs = len(feeds.requests), bot.jobs_run("poll acme-alerts")
        feeds.publish("/acme.xml", rss([QUESTION, SECOND]))
        fake_slack.wait_for(lambda: bot.jobs_run("poll acme-alerts") >= runs + 3, what="three runs of the paused poll")
        assert len(feeds.requests) == polls and len(fake_slack.cards()) == 1
        sources = str(ask(ana, "sources")["blocks"])
        assert ":double_vertical_bar: paused" in sources and "paused by <@U0ANA> since" in sources
        assert "There is no source `blog`. Sources: `acme-alerts`." in ask(ana, "pause blog")["text"]

        refused = ask(ben, "resume acme-alerts")["text"]
        assert refused == (
            "Only All Ears admins can resume a source; admins are listed in `[admins] users` in allears.toml."
        )
        [logged] = [line for line in bot.logs().splitlines() if "refused /allears resume" in line]
        assert "WARNING" in logged and "U0BEN" in logged and BOT_TOKEN not in logged
        assert len(fake_slack.cards()) == 1, "Ben's refusal resumed nothing"

        assert (
            ask(ana, "resume acme-alerts")["text"] == "Resumed *acme-alerts*: it is polled again at its next interval."
        )
        fake_slack.wait_for(lambda: len(fake_slack.cards()) == 2, what="the card of the post published while paused")

        assert "Only All Ears admins can export mentions" in ask(ben, "export")["text"]
        sent = ask(ana, "export 2026-01-01")["text"]
        assert sent.startswith("Sent 2 mention(s) as `allears-mentions-") and "in a direct message" in sent
        [upload] = [upload for upload in fake_slack.uploads if upload.channel == im_channel("U0ANA")]
        assert upload.filename.endswith(".csv") and upload.initial_comment.startswith(
            "2 mention(s) heard from 2026-01-01"
        )
        rows = list(csv.DictReader(io.StringIO(upload.data.decode())))
        assert [(row["reference"], row["text"]) for row in rows] == [
            ("M-1", "How do I export my Acme data?"),
            ("M-2", "Does Acme support SSO?"),
        ]
        assert not [upload for upload in fake_slack.uploads if upload.channel == im_channel("U0BEN")]
        assert "is not a date" in ask(ana, "export yesterday")["text"]
    finally:
        bot.stop()


def test_a_logged_link_is_read_only_from_a_public_host_or_one_an_admin_listed(tmp_path, fake_slack, feeds, api):
    """The bot runs next to things a link must not reach: 127.0.0.1 is read only because it is listed."""
    feeds.publish("/acme.xml", rss([]))
    api.answer("/review", REVIEW, content_type="text/html; charset=utf-8")
    bot = start_bot(tmp_path, fake_slack, feeds)
    try:
        sam = SlackUser("U0SAM", bot.url, fake_slack)
        ask = asker(fake_slack)

        read = ask(sam, f"log <{api.url('/review')}>")["text"]
        assert read == (
            "Logged as M-1; its card is on its way to the listening channel. "
            "Its text is from the page “Acme review: slow support”."
        )
        card = fake_slack.wait_for(lambda: fake_slack.cards(), what="the card")[0]
        assert "Acme review: slow support" in card.all_text() and "took a week to answer" in card.all_text()

        inside = api.url("/review").replace("127.0.0.1", "localhost")
        refused = ask(sam, f"log <{inside}>")["text"]
        assert refused.startswith(
            "Logged as M-2; its card is on its way to the listening channel. Its page was not read:"
        )
        assert "localhost resolves to a loopback address" in refused and refused.endswith("The mention keeps the link.")
        second = fake_slack.wait_for(lambda: fake_slack.cards()[1:], what="the second card")[0]
        assert inside in second.all_text()
        assert len(api.requests_to("/review")) == 1, "the refused link was never requested"
    finally:
        bot.stop()
