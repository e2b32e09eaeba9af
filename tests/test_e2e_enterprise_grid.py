"""People of an Enterprise Grid organization have `W…` ids: they use All Ears exactly as `U…` people do."""

from pathlib import Path

import pytest

from bot.app.standin.users import SlackUser, chosen
from tests.botprocess import BotProcess, config_toml
from tests.feedserver import Entry, rss

POST = Entry(
    guid="post-1",
    title="Acme cloud ate my weekend",
    description="Acme cloud has been down for 3 hours, terrible support, still waiting",
    link="https://forum.example.com/t/1",
)
GRID = """
[people]
W0ANA = "support"

[admins]
users = ["W0ANA"]
"""


@pytest.fixture
def grid_bot(tmp_path: Path, fake_slack, feeds):
    process = BotProcess(
        tmp_path,
        slack_api_url=fake_slack.api_url,
        database_url=f"sqlite:///{tmp_path / 'allears.db'}",
        config=config_toml(feeds.url("/acme.xml"), extra=GRID),
    )
    yield process
    process.stop()


def test_ana_with_a_grid_id_claims_replies_and_resolves_from_her_home_tab(grid_bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([POST]))
    grid_bot.start()
    card = fake_slack.wait_for(lambda: fake_slack.cards("C0URGENT"), what="the card")[0]
    ana = SlackUser("W0ANA", grid_bot.url, fake_slack)

    ana.click("mention_claim", "1", channel="C0URGENT", message_ts=card.ts)
    fake_slack.wait_for(lambda: "Claimed by <@W0ANA>" in card.all_text(), what="the card to show Ana as owner")

    ana.command("/reply", "M-1 Sorry! We are on it.")
    answer = fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="her confirmation")
    assert "Recorded your reply to M-1" in answer[-1]["text"]
    fake_slack.wait_for(
        lambda: any("<@W0ANA> replied" in m.text for m in fake_slack.thread("C0URGENT", card.ts)),
        what="her reply in the thread",
    )

    ana.open_home()
    home = fake_slack.wait_for(lambda: fake_slack.home("W0ANA"), what="Ana's Home tab")
    assert "Acme cloud ate my weekend" in str(home["blocks"])

    # From the Home tab there is no response_url: the confirmation is a direct message to her W… id.
    ana.click_in_home("mention_resolve", "1", home=home)
    modal = fake_slack.wait_for(lambda: fake_slack.views, what="the resolve modal")[-1]
    ana.submit(modal, {"resolve_outcome": chosen("answered")})
    dm = fake_slack.wait_for(lambda: fake_slack.messages("W0ANA"), what="a direct message to Ana")
    assert "Resolved M-1 as *answered*" in dm[-1].text
    fake_slack.wait_for(lambda: "Resolved *answered* by <@W0ANA>" in card.all_text(), what="the card resolved")

    ana.command("/allears", "pause acme-alerts")
    paused = fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="the pause answer")
    assert "Paused *acme-alerts*" in paused[-1]["text"], "an admin by her W… id"

    ana.command("/allears", "stats")
    stats = fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="this week's numbers")
    assert "support" in str(stats[-1]["blocks"]), "her team from [people], by her W… id"
