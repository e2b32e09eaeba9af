"""The Home tab: built from mentions stored on SQLite and PostgreSQL, within Block Kit's limits, and
published through the fake Slack's `views.publish` when someone opens it or acts."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.act import actions
from bot.act.queues import queues_for
from bot.act.sla import timers
from bot.app.standin.slack import BOT_TOKEN, view_problems
from bot.ground.config import BusinessHours, Config, Sla, SlaTargets
from bot.ground.db import read_scope, session_scope
from bot.ground.models import Event, EventKind, Mention, Outcome
from bot.remember.counting import week_so_far
from bot.remember.weeks import Week
from bot.slack.cards import mention_card
from bot.slack.home import ROWS, home_view, sla_state
from bot.slack.payloads import MentionRef
from handlers.errors import after_ack
from handlers.home import HomeTabs
from tests.factories import store_mention
from tests.reading import label

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


def _build(engine, viewer, channels, now=None, sla_settings=None):
    now = now or datetime.now(UTC)
    with read_scope(engine) as session:
        queues = queues_for(session, user_id=viewer, channels=channels, limit=ROWS)
        figures = week_so_far(session, Week.containing(now), now=now)
    return home_view(queues=queues, figures=figures, sla=sla_settings or Sla(), now=now)


def _act(engine, action, **kwargs):
    with session_scope(engine) as session:
        return action(session, **kwargs)


def _rows(view):
    """(the row's text, its button labels) under each list title, keyed by the title's first words."""
    lists, current = {}, None
    for index, block in enumerate(view["blocks"]):
        text = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
        if text.startswith((":raised_hand:", ":eyes:")):
            current = lists.setdefault(text.split("*")[1], [])
        elif block["type"] == "actions" and current is not None:
            current.append((view["blocks"][index - 1]["text"]["text"], [label(b) for b in block["elements"]]))
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
        (
            f"M-{hers}",
            ["Unclaim", "Reply", "Escalate", "Resolve", "Snooze", "⋯ Not relevant, Create issue, Link to issue"],
        )
    ]
    assert [(text.split("*")[1], buttons) for text, buttons in rows["Unclaimed in your channels"]] == [
        (
            f"M-{waiting}",
            ["Claim", "Reply", "Escalate", "Resolve", "Snooze", "⋯ Not relevant, Create issue, Link to issue"],
        )
    ], "Ben's mention is his, and the product channel's is not Ana's to see"
    mine = rows["Yours, open"][0][0]
    assert "Acme cloud is down again" in mine and "<#C0URGENT>" in mine and "claimed 0s ago" in mine
    assert ":hourglass:" in rows["Unclaimed in your channels"][0][0]
    numbers = view["blocks"][0]["text"]["text"]
    assert "Heard *4*" in numbers and "claimed *2*" in numbers and "open backlog *4*" in numbers
    action_blocks = [block for block in view["blocks"] if block["type"] == "actions"]
    assert [block["block_id"] for block in action_blocks] == [f"card_actions:{hers}", f"card_actions:{waiting}"]
    buttons = [b for b in action_blocks[0]["elements"] if b["type"] == "button"]
    assert [MentionRef.of(b["value"]) for b in buttons] == [MentionRef(mention=hers)] * 4, "the buttons carry it"
    assert {b["value"] for b in buttons} == {f'{{"v":1,"mention":{hers}}}'}, "as compact, versioned JSON"


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
        figures = week_so_far(session, Week.containing(now), now=now)
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


def _at(minutes: float) -> datetime:
    return HEARD + timedelta(minutes=minutes)


def _event(kind: EventKind, minutes: float, actor: str | None = ANA, **data) -> Event:
    return Event(mention_id=7, kind=kind, actor=actor, at=_at(minutes), data=data)


OWNED_URGENT = {"urgency": "high", "owner_id": ANA, "claimed_at": _at(5)}
CLAIMED = _event(EventKind.CLAIMED, 5)


@pytest.mark.parametrize(
    ("fields", "events", "minutes", "state"),
    [
        ({}, [], 15, ":hourglass: 5m left to claim"),
        ({}, [], 32, ":red_circle: 12m over the time to claim"),
        ({"urgency": "high"}, [], 8, ":hourglass: 2m left to claim"),
        (OWNED_URGENT, [CLAIMED], 20, ":hourglass: 15m left to reply"),
        (OWNED_URGENT, [CLAIMED], 4 * 60, ":red_circle: 3h 25m over the time to reply"),
        (OWNED_URGENT, [CLAIMED, _event(EventKind.REPLIED, 10)], 60, ":hourglass: 23h left to resolve"),
        ({"owner_id": ANA, "claimed_at": _at(5)}, [CLAIMED], 60, ""),  # normal urgency: no reply or resolve target
        ({"snoozed_until": _at(120)}, [], 60, ":zzz: snoozed until <!date^"),
        # Snoozed from 10 to 70: the reminders count 15 minutes at 75, so 5 are left.
        (
            {"snoozed_until": _at(70)},
            [_event(EventKind.SNOOZED, 10, until=_at(70).isoformat())],
            75,
            ":hourglass: 5m left to claim",
        ),
        # Resolved at 50 and reopened at 100: a new wait for an owner.
        (
            {},
            [_event(EventKind.RESOLVED, 50, outcome="answered"), _event(EventKind.REOPENED, 100, actor=None)],
            110,
            ":hourglass: 10m left to claim",
        ),
        # Reopened with its owner: the reply timer runs again from the reopen.
        (
            OWNED_URGENT,
            [CLAIMED, _event(EventKind.REPLIED, 10), _event(EventKind.RESOLVED, 20), _event(EventKind.REOPENED, 100)],
            120,
            ":hourglass: 10m left to reply",
        ),
    ],
)
def test_the_sla_state_counts_what_the_reminders_count(fields, events, minutes, state):
    shown = sla_state(_mention(**fields), events, TARGETS, _at(minutes))
    assert shown.startswith(state) and (state or not shown)


def test_with_business_hours_the_sla_state_says_it_counts_only_those():
    office = TARGETS.model_copy(update={"business_hours": BusinessHours()})  # 09:00–17:00 UTC, Monday to Friday
    tuesday_4_50pm = datetime(2026, 11, 24, 16, 50, tzinfo=UTC)
    mention = _mention(heard_at=tuesday_4_50pm)
    assert sla_state(mention, [], office, datetime(2026, 11, 25, 9, 5, tzinfo=UTC)) == (
        ":hourglass: 5m of business time left to claim"
    )


def test_without_sla_timers_no_state_is_shown_but_a_snooze_still_is():
    off = Sla(enabled=False)
    assert sla_state(_mention(), [], off, HEARD + timedelta(hours=5)) == ""
    assert sla_state(_mention(snoozed_until=HEARD + timedelta(days=1)), [], off, HEARD).startswith(":zzz:")


def test_the_home_says_time_is_up_when_the_reminder_is_sent_after_a_snooze_and_a_reopen(engine):
    config = Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}})
    mention_id = store_mention(engine, channel="C0URGENT")
    with session_scope(engine) as session:
        session.get(Mention, mention_id).heard_at = HEARD
    _act(engine, actions.resolve, mention_id=mention_id, user_id=ANA, outcome=Outcome.ANSWERED, now=_at(5))
    _act(engine, actions.reopen, mention_id=mention_id, user_id=ANA, now=_at(60))
    _act(engine, actions.snooze, mention_id=mention_id, user_id=ANA, duration=timedelta(minutes=30), now=_at(70))

    def state(minutes: float) -> str:
        view = _build(engine, ANA, {"C0URGENT"}, now=_at(minutes), sla_settings=config.sla)
        [(row, _)] = _rows(view)["Unclaimed in your channels"]
        return row.split(" · ")[-1].split("\n")[0]

    assert timers.check(engine, config, now=_at(109)) == [(mention_id, "awake")]
    assert state(109) == ":hourglass: 1m left to claim", "10 minutes before the snooze, 9 after it"
    assert timers.check(engine, config, now=_at(110)) == [(mention_id, "claim 1")]
    assert state(110) == ":red_circle: 0s over the time to claim"
    assert "business hours or not" not in json.dumps(_build(engine, ANA, {"C0URGENT"}, now=_at(110)))


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
    assert fake_slack.homes_published(BEN) == 1, "another process may have seen Ben open his Home"
    homes.after_action({"user": {"id": BEN}, "type": "block_actions", "view": {"type": "home"}}, client)
    assert fake_slack.homes_published(BEN) == 2
    assert f"M-{mention_id}" not in json.dumps(fake_slack.home(BEN)), "Ben is not in the urgent channel"
    homes.after_action({"type": "block_actions"}, client)
    assert len(fake_slack.calls_to("views.publish")) == 4, "an action without a user redraws nothing"


def test_a_process_that_never_saw_the_home_opened_still_redraws_it_after_an_action(
    sqlite_engine, homes, client, fake_slack
):
    """Two web processes: the first handles Ana opening her Home, the second her slash command."""
    mention_id = store_mention(sqlite_engine, channel="C0URGENT")
    fake_slack.set_channels(ANA, "C0URGENT")
    config = Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}})
    other = HomeTabs(sqlite_engine, config)
    homes.opened(ANA, client)

    _act(sqlite_engine, actions.claim, mention_id=mention_id, user_id=ANA)
    other.after_action({"user_id": ANA, "command": "/claim"}, client)

    assert fake_slack.homes_published(ANA) == 2
    assert "Unclaim" in json.dumps(fake_slack.home(ANA)), "her Home shows the claim made through the other process"


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


REFUSED_FROM = {
    "a slash command": {"command": "/claim", "text": "M-1", "user_id": BEN},
    "a card in a channel": {"type": "block_actions", "user": {"id": BEN}, "container": {"type": "message"}},
    "his Home": {"type": "block_actions", "user": {"id": BEN}, "container": {"type": "view"}, "view": {"type": "home"}},
    "a modal": {"type": "view_submission", "user": {"id": BEN}, "view": {"type": "modal"}},
}


def _redraws_after(listener, work, client, body, fake_slack):
    before = fake_slack.homes_published(BEN)
    listener(lambda: None, body, client)
    work.submit(lambda: None).result()  # one worker: the listener's work and its follow-up are done
    return fake_slack.homes_published(BEN) - before


def test_a_refusal_redraws_the_home_only_where_he_may_have_acted_from_it(sqlite_engine, homes, client, fake_slack):
    """Ben tries to claim what Ana claimed: refused, nothing changed. Typed as a slash command or clicked on a card
    in a channel, his Home is left as it was (opening it draws it afresh). Clicked in his Home, or submitted from a
    modal (which may have been opened there), his Home catches up: it offered him a mention that was gone."""
    mention_id = store_mention(sqlite_engine, channel="C0URGENT")
    _act(sqlite_engine, actions.claim, mention_id=mention_id, user_id=ANA)

    def claim(body, slack_client):
        _act(sqlite_engine, actions.claim, mention_id=mention_id, user_id=BEN)

    with ThreadPoolExecutor(max_workers=1) as work:
        listener = after_ack(work, afterwards=homes.after_action)(claim)
        redraws = {
            where: _redraws_after(listener, work, client, body, fake_slack) for where, body in REFUSED_FROM.items()
        }

    assert redraws == {"a slash command": 0, "a card in a channel": 0, "his Home": 1, "a modal": 1}
    assert len([m for m in fake_slack.messages(BEN) if "already claimed by <@U_ANA>" in m.text]) == 4


def test_after_an_unexpected_error_the_home_is_redrawn_wherever_he_acted(sqlite_engine, homes, client, fake_slack):
    """Only a refusal is known to have changed nothing; a failure may have happened halfway."""

    def fails(body, slack_client):
        raise RuntimeError("the database went away")

    with ThreadPoolExecutor(max_workers=1) as work:
        listener = after_ack(work, afterwards=homes.after_action)(fails)
        redraws = {
            where: _redraws_after(listener, work, client, body, fake_slack) for where, body in REFUSED_FROM.items()
        }

    assert set(redraws.values()) == {1}
    assert len([m for m in fake_slack.messages(BEN) if "Something went wrong on our side" in m.text]) == 4


def _numbers(fake_slack, user_id):
    return fake_slack.home(user_id)["blocks"][0]["text"]["text"]


def test_the_weeks_numbers_are_counted_once_for_a_burst_of_redraws_but_the_queues_always_afresh(
    sqlite_engine, client, fake_slack
):
    config = Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}})
    homes = HomeTabs(sqlite_engine, config, numbers_for=3600)
    first = store_mention(sqlite_engine, channel="C0URGENT")
    homes.opened(ANA, client)
    assert "Heard *1*" in _numbers(fake_slack, ANA)

    second = store_mention(sqlite_engine, external_id="second", channel="C0URGENT")
    _act(sqlite_engine, actions.claim, mention_id=second, user_id=BEN)
    homes.after_action({"user_id": BEN, "command": "/claim"}, client)

    assert "Heard *1*" in _numbers(fake_slack, BEN), "the numbers Ana's Home counted a moment ago"
    assert [text.split("*")[1] for text, _ in _rows(fake_slack.home(BEN))["Yours, open"]] == [f"M-{second}"]
    assert f"M-{first}" in json.dumps(fake_slack.home(BEN))

    HomeTabs(sqlite_engine, config, numbers_for=0).opened(BEN, client)
    assert "Heard *2*" in _numbers(fake_slack, BEN) and "claimed *1*" in _numbers(fake_slack, BEN)
