"""The Home tab: built from mentions stored on SQLite and PostgreSQL, within Block Kit's limits, and
published through the fake Slack's `views.publish` when someone opens it or acts."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot import actions
from bot.config import Config, Sla, SlaTargets
from bot.db import read_scope, session_scope
from bot.metrics import Week, weekly_figures
from bot.models import Mention
from bot.queues import queues_for
from bot.slack.cards import mention_card
from bot.slack.home import ROWS, home_view, sla_state, span
from handlers.errors import after_ack
from handlers.home import HomeTabs
from tests.factories import store_mention
from tests.fakeslack import BOT_TOKEN, view_problems

ANA, BEN = "U_ANA", "U_BEN"
HOSTILE = "<!channel> @here <@U123> *bold* `code` & <https://evil.example|click> " + "x" * 5000


def _texts(view):
    """Every text object a reader sees, for the escaping checks."""
    for block in view["blocks"]:
        if isinstance(block.get("text"), dict):
            yield block["text"]
        for element in block.get("elements", []):
            if element.get("type") in ("mrkdwn", "plain_text"):
                yield element


def _build(engine, viewer, channels, now=None):
    now = now or datetime.now(UTC)
    with read_scope(engine) as session:
        queues = queues_for(session, user_id=viewer, channels=channels, limit=ROWS)
        figures = weekly_figures(session, Week.containing(now), now=now)
    return home_view(queues=queues, figures=figures, sla=Sla(), now=now)


def _act(engine, action, **kwargs):
    with session_scope(engine) as session:
        return action(session, **kwargs)


def _label(element):
    return (element.get("text") or element.get("placeholder"))["text"]


def _rows(view):
    """(the row's text, its button labels) under each list title, keyed by the title's first words."""
    lists, current = {}, None
    for index, block in enumerate(view["blocks"]):
        text = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
        if text.startswith((":raised_hand:", ":eyes:")):
            current = lists.setdefault(text.split("*")[1], [])
        elif block["type"] == "actions" and current is not None:
            current.append((view["blocks"][index - 1]["text"]["text"], [_label(b) for b in block["elements"]]))
    return lists


def test_ana_sees_what_she_owns_and_what_waits_in_her_channels_with_the_weeks_numbers(engine):
    hers = store_mention(engine, external_id="a", channel="C0URGENT", text="Acme cloud is down again")
    waiting = store_mention(engine, external_id="b", channel="C0URGENT", text="Acme invoices are wrong")
    store_mention(engine, external_id="c", channel="C0PRODUCT", text="Acme should add dark mode")
    bens = store_mention(engine, external_id="d", channel="C0URGENT", text="Acme login loops")
    _act(engine, actions.claim, mention_id=hers, user_id=ANA)
    _act(engine, actions.claim, mention_id=bens, user_id=BEN)

    view = _build(engine, ANA, {"C0URGENT", "C0LISTEN"})

    assert view["type"] == "home" and view_problems(view) == []
    rows = _rows(view)
    assert [(text.split("*")[1], buttons) for text, buttons in rows["Yours, open"]] == [
        (f"M-{hers}", ["Unclaim", "Reply", "Escalate", "Resolve", "Snooze"])
    ]
    assert [(text.split("*")[1], buttons) for text, buttons in rows["Unclaimed in your channels"]] == [
        (f"M-{waiting}", ["Claim", "Reply", "Escalate", "Resolve", "Snooze"])
    ], "Ben's mention is his, and the product channel's is not Ana's to see"
    mine = rows["Yours, open"][0][0]
    assert "Acme cloud is down again" in mine and "<#C0URGENT>" in mine and "claimed 1 min ago" in mine
    assert ":hourglass:" in rows["Unclaimed in your channels"][0][0]
    numbers = view["blocks"][0]["text"]["text"]
    assert "Heard *4*" in numbers and "claimed *2*" in numbers and "open backlog *4*" in numbers
    action_blocks = [block for block in view["blocks"] if block["type"] == "actions"]
    assert [block["block_id"] for block in action_blocks] == [f"card_actions:{hers}", f"card_actions:{waiting}"]
    buttons = [b for b in action_blocks[0]["elements"] if b["type"] == "button"]
    assert [b["value"] for b in buttons] == [str(hers)] * 4, "the buttons carry the mention"


def test_the_home_rows_have_exactly_the_cards_buttons(engine):
    mention_id = store_mention(engine)
    with read_scope(engine) as session:
        mention = session.get(Mention, mention_id)
        card = mention_card(mention, [])
    row = next(block for block in _build(engine, ANA, {"C0LISTEN"})["blocks"] if block["type"] == "actions")
    assert card[-1]["block_id"] == "card_actions", "the card in the channel keeps its block id"
    assert row["elements"] == card[-1]["elements"]


def test_two_hundred_hostile_mentions_stay_within_block_kit_limits(engine):
    for number in range(200):
        store_mention(
            engine,
            external_id=f"storm-{number}",
            channel="C0URGENT",
            text=HOSTILE,
            title=HOSTILE[:900] if number % 2 else None,
            author="<!everyone> " + "y" * 480,
            source="<!here>" + "z" * 480,
            url=f"https://example.com/{'p' * 1900}?<x>|{number}",
        )
    for mention_id in range(1, 101):
        _act(engine, actions.claim, mention_id=mention_id, user_id=ANA)

    view = _build(engine, ANA, {"C0URGENT"})

    assert view_problems(view) == [] and len(view["blocks"]) <= 100
    rendered = json.dumps(view)
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<https://evil.example|click>"):
        assert raw not in rendered
    assert "&lt;!channel&gt;" in rendered
    assert all(text.get("verbatim") for text in _texts(view) if text["type"] == "mrkdwn")
    assert len(_rows(view)["Yours, open"]) == ROWS and len(_rows(view)["Unclaimed in your channels"]) == ROWS
    more = [block["elements"][0]["text"] for block in view["blocks"] if block["type"] == "context"]
    assert "…and 80 more" in more and more.count("…and 80 more") == 2
    block_ids = [block["block_id"] for block in view["blocks"] if "block_id" in block]
    assert len(block_ids) == len(set(block_ids)) == 2 * ROWS


def test_empty_lists_say_so_and_a_viewer_whose_channels_are_unknown_sees_only_her_own(engine):
    store_mention(engine, channel="C0URGENT")
    empty = _build(engine, ANA, set())
    texts = json.dumps(empty)
    assert "you own no open mention" in texts and "Nothing waits" in texts
    assert "(0)" in texts and view_problems(empty) == []

    now = datetime.now(UTC)
    with read_scope(engine) as session:
        queues = queues_for(session, user_id=ANA, channels=(), limit=ROWS)
        figures = weekly_figures(session, Week.containing(now), now=now)
    unknown = json.dumps(home_view(queues=queues, figures=figures, sla=Sla(), now=now, channels_known=False))
    assert "could not tell which channels you are in" in unknown and "channels:read" in unknown


HEARD = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TARGETS = Sla(
    normal=SlaTargets(claim_within=timedelta(minutes=20)),
    high=SlaTargets(
        claim_within=timedelta(minutes=10), reply_within=timedelta(minutes=30), resolve_within=timedelta(days=1)
    ),
)


def _mention(**fields):
    defaults = {"id": 7, "source": "feed", "source_kind": "rss", "external_id": "x", "text": "t", "polarity": 0}
    return Mention(**(defaults | {"sentiment": "negative", "channel": "C0URGENT", "heard_at": HEARD} | fields))


@pytest.mark.parametrize(
    ("fields", "minutes", "state"),
    [
        ({}, 15, ":hourglass: 5 min left to claim"),
        ({}, 32, ":red_circle: 12 min over the time to claim"),
        ({"urgency": "high"}, 8, ":hourglass: 2 min left to claim"),
        ({"urgency": "high", "owner_id": ANA}, 20, ":hourglass: 10 min left to reply"),
        ({"urgency": "high", "owner_id": ANA}, 4 * 60, ":red_circle: 3 h over the time to reply"),
        ({"urgency": "high", "owner_id": ANA, "first_reply_at": HEARD}, 60, ":hourglass: 23 h left to resolve"),
        ({"owner_id": ANA}, 60, ""),  # normal urgency sets no reply or resolve target
        ({"snoozed_until": HEARD + timedelta(hours=2)}, 60, ":zzz: snoozed until <!date^"),
        ({"snoozed_until": HEARD + timedelta(minutes=10)}, 60, ":red_circle: 40 min over the time to claim"),
    ],
)
def test_the_sla_state_counts_from_when_the_mention_was_heard(fields, minutes, state):
    shown = sla_state(_mention(**fields), TARGETS, HEARD + timedelta(minutes=minutes))
    assert shown.startswith(state) and (state or not shown)


def test_without_sla_timers_no_state_is_shown_but_a_snooze_still_is():
    off = Sla(enabled=False)
    assert sla_state(_mention(), off, HEARD + timedelta(hours=5)) == ""
    assert sla_state(_mention(snoozed_until=HEARD + timedelta(days=1)), off, HEARD).startswith(":zzz:")


@pytest.mark.parametrize(
    ("duration", "shown"),
    [
        (timedelta(seconds=20), "1 min"),
        (timedelta(minutes=12, seconds=59), "12 min"),
        (timedelta(minutes=60), "1 h"),
        (timedelta(hours=47, minutes=59), "47 h"),
        (timedelta(days=3, hours=5), "3 d"),
    ],
)
def test_ages_read_at_a_glance(duration, shown):
    assert span(duration) == shown


@pytest.fixture
def homes(sqlite_engine):
    config = Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}})
    return HomeTabs(sqlite_engine, config, channels_for=60)


@pytest.fixture
def client(fake_slack):
    return WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)


def test_opening_the_home_publishes_it_and_later_actions_redraw_it(sqlite_engine, homes, client, fake_slack):
    mention_id = store_mention(sqlite_engine, channel="C0URGENT")
    fake_slack.set_channels(ANA, "C0URGENT")
    fake_slack.set_channels(BEN, "C0LISTEN")

    homes.opened(ANA, client)
    assert f"M-{mention_id}" in json.dumps(fake_slack.home(ANA))

    _act(sqlite_engine, actions.claim, mention_id=mention_id, user_id=ANA)
    homes.after_action({"user": {"id": ANA}, "type": "block_actions"}, client)
    assert "Unclaim" in json.dumps(fake_slack.home(ANA)) and fake_slack.homes_published(ANA) == 2
    assert len(fake_slack.calls_to("users.conversations")) == 1, "her channels are remembered for a while"

    homes.after_action({"user_id": BEN, "command": "/claim"}, client)
    assert fake_slack.homes_published(BEN) == 0, "Ben never opened his Home: nothing to redraw"
    homes.after_action({"user": {"id": BEN}, "type": "block_actions", "view": {"type": "home"}}, client)
    assert fake_slack.homes_published(BEN) == 1, "a click in the Home tab redraws it, whoever handled the open"
    assert f"M-{mention_id}" not in json.dumps(fake_slack.home(BEN)), "Ben is not in the urgent channel"


def test_without_the_channel_scopes_the_home_still_shows_her_own_mentions(sqlite_engine, homes, client, fake_slack):
    mention_id = store_mention(sqlite_engine, channel="C0URGENT")
    _act(sqlite_engine, actions.claim, mention_id=mention_id, user_id=ANA)
    store_mention(sqlite_engine, external_id="other", channel="C0URGENT")
    fake_slack.fail("users.conversations", status=200, error="missing_scope", times=1)

    homes.opened(ANA, client)

    home = json.dumps(fake_slack.home(ANA))
    assert f"M-{mention_id}" in home and "M-2" not in home and "channels:read" in home


def test_a_failed_redraw_never_hides_the_answer(sqlite_engine, homes, client, fake_slack, caplog):
    fake_slack.fail("views.publish", status=500, times=5)
    told = []

    def handler(body, slack_client):
        told.append(body["user"]["id"])

    with ThreadPoolExecutor(max_workers=1) as work:
        listener = after_ack(work, afterwards=homes.after_action)(handler)
        listener(lambda: None, {"user": {"id": ANA}, "view": {"type": "home"}}, client)

    assert told == [ANA] and fake_slack.homes_published(ANA) == 0
    assert "follow-up to" in caplog.text
