"""An action that happened is never answered "Something went wrong": when only its confirmation fails, the
person is told what was done another way (or, failing all, the log says so), and the outbox catches the card up."""

from bot.app.standin.slack import RESPONSE_URL
from bot.app.standin.users import SlackUser, chosen
from tests.feedserver import Entry, rss

POST = Entry(
    guid="post-1",
    title="Acme cloud ate my weekend",
    description="Acme cloud has been down for 3 hours, terrible support, still waiting",
    link="https://forum.example.com/t/1",
)


def _refuse_private_answers(fake_slack) -> None:
    """An expired response_url, no ephemerals, no opening of conversations: only the app's own DM is left."""
    for method, status, error in (
        (RESPONSE_URL, 404, "expired_url"),
        ("chat.postEphemeral", 200, "channel_not_found"),
        ("conversations.open", 200, "cannot_dm_bot"),
    ):
        fake_slack.fail(method, status=status, error=error, seconds=600)


def _everything_said_to(fake_slack, user_id: str) -> str:
    said = [message.all_text() for message in fake_slack.messages(user_id)]
    said += [str(response) for response in fake_slack.responses(f"ephemeral:{user_id}")]
    return "\n".join(said)


def test_anas_reply_is_confirmed_by_direct_message_when_the_other_ways_fail(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([POST]))
    bot.start()
    card = fake_slack.wait_for(lambda: fake_slack.cards("C0URGENT"), what="the card")[0]
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    _refuse_private_answers(fake_slack)

    ana.command("/reply", "M-1 We are on it")

    dm = fake_slack.wait_for(lambda: fake_slack.messages("U_ANA"), what="a direct message to Ana")
    assert "Recorded your reply to M-1" in dm[-1].text
    assert "the card will catch up" in dm[-1].text
    fake_slack.wait_for(lambda: "Claimed by <@U_ANA>" in card.all_text(), what="the card to catch up")

    ana.click("mention_resolve", "1", channel="C0URGENT", message_ts=card.ts)
    modal = fake_slack.wait_for(lambda: fake_slack.views, what="the resolve modal")[-1]
    ana.submit(modal, {"resolve_outcome": chosen("answered")})
    fake_slack.wait_for(lambda: len(fake_slack.messages("U_ANA")) == 2, what="a second direct message")
    assert "Resolved M-1 as *answered*" in fake_slack.messages("U_ANA")[-1].text
    assert "Something went wrong" not in _everything_said_to(fake_slack, "U_ANA")


def test_when_no_way_reaches_ana_her_resolve_stands_and_the_card_catches_up(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([POST]))
    bot.start()
    card = fake_slack.wait_for(lambda: fake_slack.cards("C0URGENT"), what="the card")[0]
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    _refuse_private_answers(fake_slack)
    fake_slack.fail("chat.postMessage", seconds=3)
    fake_slack.fail("chat.update", seconds=3)

    ana.command("/resolve", "M-1 answered")

    fake_slack.wait_for(lambda: "Resolved *answered* by <@U_ANA>" in card.all_text(), what="the card to catch up")
    fake_slack.wait_for(lambda: "who could not be told" in bot.logs(), what="the log to say she was not told")
    assert "was done for U_ANA" in bot.logs()
    assert "unexpected error" not in bot.logs(), "a confirmation that failed is not an action that failed"
    assert "Something went wrong" not in _everything_said_to(fake_slack, "U_ANA")
