"""Not relevant: a mention that is real but not for the team (another company's Acme, a job ad) is put away
in one click from the card's ⋯ menu, or with `/resolve M-7 not-relevant`, and is recorded apart from spam."""

import json
import re

from sqlmodel import select

from bot.act import actions
from bot.act.labels import LabelCounts, label_counts
from bot.app.standin.users import SlackUser
from bot.ground.config import Team
from bot.ground.db import make_engine, session_scope
from bot.ground.models import Event, EventKind, Mention, Outcome
from tests.factories import store_mention
from tests.feedserver import Entry, rss
from tests.reading import answer

JOB_AD = Entry(
    guid="job-1",
    title="Acme Plumbing is hiring",
    description="Acme Plumbing (Leeds) is hiring an apprentice plumber, apply by Friday",
    link="https://jobs.example.com/1",
)
ANOTHER_ACME = Entry(
    guid="news-2",
    title="Acme Corp shares fall",
    description="Acme Corp, the anvil maker, lost 4% today",
    link="https://news.example.com/2",
)
SPAM = Entry(
    guid="spam-3", title="Acme", description="Buy followers cheap acme acme acme", link="https://spam.example/3"
)


def _menu_value(card) -> str:
    menu = next(element for element in card.blocks[-1]["elements"] if element["type"] == "overflow")
    assert [option["text"]["text"] for option in menu["options"]] == ["Not relevant", "Create issue", "Link to issue"]
    return menu["options"][0]["value"]


def _ref(card) -> str:
    return re.search(r"\*(M-\d+)\*", card.all_text())[1]


def test_ana_puts_away_a_job_ad_from_the_menu_and_ben_another_acme_with_a_command(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([JOB_AD, ANOTHER_ACME, SPAM]))
    bot.start()
    cards = fake_slack.wait_for(lambda: len(fake_slack.cards()) == 3 and fake_slack.cards(), what="three cards")
    job_ad, another, spam = (
        next(card for card in cards if word in card.all_text()) for word in ("hiring", "anvil", "Buy")
    )
    ana, ben = SlackUser("U_ANA", bot.url, fake_slack), SlackUser("U_BEN", bot.url, fake_slack)

    clicked = ana.choose("mention_more", _menu_value(job_ad), channel=job_ad.channel, message_ts=job_ad.ts)
    assert clicked.status_code == 200
    fake_slack.wait_for(
        lambda: "Resolved *not-relevant* by <@U_ANA>" in job_ad.all_text(), what="the job ad put away by Ana"
    )
    labels = [element.get("text", {}).get("text") for element in job_ad.blocks[-1]["elements"]]
    assert labels == ["Reopen"], "a put-away mention can be reopened, and has no menu"

    ben.command("/resolve", f"{_ref(another)} not-relevant the anvil maker, not us")
    assert answer(fake_slack, ben)["text"] == f"Resolved {_ref(another)} as *not-relevant*."
    ben.command("/resolve", f"{_ref(spam)} spam")
    assert answer(fake_slack, ben)["text"] == f"Resolved {_ref(spam)} as *spam*."

    ben.command("/resolve", f"{_ref(job_ad)} not-relevant")
    assert "already resolved (not-relevant)" in answer(fake_slack, ben)["text"], "nobody puts it away twice"
    ben.command("/resolve", f"{_ref(another)} irrelevant")
    refusal = answer(fake_slack, ben)["text"]
    assert "`irrelevant` is not an outcome" in refusal and "`not-relevant`" in refusal and "`spam`" in refusal

    engine = make_engine(bot.env["DATABASE_URL"])
    with session_scope(engine) as session:
        outcomes = {m.reference: m.outcome for m in session.exec(select(Mention))}
        notes = [e.data.get("note") for e in session.exec(select(Event).where(Event.kind == EventKind.RESOLVED))]
    engine.dispose()
    assert outcomes == {_ref(job_ad): "not-relevant", _ref(another): "not-relevant", _ref(spam): "spam"}
    assert "the anvil maker, not us" in notes
    ben.command("/allears", "stats")
    assert "*0* relevant (claimed, answered, escalated, fixed or feedback), *3* not" in str(
        answer(fake_slack, ben)["blocks"]
    )


def test_a_forged_or_stale_menu_choice_is_refused_and_changes_nothing(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([JOB_AD]))
    bot.start()
    card = fake_slack.wait_for(lambda: fake_slack.cards(), what="the card")[0]
    ana = SlackUser("U_ANA", bot.url, fake_slack)

    for forged in (json.dumps({"v": 1, "mention": 1, "do": "delete-everything"}), "1", "M-1"):
        ana.choose("mention_more", forged, channel=card.channel, message_ts=card.ts)
        assert answer(fake_slack, ana)["text"] == "This button is out of date; use the latest card."
    ana.choose(
        "mention_more",
        json.dumps({"v": 1, "mention": 99, "do": "not-relevant"}),
        channel=card.channel,
        message_ts=card.ts,
    )
    assert "M-99" in answer(fake_slack, ana)["text"]
    assert "Unclaimed" in card.all_text() and "Resolved" not in card.all_text()


def test_what_the_team_did_labels_each_mention_and_the_latest_judgement_wins(engine):
    """Ana claims one, Ben answers one, Chloé escalates one and Dev fixes one: four relevant. Ana claims a
    fifth and then puts it away as not relevant; a sixth is spam; a seventh nobody has touched."""
    ids = [store_mention(engine, external_id=f"item-{n}") for n in range(7)]
    with session_scope(engine) as session:
        actions.claim(session, mention_id=ids[0], user_id="U_ANA")
        actions.reply(session, mention_id=ids[1], user_id="U_BEN", text="Sorry, on it")
        actions.escalate(
            session, mention_id=ids[2], user_id="U_CHLOE", team_name="support", team=Team(channel="C0SUPPORT")
        )
        actions.resolve(session, mention_id=ids[3], user_id="U_DEV", outcome=Outcome.FIXED)
        actions.claim(session, mention_id=ids[4], user_id="U_ANA")
        actions.resolve(session, mention_id=ids[4], user_id="U_ANA", outcome=Outcome.NOT_RELEVANT)
        actions.resolve(session, mention_id=ids[5], user_id="U_BEN", outcome=Outcome.SPAM)
    with session_scope(engine) as session:
        assert label_counts(session) == LabelCounts(relevant=4, not_relevant=2)

    with session_scope(engine) as session:
        actions.reopen(session, mention_id=ids[4], user_id="U_ANA")
        assert label_counts(session) == LabelCounts(relevant=5, not_relevant=1), "reopened, its claim counts again"
