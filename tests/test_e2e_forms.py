"""Forms are read before they close: a mistake comes back on its field (`response_action: errors`), the modal stays
open with what was typed, and nothing is done until the form is right."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.standin.users import SlackUser, chosen, typed
from bot.slack.modals import ModalContext
from tests.botprocess import BotProcess, config_toml
from tests.feedserver import Entry, rss
from tests.test_sources_by_service import mastodon_status

POST = Entry(
    guid="post-1",
    title="Acme cloud ate my weekend",
    description="Acme cloud has been down for 3 hours, terrible support, still waiting",
    link="https://forum.example.com/t/1",
)


def _card(fake_slack, channel="C0URGENT"):
    return fake_slack.wait_for(lambda: fake_slack.cards(channel), what=f"a card in {channel}")[0]


def _modal(fake_slack, callback_id):
    return fake_slack.wait_for(
        lambda: [view for view in fake_slack.views if view["callback_id"] == callback_id], what=callback_id
    )[-1]


def _errors(response):
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors", answer
    return answer["errors"]


def _thread(fake_slack, card):
    return [message.text for message in fake_slack.thread(card.channel, card.ts)]


def test_an_empty_reply_comes_back_on_its_field_and_records_nothing(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([POST]))
    bot.start()
    card = _card(fake_slack)
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    ana.click("mention_reply", "1", channel="C0URGENT", message_ts=card.ts)
    modal = _modal(fake_slack, "reply_modal")

    assert _errors(ana.submit(modal, {"reply_text": typed("   ")})) == {
        "reply_text": "Write what you answered the customer."
    }
    assert _errors(ana.submit(modal, {})) == {"reply_text": "Write what you answered the customer."}

    closed = ana.submit(modal, {"reply_text": typed("Sorry! We're on it.")})
    assert closed.status_code == 200 and closed.content == b"", "a good form closes"
    fake_slack.wait_for(lambda: any("We're on it" in text for text in _thread(fake_slack, card)), what="the reply")
    assert len([text for text in _thread(fake_slack, card) if "replied" in text]) == 1


def test_an_escalation_to_a_team_that_is_gone_comes_back_on_the_team(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([POST]))
    bot.start()
    card = _card(fake_slack)
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    ana.click("mention_escalate", "1", channel="C0URGENT", message_ts=card.ts)
    modal = _modal(fake_slack, "escalate_modal")

    errors = _errors(ana.submit(modal, {"escalate_team": chosen("legal"), "escalate_reason": typed("Lawyers")}))
    assert list(errors) == ["escalate_team"]
    assert "There is no team `legal`" in errors["escalate_team"] and "`support`" in errors["escalate_team"]
    assert fake_slack.messages("C0SUPPORT") == [] and fake_slack.messages("C0PRODUCT") == []


def test_a_form_about_a_mention_that_does_not_exist_or_out_of_date_says_so_on_the_form(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([POST]))
    bot.start()
    card = _card(fake_slack)
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    ana.click("mention_resolve", "1", channel="C0URGENT", message_ts=card.ts)
    modal = _modal(fake_slack, "resolve_modal")
    values = {"resolve_outcome": chosen("answered")}

    unknown = {**modal, "private_metadata": ModalContext(mention_id=99).dump()}
    assert _errors(ana.submit(unknown, values)) == {
        "resolve_outcome": "There is no mention M-99. References look like `M-7` (or just `7`)."
    }
    garbage = {**modal, "private_metadata": "{not json"}
    assert _errors(ana.submit(garbage, values)) == {
        "resolve_outcome": "This form is out of date; open it again from the card."
    }
    not_an_object = {**modal, "private_metadata": json.dumps(["mention", 1])}
    assert "out of date" in _errors(ana.submit(not_an_object, values))["resolve_outcome"]
    assert "Resolved" not in card.all_text()


def _picked(moment: datetime) -> dict:
    return {"type": "datetimepicker", "selected_date_time": int(moment.timestamp())}


def test_ana_snoozes_until_a_moment_she_picks_and_a_moment_past_is_refused(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([POST]))
    bot.start()
    card = _card(fake_slack)
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    menu = next(element for element in card.blocks[-1]["elements"] if element["action_id"] == "mention_snooze")
    assert "1:until" in [option["value"] for option in menu["options"]]

    ana.choose("mention_snooze", "1:until", channel="C0URGENT", message_ts=card.ts)
    modal = _modal(fake_slack, "snooze_modal")
    [picker] = [block for block in modal["blocks"] if block.get("block_id") == "snooze_until"]
    assert picker["element"]["type"] == "datetimepicker"
    now = datetime.now(UTC)
    assert now < datetime.fromtimestamp(picker["element"]["initial_date_time"], UTC) < now + timedelta(days=2)

    past = _errors(ana.submit(modal, {"snooze_until": _picked(now - timedelta(hours=1))}))
    assert past == {"snooze_until": "That moment has passed; pick one in the future (or resolve the mention)."}
    too_far = _errors(ana.submit(modal, {"snooze_until": _picked(now + timedelta(days=45))}))
    assert "at most 30 days" in too_far["snooze_until"]
    assert "Snoozed until" not in card.all_text()

    until = now + timedelta(days=2)
    assert ana.submit(modal, {"snooze_until": _picked(until)}).content == b""
    fake_slack.wait_for(lambda: "Snoozed until" in card.all_text(), what="the card to show the snooze")
    assert f"<!date^{int(until.timestamp())}^" in card.all_text()


@pytest.fixture
def mastodon_bot(tmp_path: Path, fake_slack, feeds, api):
    source = f"""
[[sources]]
kind = "mastodon"
name = "mastodon"
tag = "acme"
base_url = "{api.url("/")}"
token_env = "MASTODON_TOKEN"
every = "1s"
"""
    process = BotProcess(
        tmp_path,
        slack_api_url=fake_slack.api_url,
        database_url=f"sqlite:///{tmp_path / 'allears.db'}",
        config=config_toml(feeds.url("/acme.xml"), extra=source),
    )
    process.env["MASTODON_TOKEN"] = "mastodon-secret"
    yield process
    process.stop()


def test_a_reply_too_long_for_mastodon_comes_back_before_anything_is_sent(
    mastodon_bot, feeds, fake_slack, api, recordings
):
    feeds.publish("/acme.xml", rss([]))
    status = mastodon_status(recordings, content="<p>Acme cloud is down and support is terrible</p>")
    api.answer("/api/v1/timelines/tag/acme", [status])
    api.answer("/api/v1/statuses", {"id": "99", "url": "https://social.example/@acme/99"}, method="POST")
    mastodon_bot.start()
    card = _card(fake_slack)
    ana = SlackUser("U_ANA", mastodon_bot.url, fake_slack)
    ana.click("mention_reply", "1", channel="C0URGENT", message_ts=card.ts)
    modal = _modal(fake_slack, "reply_modal")
    ticked = {"type": "checkboxes", "selected_options": [{"value": "post_on_source"}]}
    room = 500 - len(f"@{status['account']['acct']} ")

    errors = _errors(ana.submit(modal, {"reply_text": typed("x" * (room + 1)), "reply_post_on_source": ticked}))
    assert errors == {
        "reply_text": f"Too long to post on the source: it takes at most {room} characters, and this is {room + 1}. "
        "Shorten it, or untick the box."
    }
    assert api.requests_to("/api/v1/statuses") == []

    just_recorded = ana.submit(modal, {"reply_text": typed("x" * (room + 1))})
    assert just_recorded.content == b"", "unticked, it is only recorded: the thread takes it"
    assert ana.submit(modal, {"reply_text": typed("y" * room), "reply_post_on_source": ticked}).content == b""
    fake_slack.wait_for(lambda: api.requests_to("/api/v1/statuses"), what="the reply posted on Mastodon")
    [sent] = api.requests_to("/api/v1/statuses")
    assert len(sent.json()["status"]) == 500
