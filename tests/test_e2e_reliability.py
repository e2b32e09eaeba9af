"""End-to-end: many people at once, forged requests, Slack outages, restarts, and the summary."""

import concurrent.futures
import time

import pytest
from sqlmodel import select

from bot.app.standin.users import SlackUser, signature
from bot.ground.db import make_engine, session_scope
from bot.ground.models import Event, EventKind
from tests.botprocess import BotProcess, config_toml, wait_until_settled
from tests.feedserver import Entry, rss


def _entries(count: int) -> list[Entry]:
    return [
        Entry(
            guid=f"post-{n}",
            title=f"Question {n} about Acme",
            description=f"How do I rotate keys in Acme cloud? Attempt {n}",
            link=f"https://forum.example.com/q/{n}",
        )
        for n in range(1, count + 1)
    ]


def _events(database_url: str, kind: EventKind) -> list[Event]:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        events = list(session.exec(select(Event).where(Event.kind == kind)))
    engine.dispose()
    return events


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_twenty_people_claim_at_once_and_exactly_one_owns_it(database, tmp_path, fake_slack, feeds, request):
    url = (
        f"sqlite:///{tmp_path / 'allears.db'}" if database == "sqlite" else request.getfixturevalue("own_postgres_url")
    )
    bot = BotProcess(
        tmp_path, slack_api_url=fake_slack.api_url, database_url=url, config=config_toml(feeds.url("/acme.xml"))
    )
    feeds.publish("/acme.xml", rss(_entries(1)))
    request.addfinalizer(bot.stop)
    bot.start()
    card = fake_slack.wait_for(lambda: fake_slack.cards(), what="the card")[0]

    people = [SlackUser(f"U_P{n:02d}", bot.url, fake_slack) for n in range(20)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda person: person.command("/claim", "M-1").status_code, people))
    assert statuses == [200] * 20

    answers = [
        fake_slack.wait_for(lambda p=p: fake_slack.responses(p.last_response_key), what=p.name)[0]["text"]
        for p in people
    ]
    winners = [p for p, text in zip(people, answers, strict=True) if text.startswith("You claimed M-1")]
    assert len(winners) == 1
    owner = winners[0].user_id
    assert sum(f"already claimed by <@{owner}>" in text for text in answers) == 19
    assert [e.actor for e in _events(url, EventKind.CLAIMED)] == [owner]
    fake_slack.wait_for(lambda: f"Claimed by <@{owner}>" in card.all_text(), what="the card to show the single owner")


def test_forged_stale_and_unsigned_requests_are_refused_and_change_nothing(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss(_entries(1)))
    bot.start()
    fake_slack.wait_for(lambda: fake_slack.cards(), what="the card")
    mallory = SlackUser("U_MALLORY", bot.url, fake_slack)
    body = "command=%2Fclaim&text=M-1&user_id=U_MALLORY&team_id=T0TEST&channel_id=C0LISTEN&response_url=x"

    stale = str(int(time.time()) - 10 * 60)
    assert mallory.post(body, signature=signature(body, stale), timestamp=stale).status_code == 401
    assert mallory.post(body, signature=signature(body, str(int(time.time())), secret="wrong")).status_code == 401
    assert mallory.post(body, signature="").status_code == 401
    assert mallory.post(body, signature="v0=" + "0" * 64).status_code == 401
    assert _events(bot.env["DATABASE_URL"], EventKind.CLAIMED) == []
    assert fake_slack.calls_to("response_url") == []


def test_cards_arrive_exactly_once_through_slack_rate_limits_and_outages(bot, feeds, fake_slack):
    fake_slack.fail("chat.postMessage", status=500, times=4)
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=3)
    feeds.publish("/acme.xml", rss(_entries(6)))
    bot.start()

    cards = fake_slack.wait_for(
        lambda: len(fake_slack.cards()) == 6 and fake_slack.cards(), timeout=60, what="all six cards"
    )
    assert sorted(card.metadata["event_payload"]["mention_id"] for card in cards) == [1, 2, 3, 4, 5, 6]
    refused = [c for c in fake_slack.calls_to("chat.postMessage") if c.status != 200]
    assert any(c.status == 429 for c in refused) and any(c.status == 500 for c in refused)
    wait_until_settled(bot.env["DATABASE_URL"], feeds)  # more polls, and nothing left to deliver
    assert len(fake_slack.cards()) == 6


def test_a_restart_keeps_every_state_and_reposts_nothing(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss(_entries(2)))
    bot.start()
    cards = fake_slack.wait_for(lambda: len(fake_slack.cards()) == 2 and fake_slack.cards(), what="two cards")
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    ana.command("/claim", "M-2")
    fake_slack.wait_for(lambda: "Claimed by <@U_ANA>" in cards[1].all_text(), what="Ana's claim")

    bot.stop()
    fake_slack.fail("chat.postMessage", status=500, seconds=2)  # Slack wobbles while we are down
    feeds.publish("/acme.xml", rss(_entries(3)))
    bot.start()

    fake_slack.wait_for(lambda: len(fake_slack.cards()) == 3, timeout=30, what="only the new item's card")
    ben = SlackUser("U_BEN", bot.url, fake_slack)
    ben.command("/claim", "M-2")
    assert (
        "already claimed by <@U_ANA>"
        in fake_slack.wait_for(lambda: fake_slack.responses(ben.last_response_key), what="Ben's refusal")[0]["text"]
    )
    wait_until_settled(bot.env["DATABASE_URL"], feeds)
    assert len(fake_slack.cards()) == 3


def test_the_summary_command_prints_the_weeks_numbers(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss(_entries(3)))
    bot.start()
    fake_slack.wait_for(lambda: len(fake_slack.cards()) == 3, what="three cards")
    ana, ben = SlackUser("U_ANA", bot.url, fake_slack), SlackUser("U_BEN", bot.url, fake_slack)
    ana.command("/claim", "M-1")
    ben.command("/reply", "M-2 Rotate them under Settings → Keys.")
    ben.command("/escalate", "M-3 product Docs are missing this")
    ana.command("/resolve", "M-1 answered")
    fake_slack.wait_for(lambda: len(fake_slack.cards("C0PRODUCT")) == 1, what="the product alert")

    result = bot.cli("summary", "--print")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Mentions heard:" in text and " 3" in text.split("Mentions heard:")[1].splitlines()[0]
    lines = dict(line.split(":", 1) for line in text.splitlines()[2:] if ":" in line)
    assert lines["Mentions heard"].strip() == "3"
    assert lines["By source"].strip() == "acme-alerts 3"
    assert lines["Claimed"].strip() == "2", "Ana's claim and Ben's reply, which claimed M-2"
    assert lines["Replied"].strip() == "1"
    assert lines["Escalated"].strip().startswith("1 mention (1 escalation: product 1)")
    assert lines["Resolved"].strip() == "1"
    assert lines["Outcomes"].strip() == "answered 1"
    assert lines["Open backlog"].strip() == "2"
    assert lines["People who took part"].strip() == "2"

    posted = bot.cli("summary", "--post")
    assert posted.returncode == 0, posted.stderr
    summary = fake_slack.wait_for(
        lambda: [m for m in fake_slack.cards("C0LISTEN") if "weekly summary" in m.text], what="the summary post"
    )
    assert "People who took part" in summary[0].all_text()

    wrong = bot.cli("summary", "--week", "2026-47")
    assert wrong.returncode == 2 and "not an ISO week" in wrong.stderr
