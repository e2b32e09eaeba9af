"""End-to-end stories: `allears run` as a subprocess, real HTTP both ways, signed Slack requests."""

from datetime import UTC, datetime

from bot.app.standin.users import SlackUser, chosen, typed
from tests.feedserver import Entry, rss
from tests.reading import answer, label

FURIOUS = Entry(
    guid="post-1",
    title="Acme cloud ate my weekend",
    description="Acme cloud has been down for 3 hours, terrible support, still waiting <!channel> @here <@U123>",
    link="https://forum.example.com/t/1",
    published=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
)
HAPPY = Entry(
    guid="post-2",
    title="Loving the new Acme dashboard",
    description="The new Acme dashboard is great, thanks team!",
    link="https://forum.example.com/t/2",
)
UNRELATED = Entry(
    guid="post-3", title="Weather today", description="Sunny in Lisbon", link="https://forum.example.com/t/3"
)
EXCLUDED = Entry(
    guid="post-4",
    title="Acme anvil review",
    description="The acme anvil fell on me",
    link="https://forum.example.com/t/4",
)


def test_a_matching_feed_item_becomes_a_card_in_the_routed_channel(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([FURIOUS, HAPPY, UNRELATED, EXCLUDED]))
    bot.start()

    urgent = fake_slack.wait_for(lambda: fake_slack.cards("C0URGENT"), what="the negative mention's card")
    listen = fake_slack.wait_for(lambda: fake_slack.cards("C0LISTEN"), what="the positive mention's card")

    card = urgent[0].all_text()
    assert "M-1" in card and "negative" in card and "acme-alerts" in card
    assert "https://forum.example.com/t/1" in card
    assert "&lt;!channel&gt;" in card and "&lt;@U123&gt;" in card
    assert "<!channel>" not in card and "<@U123>" not in card
    assert all(text["verbatim"] for block in urgent[0].blocks for text in _texts(block))
    assert [label(b) for b in urgent[0].blocks[-1]["elements"]] == [
        "Claim",
        "Reply",
        "Escalate",
        "Resolve",
        "Snooze",
        "⋯ Not relevant, Create issue, Link to issue",
    ]
    assert "positive" in listen[0].all_text()
    assert len(fake_slack.cards()) == 2, "the unrelated and the excluded items make no card"


def test_ana_claims_with_the_button_and_ben_is_refused(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([FURIOUS]))
    bot.start()
    card = fake_slack.wait_for(lambda: fake_slack.cards("C0URGENT"), what="card")[0]
    ana, ben = SlackUser("U_ANA", bot.url, fake_slack), SlackUser("U_BEN", bot.url, fake_slack)

    assert ana.click("mention_claim", "1", channel="C0URGENT", message_ts=card.ts).status_code == 200
    fake_slack.wait_for(lambda: "Claimed by <@U_ANA>" in card.all_text(), what="the card to show Ana as owner")

    assert ben.click("mention_claim", "1", channel="C0URGENT", message_ts=card.ts).status_code == 200
    refusal = fake_slack.wait_for(lambda: fake_slack.responses(ben.last_response_key), what="Ben's refusal")
    assert "already claimed by <@U_ANA>" in refusal[0]["text"]
    assert refusal[0]["response_type"] == "ephemeral"
    assert "Claimed by <@U_ANA>" in card.all_text() and "U_BEN" not in card.all_text()


def _texts(block):
    if "text" in block and isinstance(block["text"], dict) and block["text"]["type"] == "mrkdwn":
        yield block["text"]
    for element in block.get("elements", []):
        if element.get("type") == "mrkdwn":
            yield element


def _card(fake_slack, channel="C0URGENT"):
    return fake_slack.wait_for(lambda: fake_slack.cards(channel), what=f"a card in {channel}")[0]


def test_slash_commands_claim_and_unclaim_and_explain_mistakes(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([FURIOUS]))
    bot.start()
    card = _card(fake_slack)
    ana, ben = SlackUser("U_ANA", bot.url, fake_slack), SlackUser("U_BEN", bot.url, fake_slack)

    ana.command("/claim", "M-1")
    assert "You claimed M-1" in answer(fake_slack, ana)["text"]
    fake_slack.wait_for(lambda: "Claimed by <@U_ANA>" in card.all_text(), what="Ana as owner")

    ben.command("/claim", "1")
    assert "already claimed by <@U_ANA>" in answer(fake_slack, ben)["text"]
    ben.command("/unclaim", "m-1")
    assert "only they can unclaim" in answer(fake_slack, ben)["text"]

    ana.command("/unclaim", "M-1")
    assert "unclaimed now" in answer(fake_slack, ana)["text"]
    fake_slack.wait_for(lambda: "Unclaimed" in card.all_text(), what="the card to show it unclaimed")

    ben.command("/claim", "M-99")
    assert "There is no mention M-99" in answer(fake_slack, ben)["text"]
    ben.command("/claim", "")
    assert "Usage: `/claim M-7`" in answer(fake_slack, ben)["text"]
    ben.command("/claim", "seven")
    assert "not a mention reference" in answer(fake_slack, ben)["text"]
    ben.command("/escalate", "M-1 legal")
    assert "There is no team `legal`" in answer(fake_slack, ben)["text"]
    ben.command("/resolve", "M-1 done")
    assert "not an outcome" in answer(fake_slack, ben)["text"]
    ben.command("/reply", "M-1")
    assert "What did you answer?" in answer(fake_slack, ben)["text"]


def test_reply_escalate_acknowledge_resolve_and_reopen(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([FURIOUS]))
    bot.start()
    card = _card(fake_slack)
    ana, carl = SlackUser("U_ANA", bot.url, fake_slack), SlackUser("U_CARL", bot.url, fake_slack)

    # Ana clicks Reply, a modal opens, she writes her answer.
    ana.click("mention_reply", "1", channel="C0URGENT", message_ts=card.ts)
    modal = fake_slack.wait_for(lambda: fake_slack.views, what="the reply modal")[-1]
    assert modal["callback_id"] == "reply_modal" and modal["title"]["text"] == "Reply to M-1"
    ana.submit(modal, {"reply_text": typed("So sorry! We're on it, DM us your account id.")})
    confirmation = answer(fake_slack, ana)
    assert "Recorded your reply to M-1" in confirmation["text"] and "it is yours now" in confirmation["text"]
    assert "https://forum.example.com/t/1" in confirmation["text"]
    thread = fake_slack.wait_for(lambda: fake_slack.thread("C0URGENT", card.ts), what="the reply in the thread")
    assert "<@U_ANA> replied" in thread[0].text and "DM us your account id" in thread[0].text
    fake_slack.wait_for(lambda: "Claimed by <@U_ANA>" in card.all_text(), what="reply to claim it for Ana")

    # She escalates to support with a reason; the support channel is pinged with an Acknowledge button.
    ana.command("/escalate", "M-1 support Customer lost data, needs an engineer")
    assert "Escalated M-1 to *support*" in answer(fake_slack, ana)["text"]
    alert = fake_slack.wait_for(lambda: fake_slack.cards("C0SUPPORT"), what="the team alert")[0]
    assert "<!subteam^S0SUPPORT>" in alert.all_text() and "needs an engineer" in alert.all_text()
    assert "Acknowledge" in alert.all_text()
    fake_slack.wait_for(lambda: "Escalated to *support* by <@U_ANA>" in card.all_text(), what="the card to show it")
    fake_slack.wait_for(lambda: len(fake_slack.thread("C0URGENT", card.ts)) == 2, what="the escalation note")

    # Carl acknowledges from the support channel; a second click is refused.
    carl.click("escalation_acknowledge", "1", channel="C0SUPPORT", message_ts=alert.ts)
    fake_slack.wait_for(lambda: "Acknowledged by <@U_CARL>" in alert.all_text(), what="the alert to show Carl")
    fake_slack.wait_for(lambda: "acknowledged by <@U_CARL>" in card.all_text(), what="the card to show the ack")
    carl.click("escalation_acknowledge", "1", channel="C0SUPPORT", message_ts=alert.ts)
    assert "Already acknowledged by <@U_CARL>" in answer(fake_slack, carl)["text"]

    # Ana resolves through the modal.
    ana.click("mention_resolve", "1", channel="C0URGENT", message_ts=card.ts)
    modal = fake_slack.wait_for(lambda: len(fake_slack.views) == 2 and fake_slack.views, what="resolve modal")[-1]
    ana.submit(modal, {"resolve_outcome": chosen("fixed"), "resolve_note": typed("Restored from backup")})
    assert "Resolved M-1 as *fixed*" in answer(fake_slack, ana)["text"]
    fake_slack.wait_for(lambda: "Resolved *fixed*" in card.all_text(), what="the card to show the outcome")
    assert [b["text"]["text"] for b in card.blocks[-1]["elements"]] == ["Reopen"]

    # Resolving again is refused; /reopen opens it again.
    carl.command("/resolve", "M-1 answered")
    assert "already resolved" in answer(fake_slack, carl)["text"]
    carl.command("/reopen", "M-1")
    assert "Reopened M-1" in answer(fake_slack, carl)["text"]
    fake_slack.wait_for(lambda: "Resolve" in [label(b) for b in card.blocks[-1]["elements"]], what="buttons back")
    notes = fake_slack.wait_for(
        lambda: len(fake_slack.thread("C0URGENT", card.ts)) == 5 and fake_slack.thread("C0URGENT", card.ts),
        what="five thread notes",
    )
    assert [n.text.split()[0] for n in notes] == [
        ":speech_balloon:",
        ":rotating_light:",
        ":ok_hand:",
        ":white_check_mark:",
        ":arrows_counterclockwise:",
    ]
    assert len(fake_slack.cards()) == 2, "one card and one team alert, nothing posted twice"


def test_escalate_through_the_modal_to_a_team_without_a_user_group(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([HAPPY]))
    bot.start()
    card = _card(fake_slack, "C0LISTEN")
    ben = SlackUser("U_BEN", bot.url, fake_slack)

    ben.click("mention_escalate", "1", channel="C0LISTEN", message_ts=card.ts)
    modal = fake_slack.wait_for(lambda: fake_slack.views, what="the escalate modal")[-1]
    team_select = next(b for b in modal["blocks"] if b.get("block_id") == "escalate_team")["element"]
    assert [option["value"] for option in team_select["options"]] == ["support", "product"]
    ben.submit(modal, {"escalate_team": chosen("product"), "escalate_reason": typed("Praise for the dashboard team")})

    assert "Escalated M-1 to *product*" in answer(fake_slack, ben)["text"]
    alert = fake_slack.wait_for(lambda: fake_slack.cards("C0PRODUCT"), what="the product alert")[0]
    assert "<!subteam^" not in alert.all_text() and "Praise for the dashboard team" in alert.all_text()
    fake_slack.wait_for(lambda: "Escalated to *product* by <@U_BEN>" in card.all_text(), what="the card to show it")
