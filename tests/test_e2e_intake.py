"""End-to-end: mentions nobody polls for (the webhook, forwarding from Slack) and source health."""

import time
from pathlib import Path

import httpx
import pytest

from bot.app.standin.users import WEBHOOK_SECRET, SlackUser, post_to_webhook, typed
from tests.apiserver import ApiServer
from tests.botprocess import BotProcess, config_toml, wait_until_settled
from tests.feedserver import Entry, rss


def test_the_webhook_takes_signed_mentions_and_refuses_everything_else(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([]))
    bot.env["ALLEARS_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    bot.start()
    zendesk = {
        "source": "zendesk",
        "id": "ticket-981",
        "text": "My Acme invoice is wrong for the third month <!channel>",
        "url": "https://acme.zendesk.com/tickets/981",
        "author": "Pat Customer",
        "timestamp": int(time.time()),
    }

    created = post_to_webhook(bot.url, zendesk)
    assert created.status_code == 201 and created.json() == {"ok": True, "mention": "M-1"}
    card = fake_slack.wait_for(lambda: fake_slack.cards(), what="the webhook mention's card")[0]
    assert "zendesk" in card.all_text() and "Pat Customer" in card.all_text()
    assert "&lt;!channel&gt;" in card.all_text() and "<!channel>" not in card.all_text()

    replayed = post_to_webhook(bot.url, zendesk)
    assert replayed.status_code == 409 and "replay" in replayed.json()["error"]
    forged = post_to_webhook(bot.url, {**zendesk, "id": "ticket-982"}, secret="guessed")
    assert forged.status_code == 401
    stale = post_to_webhook(bot.url, {**zendesk, "id": "ticket-983", "timestamp": int(time.time()) - 3600})
    assert stale.status_code == 400 and "stale" in stale.json()["error"]
    not_json = post_to_webhook(bot.url, b"text=hello")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]
    no_text = post_to_webhook(bot.url, {"source": "zendesk", "id": "x"})
    assert no_text.status_code == 400 and no_text.json()["error"] == "text is required"
    huge = post_to_webhook(bot.url, {"text": "a" * 70_000})
    assert huge.status_code == 413
    unsigned = httpx.post(bot.url + "/hooks/mentions", content=b"{}", timeout=10)
    assert unsigned.status_code == 401

    # Each answer came once the request's work was stored; a card of a refused request would be in the outbox.
    wait_until_settled(bot.env["DATABASE_URL"], feeds, polls=0)
    assert len(fake_slack.cards()) == 1, "nothing refused made a card"


def test_a_colleague_logs_a_slack_message_and_a_call_note(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([]))
    bot.start()
    sam = SlackUser("U_SAM", bot.url, fake_slack)

    message = {
        "text": "Customer on the call: Acme exports are painfully slow",
        "user": "U_SAM",
        "ts": "1700000000.000100",
    }
    sam.shortcut("log_mention", channel="C0SALES", message=message)
    answer = fake_slack.wait_for(lambda: fake_slack.responses(sam.last_response_key), what="the confirmation")[0]
    assert answer["text"].startswith("Logged as M-1")
    card = fake_slack.wait_for(lambda: fake_slack.cards(), what="the forwarded card")[0]
    assert "painfully slow" in card.all_text() and "forwarded by <@U_SAM>" in card.all_text()

    sam.shortcut("log_mention", channel="C0SALES", message=message)
    again = fake_slack.wait_for(lambda: fake_slack.responses(sam.last_response_key), what="the second answer")[0]
    assert again["text"] == "That was already logged as M-1."

    sam.command("/allears", "log <https://example.com/review/7|review> Says Acme support never called back")
    logged = fake_slack.wait_for(lambda: fake_slack.responses(sam.last_response_key), what="the log answer")[0]
    assert logged["text"].startswith("Logged as M-2")
    second = fake_slack.wait_for(lambda: len(fake_slack.cards()) == 2 and fake_slack.cards()[1], what="card 2")
    assert "https://example.com/review/7" in second.all_text() and "never called back" in second.all_text()

    sam.command("/allears", "log")
    assert (
        "Nothing to log"
        in fake_slack.wait_for(lambda: fake_slack.responses(sam.last_response_key), what="x")[0]["text"]
    )


def test_allears_sources_shows_each_sources_health(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([Entry(guid="1", title="Acme", description="Acme rocks", link="https://e.com/1")]))
    bot.start()
    fake_slack.wait_for(lambda: fake_slack.cards(), what="the card")
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    ana.command("/allears", "sources")
    blocks = str(fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="health")[0]["blocks"])
    assert "acme-alerts" in blocks and "ok" in blocks and "next poll" in blocks
    assert "1 mentions heard, 1 items in its last poll" in blocks


def test_ana_replies_from_slack_and_the_reply_is_posted_on_mastodon(tmp_path, fake_slack, feeds):
    api = ApiServer().start()
    status = {
        "id": "7",
        "url": "https://social.example/@pat/7",
        "content": "<p>Acme lost my files again</p>",
        "created_at": "2026-11-25T09:00:00Z",
        "account": {"acct": "pat@social.example", "followers_count": 12},
    }
    api.answer("/api/v1/timelines/tag/acme", [status])
    api.answer("/api/v1/statuses", {"id": "99", "url": "https://social.example/@acme/99"}, method="POST")
    config = config_toml(feeds.url("/acme.xml")) + (
        f'\n[[sources]]\nkind = "mastodon"\nname = "mastodon"\nbase_url = "{api.url("/")}"\n'
        'tag = "acme"\nevery = "1h"\ntoken_env = "MASTODON_TOKEN"\n'
    )
    feeds.publish("/acme.xml", rss([]))
    bot = BotProcess(
        tmp_path, slack_api_url=fake_slack.api_url, database_url=f"sqlite:///{tmp_path / 'a.db'}", config=config
    )
    bot.env["MASTODON_TOKEN"] = "mastodon-secret"
    try:
        bot.start()
        card = fake_slack.wait_for(lambda: fake_slack.cards(), what="the Mastodon card")[0]
        ana = SlackUser("U_ANA", bot.url, fake_slack)
        ana.click("mention_reply", "1", channel=card.channel, message_ts=card.ts)
        modal = fake_slack.wait_for(lambda: fake_slack.views, what="the reply modal")[-1]
        assert "Post it on mastodon too" in str(modal["blocks"])
        confirm = {
            "type": "checkboxes",
            "selected_options": [{"value": "post_on_source", "text": {"type": "plain_text", "text": "x"}}],
        }
        ana.submit(modal, {"reply_text": typed("Sorry Pat, restoring now"), "reply_post_on_source": confirm})

        fake_slack.wait_for(lambda: api.requests_to("/api/v1/statuses"), what="the reply on Mastodon")
        notes = fake_slack.wait_for(
            lambda: len(fake_slack.thread(card.channel, card.ts)) == 2 and fake_slack.thread(card.channel, card.ts),
            what="notes",
        )
        assert "https://social.example/@acme/99" in notes[1].text
        assert api.requests_to("/api/v1/statuses")[0].json()["status"] == "@pat@social.example Sorry Pat, restoring now"
    finally:
        bot.stop()
        api.stop()


def test_a_forwarded_message_reads_by_names_and_pings_nobody(bot, feeds, fake_slack):
    """Sam forwards a colleague's message as Slack sends it, in its markup: the card reads as Sam read it in Slack."""
    feeds.publish("/acme.xml", rss([]))
    bot.start()
    sam = SlackUser("U_SAM", bot.url, fake_slack)
    message = {
        "text": "<@W_WENDY> and <@U_ANA|ana> heard <!here> in <#C0SUPPORT> &amp; <#C0LISTEN|listening>: "
        "Acme's <https://acme.example/status|status page> &lt;lies&gt; since "
        "<!date^1392734382^{date}|Feb 18, 2014>, see <https://acme.example/billing> "
        "<!channel> <!everyone> <!subteam^S0SUPPORT|@support> <mailto:pat@acme.example|pat@acme.example>",
        "user": "U_WENDY",
        "ts": "1700000000.000200",
    }

    sam.shortcut("log_mention", channel="C0LISTEN", message=message)

    card = fake_slack.wait_for(lambda: fake_slack.cards(), what="the forwarded card")[0]
    said = card.blocks[0]["text"]["text"]
    assert said == (
        "@wendy and @ana heard @here in #c0support &amp; #listening: Acme's status page "
        "(https://acme.example/status) &lt;lies&gt; since Feb 18, 2014, see https://acme.example/billing "
        "@channel @everyone @support pat@acme.example"
    )
    assert not any(ping in said for ping in ("<@", "<!", "<#", "<http", "<mailto"))
    assert "<!here>" not in card.text and "<!channel>" not in card.text and "<@W_WENDY>" not in card.text


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return (
        f"sqlite:///{tmp_path / 'allears.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("own_postgres_url")
    )


def test_a_link_or_id_with_control_characters_is_refused_with_the_reason(tmp_path, fake_slack, feeds, any_database_url):
    """A NUL in a link once made PostgreSQL refuse the row (a 500); now it is refused, and said why, before that."""
    feeds.publish("/acme.xml", rss([]))
    bot = BotProcess(
        tmp_path,
        slack_api_url=fake_slack.api_url,
        database_url=any_database_url,
        config=config_toml(feeds.url("/acme.xml")),
    )
    bot.env["ALLEARS_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    try:
        bot.start()
        for body, error in (
            ({"text": "acme b", "url": "https://e.com/\u0000"}, "url must not contain control characters"),
            ({"text": "acme a", "id": "x\u0000y"}, "id must not contain control characters"),
            ({"text": "acme c", "url": "https://e.com/\u001b[2J"}, "url must not contain control characters"),
            ({"text": "acme d", "id": "ticket\u0085981"}, "id must not contain control characters"),
        ):
            answer = post_to_webhook(bot.url, body)
            assert (answer.status_code, answer.json()) == (400, {"ok": False, "error": error})

        sam = SlackUser("U_SAM", bot.url, fake_slack)
        sam.command("/allears", "log https://e.com/\u0000")
        told = fake_slack.wait_for(lambda: fake_slack.responses(sam.last_response_key), what="the answer")[0]["text"]
        assert "control characters" in told and "Logged" not in told

        fine = post_to_webhook(bot.url, {"text": "acme e", "url": "https://e.com/fine", "id": "fine"})
        assert fine.status_code == 201 and fine.json()["mention"] == "M-1", "nothing refused was stored"
    finally:
        bot.stop()
