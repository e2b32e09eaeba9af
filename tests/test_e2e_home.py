"""End-to-end: the Home tab and the export, with `allears run` as a subprocess and signed Slack requests."""

import csv
import io
import json

from bot.app.standin.slack import view_problems
from bot.app.standin.users import SlackUser, chosen, typed
from tests.feedserver import rss
from tests.test_e2e_listening import FURIOUS, HAPPY

ANA, BEN = "U_ANA", "U_BEN"


def _rows(home):
    """Each list's mentions as (reference, the labels of its buttons), by the list's title."""
    lists, current = {}, None
    for index, block in enumerate(home["blocks"]):
        text = block["text"]["text"] if block["type"] == "section" else ""
        if text.startswith((":raised_hand:", ":eyes:")):
            current = lists.setdefault(text.split("*")[1], [])
        elif block["type"] == "actions" and current is not None:
            reference = home["blocks"][index - 1]["text"]["text"].split("*")[1]
            current.append((reference, [e["text"]["text"] for e in block["elements"] if e["type"] == "button"]))
    return lists


def _redrawn(fake_slack, user, times, what):
    return fake_slack.wait_for(
        lambda: fake_slack.homes_published(user) >= times and fake_slack.home(user), what=what, timeout=20
    )


def _dm(fake_slack, user, text):
    return fake_slack.wait_for(
        lambda: [m for m in fake_slack.messages(user) if text in m.text], what=f"a message to {user}: {text}"
    )[-1]


def _modal(fake_slack, count):
    return fake_slack.wait_for(lambda: len(fake_slack.views) >= count and fake_slack.views, what="a modal")[-1]


def test_ana_and_ben_work_their_queues_from_the_home_tab(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([FURIOUS, HAPPY]))
    bot.start()
    urgent = fake_slack.wait_for(lambda: fake_slack.cards("C0URGENT"), what="the urgent card")[0]
    fake_slack.wait_for(lambda: fake_slack.cards("C0LISTEN"), what="the listening card")
    fake_slack.set_channels(ANA, "C0URGENT", "C0SUPPORT")  # Ben is in every channel
    ana, ben = SlackUser(ANA, bot.url, fake_slack), SlackUser(BEN, bot.url, fake_slack)

    # Opening the Home tab draws it: Ana sees the urgent channel's mention, not the listening channel's.
    assert ana.open_home().status_code == 200
    home = _redrawn(fake_slack, ANA, 1, "Ana's Home")
    assert view_problems(home) == [] and "This week so far" in json.dumps(home)
    assert _rows(home) == {
        "Yours, open": [],
        "Unclaimed in your channels": [("M-1", ["Claim", "Reply", "Escalate", "Resolve"])],
    }
    ben.open_home()
    bens_home = _redrawn(fake_slack, BEN, 1, "Ben's Home")
    assert [reference for reference, _ in _rows(bens_home)["Unclaimed in your channels"]] == ["M-1", "M-2"]

    # Ana claims from her Home: it is redrawn with M-1 as hers, and the card in the channel says so.
    ana.click_in_home("mention_claim", "1", home=home)
    home = _redrawn(fake_slack, ANA, 2, "Ana's Home after her claim")
    assert _rows(home)["Yours, open"] == [("M-1", ["Unclaim", "Reply", "Escalate", "Resolve"])]
    assert _rows(home)["Unclaimed in your channels"] == []
    fake_slack.wait_for(lambda: "Claimed by <@U_ANA>" in urgent.all_text(), what="the card to show Ana")

    # Ben's Home still offered M-1: his click is refused in a direct message, and his Home catches up.
    ben.click_in_home("mention_claim", "1", home=bens_home)
    assert "already claimed by <@U_ANA>" in _dm(fake_slack, BEN, "already claimed").text
    bens_home = _redrawn(fake_slack, BEN, 2, "Ben's Home after the refusal")
    assert [reference for reference, _ in _rows(bens_home)["Unclaimed in your channels"]] == ["M-2"]

    # Ben answers M-2 from his Home: the modal opens with the click's trigger and the answer comes by DM.
    ben.click_in_home("mention_reply", "2", home=bens_home)
    ben.submit(_modal(fake_slack, 1), {"reply_text": typed("Thanks, glad you like it!")})
    assert "it is yours now" in _dm(fake_slack, BEN, "Recorded your reply to M-2").text
    bens_home = _redrawn(fake_slack, BEN, 4, "Ben's Home with M-2 his")
    assert [reference for reference, _ in _rows(bens_home)["Yours, open"]] == ["M-2"]

    ben.click_in_home("mention_escalate", "2", home=bens_home)
    ben.submit(_modal(fake_slack, 2), {"escalate_team": chosen("product"), "escalate_reason": typed("Praise")})
    _dm(fake_slack, BEN, "Escalated M-2 to *product*")
    fake_slack.wait_for(lambda: fake_slack.cards("C0PRODUCT"), what="the product team's alert")

    # Ana resolves from her Home; her list empties.
    ana.click_in_home("mention_resolve", "1", home=home)
    ana.submit(_modal(fake_slack, 3), {"resolve_outcome": chosen("fixed"), "resolve_note": typed("Restored")})
    _dm(fake_slack, ANA, "Resolved M-1 as *fixed*")
    fake_slack.wait_for(lambda: "Resolved *fixed*" in urgent.all_text(), what="the card to show the outcome")
    fake_slack.wait_for(
        lambda: _rows(fake_slack.home(ANA)) == {"Yours, open": [], "Unclaimed in your channels": []},
        what="Ana's Home to empty",
    )

    # The operator exports it all, where neither Slack's tokens nor the config file are.
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL"):
        bot.env.pop(name)
    bot.env["ALLEARS_CONFIG"] = str(bot.workdir / "nowhere.toml")
    exported = bot.cli("export", "--since", "2020-01-01", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(exported.stdout))}
    assert rows.keys() == {"M-1", "M-2"}
    assert (rows["M-1"]["status"], rows["M-1"]["outcome"], rows["M-1"]["owner"]) == ("resolved", "fixed", ANA)
    assert rows["M-1"]["title"] == FURIOUS.title and "<!channel>" in rows["M-1"]["text"], "the customer's own words"
    assert int(rows["M-1"]["seconds_to_claim"]) >= 0 and int(rows["M-1"]["seconds_to_resolution"]) >= 0
    assert rows["M-2"]["escalated_to"] == "product" and rows["M-2"]["owner"] == BEN
    assert rows["M-2"]["seconds_to_first_reply"] != "" and rows["M-2"]["channel"] == "C0LISTEN"

    lines = bot.cli("export", "--format", "jsonl").stdout.splitlines()
    resolved = json.loads(lines[0])
    assert [event["kind"] for event in resolved["events"]][-1] == "resolved"
    assert resolved["events"][-1]["data"]["note"] == "Restored"
