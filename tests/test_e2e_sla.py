"""End-to-end: SLA reminders from real worker processes on one PostgreSQL, and snoozing from Slack."""

import json
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from bot.act import actions
from bot.app.standin.users import SlackUser
from bot.ground import migrate
from bot.ground.clock import utcnow
from bot.ground.config import Team
from bot.ground.db import make_engine, session_scope
from bot.hear.batches import record
from tests.botprocess import BotProcess, config_toml, wait_until_settled
from tests.factories import heard
from tests.feedserver import Entry, rss

SLA = """
[sla]
check_every = "1s"
usergroup = "S0ONCALL"
lead = "U0LEAD"
claim_expires = "30m"
reping_every = "1h"
"""
SUPPORT = Team(channel="C0SUPPORT", usergroup="S0SUPPORT")


def seed(database_url: str) -> dict[str, int]:
    """Mentions that waited a while before the workers started, written as the bot would have."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    now = utcnow()

    def ago(minutes: int):
        return now - timedelta(minutes=minutes)

    def hear(name: str, minutes: int) -> int:
        with session_scope(engine) as session:
            mention_id = record(
                session, heard(f"Acme lost {name}'s order", external_id=name, author=name), now=ago(minutes)
            )
        assert mention_id is not None
        return mention_id

    seeded = {name: hear(name, minutes) for name, minutes in (("dana", 25), ("eli", 45), ("fay", 65))}
    seeded["gus"], seeded["hal"] = hear("gus", 70), hear("hal", 40)
    with session_scope(engine) as session:
        actions.claim(session, mention_id=seeded["gus"], user_id="U0ANA", now=ago(69))
        actions.escalate(
            session, mention_id=seeded["gus"], user_id="U0ANA", team_name="support", team=SUPPORT, now=ago(61)
        )
        actions.reply(session, mention_id=seeded["gus"], user_id="U0ANA", text="Asked support", now=ago(1))
        actions.claim(session, mention_id=seeded["hal"], user_id="U0BEN", now=ago(35))
    engine.dispose()
    return seeded


def notes_by_mention(fake_slack) -> dict[int, list[str]]:
    """Each card's thread, by the mention the card carries in its metadata."""
    return {
        card.metadata["event_payload"]["mention_id"]: [note.text for note in fake_slack.thread(card.channel, card.ts)]
        for card in fake_slack.cards("C0LISTEN")
        if card.metadata
    }


def count(notes: list[str], text: str) -> int:
    return sum(text in note for note in notes)


@pytest.mark.postgres
def test_two_workers_on_one_database_send_each_reminder_exactly_once_even_after_a_restart(
    tmp_path, fake_slack, feeds, own_postgres_url
):
    feeds.publish("/acme.xml", rss([]))
    seeded = seed(own_postgres_url)
    config = config_toml(feeds.url("/acme.xml"), every="1h", extra=SLA)
    workers = [
        BotProcess(tmp_path / name, slack_api_url=fake_slack.api_url, database_url=own_postgres_url, config=config)
        for name in ("one", "two", "three")
    ]
    expected = {  # what each mention's thread must say, once
        seeded["dana"]: "Unclaimed for 20m: who can take it?",
        seeded["eli"]: f"<!subteam^S0ONCALL> M-{seeded['eli']} has waited 40m for an owner",
        seeded["fay"]: f"<@U0LEAD> M-{seeded['fay']} is still unclaimed after 1h",
        seeded["hal"]: "Returned to the pool: <@U0BEN> claimed it, but nothing from them for 35m",
    }
    # By the clock: a minute or two more than the hour it waited before the workers started.
    repinged = f"<!subteam^S0SUPPORT> M-{seeded['gus']} was escalated to *support* 1h 0"

    def alert_thread() -> list[str]:
        return [
            note.text for alert in fake_slack.cards("C0SUPPORT") for note in fake_slack.thread("C0SUPPORT", alert.ts)
        ]

    def all_said() -> bool:
        notes = notes_by_mention(fake_slack)
        said = all(count(notes.get(mention_id, []), text) >= 1 for mention_id, text in expected.items())
        return said and count(alert_thread(), repinged) >= 1

    def each_once() -> None:
        notes = notes_by_mention(fake_slack)
        for mention_id, text in expected.items():
            assert count(notes[mention_id], text) == 1, (mention_id, notes[mention_id])
        assert sum(count(notes[mention_id], ":hourglass:") for mention_id in notes) == 2, "only Dana's and Eli's"
        assert count(notes[seeded["fay"]], ":rotating_light:") == 1
        assert count(alert_thread(), repinged) == 1 and len(alert_thread()) == 1

    def more_checks() -> None:
        """Two more SLA checks finished (whoever leads makes them; the first may have begun before), then the
        outbox drained: a reminder sent twice would be in Slack by now."""
        made = sum(worker.jobs_run("SLA reminders") for worker in workers)
        fake_slack.wait_for(
            lambda: sum(worker.jobs_run("SLA reminders") for worker in workers) >= made + 2,
            timeout=30,
            what="two more SLA checks",
        )
        wait_until_settled(own_postgres_url, feeds, polls=0)

    try:
        workers[0].start("worker")
        workers[1].start("worker")
        fake_slack.wait_for(all_said, timeout=30, what="every reminder")
        more_checks()
        each_once()

        workers[0].stop()
        workers[2].start("worker")
        more_checks()  # by a new leader when the stopped worker led: a follower takes over within 5 s
        each_once()
    finally:
        for worker in workers:
            worker.stop()
    logs = "\n".join(worker.logs() for worker in workers)
    assert "Traceback" not in logs, logs


QUESTION = Entry(
    guid="q-1",
    title="Acme cloud question",
    description="How do I export my Acme data?",
    link="https://forum.example.com/q/1",
)


def choose(fake_slack, person: SlackUser, value: str, *, channel: str, message_ts: str):
    """Pick an option of the card's snooze menu, as Slack sends it."""
    payload = {
        "type": "block_actions",
        "user": {"id": person.user_id, "username": person.name, "team_id": "T0TEST"},
        "api_app_id": "A0ALLEARS",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "trigger_id": "trigger-snooze",
        "channel": {"id": channel, "name": channel.lower()},
        "message": {"type": "message", "ts": message_ts},
        "response_url": fake_slack.response_url(f"{person.name}-menu"),
        "actions": [
            {
                "action_id": "mention_snooze",
                "block_id": "card_actions",
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "Wake up now"}, "value": value},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return person.post(urlencode({"payload": json.dumps(payload)}))


def test_ana_snoozes_a_card_with_the_command_and_ben_wakes_it_from_the_menu(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([QUESTION]))
    bot.start()
    card = fake_slack.wait_for(lambda: fake_slack.cards("C0LISTEN"), what="the card")[0]
    ana, ben = SlackUser("U_ANA", bot.url, fake_slack), SlackUser("U_BEN", bot.url, fake_slack)

    ana.command("/snooze", "M-1 1h 30m")
    answer = fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="Ana's answer")[0]
    assert answer["text"].startswith("Snoozed M-1 until <!date^") and "no SLA reminders until then" in answer["text"]
    ana.command("/snooze", "M-1 2h")
    answer = fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="Ana's answer")[0]
    assert "(it was snoozed until <!date^" in answer["text"]
    fake_slack.wait_for(lambda: ":zzz: Snoozed until" in card.all_text(), what="the card to show the snooze")
    assert "by <@U_ANA>" in card.all_text() and '"value": "1:off"' in card.all_text()

    ana.command("/snooze", "M-1 45d")
    refused = fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="a refusal")[0]
    assert "at most 30 days" in refused["text"]
    ana.command("/snooze", "M-1 soon")
    refused = fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="a refusal")[0]
    assert "`soon` is not a length of time" in refused["text"]

    assert choose(fake_slack, ben, "1:off", channel="C0LISTEN", message_ts=card.ts).status_code == 200
    fake_slack.wait_for(lambda: ":zzz: Snoozed until" not in card.all_text(), what="the card to wake up")
    thread = fake_slack.wait_for(
        lambda: len(fake_slack.thread("C0LISTEN", card.ts)) == 3 and fake_slack.thread("C0LISTEN", card.ts),
        what="three thread notes",
    )
    assert all(note.text.startswith(":zzz: <@U_ANA> snoozed this until <!date^") for note in thread[:2])
    assert thread[2].text == ":alarm_clock: <@U_BEN> woke this up: its SLA timers run again."
    assert fake_slack.responses("ben-menu") == [], "the card and its thread are the answer"
