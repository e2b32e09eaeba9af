"""Slack's payloads and the bot's button values, parsed once at the edge: versioned references that still read the
bare ids on cards posted before them, garbage refused with a message a person can act on, and forms that keep
their modal open, with the problem on its field, until they are right."""

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient

from bot.act.source_replies import SourceReplies
from bot.app.standin.slack import BOT_TOKEN
from bot.ground.config import Config
from bot.ground.db import read_scope
from bot.ground.errors import UserError
from bot.ground.models import Escalation, Mention, MentionStatus
from bot.hear.polling import Listener
from bot.hear.sources.reply_limits import ReplyLimit
from bot.slack.cards import mention_card, team_alert
from bot.slack.ids import ActionId, InputId, ViewId
from bot.slack.kit import BUTTON_VALUE
from bot.slack.modals import ModalContext, resolve_modal
from bot.slack.payloads import (
    OUT_OF_DATE,
    BlockActionPayload,
    CommandPayload,
    EscalationRef,
    EventDelivery,
    MentionRef,
    Origin,
    SnoozeChoice,
    ViewSubmissionPayload,
)
from handlers import Deps, buttons, modals
from handlers.home import HomeTabs
from tests.factories import store_mention

ANA = "U_ANA"
CONFIG = Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}})

# --- button values --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", [MentionRef(mention=42), MentionRef(mention=0), MentionRef(mention=10**18)])
def test_a_mention_reference_round_trips_as_compact_versioned_json(ref):
    value = ref.value()
    assert json.loads(value) == {"v": 1, "mention": ref.mention}
    assert " " not in value and len(value) <= BUTTON_VALUE
    assert MentionRef.of(value) == ref


def test_an_escalation_reference_round_trips_as_compact_versioned_json():
    assert EscalationRef(escalation=7).value() == '{"v":1,"escalation":7}'
    assert EscalationRef.of('{"v":1,"escalation":7}') == EscalationRef(escalation=7)


def test_the_bare_ids_of_cards_posted_before_the_upgrade_still_read():
    assert MentionRef.of("42") == MentionRef(mention=42)
    assert EscalationRef.of("7") == EscalationRef(escalation=7)


GARBAGE = [
    None,
    "",
    "abc",
    "-1",
    "4.0",
    " 42",
    "٤٢",  # Arabic-Indic digits: str.isdigit says yes, the bot never wrote them
    "{not json",
    "[1]",
    '{"v":1}',
    '{"v":2,"mention":42}',
    '{"v":1,"mention":"42"}',
    '{"v":1,"mention":-3}',
    '{"v":1,"mention":true}',
    '{"v":1,"escalation":7}',
]


@pytest.mark.parametrize("value", GARBAGE)
def test_any_other_value_is_refused_as_an_out_of_date_button(value):
    with pytest.raises(UserError) as refused:
        MentionRef.of(value)
    assert str(refused.value) == OUT_OF_DATE == "This button is out of date; use the latest card."


def test_a_mention_reference_is_not_an_escalation_reference():
    with pytest.raises(UserError, match="out of date"):
        EscalationRef.of(MentionRef(mention=7).value())


def test_a_value_over_slacks_limit_is_refused_when_built_not_truncated():
    class Huge(MentionRef):
        padding: str = "x" * BUTTON_VALUE

    with pytest.raises(ValueError, match="at most 2000"):
        Huge(mention=1).value()


def test_the_snooze_menu_keeps_its_compact_option_values():
    assert SnoozeChoice(mention=7, choice="4h").value() == "7:4h"
    assert SnoozeChoice.of("7:4h") == SnoozeChoice(mention=7, choice="4h")
    assert SnoozeChoice.of("7:until").choice == "until"
    for garbage in (None, "", "7", "7:", "x:4h", "-7:4h", '{"v":1,"mention":7}'):
        with pytest.raises(UserError, match="This menu is out of date; use the latest card."):
            SnoozeChoice.of(garbage)


def test_cards_and_alerts_carry_typed_references(sqlite_engine):
    mention_id = store_mention(sqlite_engine)
    with read_scope(sqlite_engine) as session:
        mention = session.get(Mention, mention_id)
        card = mention_card(mention, [])
    buttons_ = [element for element in card[-1]["elements"] if element["type"] == "button"]
    assert {MentionRef.of(button["value"]) for button in buttons_} == {MentionRef(mention=mention_id)}
    menu = next(element for element in card[-1]["elements"] if element["type"] == "static_select")
    assert {SnoozeChoice.of(option["value"]).mention for option in menu["options"]} == {mention_id}

    escalation = Escalation(id=5, mention_id=mention_id, team="support", channel="C0SUP", escalated_by=ANA)
    acknowledge = team_alert(mention, escalation)[-1]["elements"][0]
    assert EscalationRef.of(acknowledge["value"]) == EscalationRef(escalation=5)


# --- modal metadata -------------------------------------------------------------------------------------


def test_modal_context_round_trips_and_reads_metadata_from_before_it_was_versioned():
    context = ModalContext(mention_id=3, response_url="https://hooks.slack.test/r", reply_limit=ReplyLimit(280))
    assert json.loads(context.dump())["v"] == 1
    assert ModalContext.of_metadata(context.dump()) == context
    old = json.dumps({"mention_id": 3, "response_url": None, "reply_limit": {"most": 300, "unit": "graphemes"}})
    assert ModalContext.of_metadata(old) == ModalContext(mention_id=3, reply_limit=ReplyLimit(300, "graphemes"))


@pytest.mark.parametrize(
    "metadata",
    ["", "{not json", "[1]", '{"v":2,"mention_id":3}', '{"mention_id":3,"reply_limit":{"most":1,"unit":"words"}}'],
)
def test_modal_metadata_the_bot_did_not_write_is_an_out_of_date_form(metadata):
    with pytest.raises(UserError, match="This form is out of date; open it again from the card."):
        ModalContext.of_metadata(metadata)


def test_a_modal_context_too_long_for_slack_drops_its_response_url():
    context = ModalContext(mention_id=3, response_url="https://hooks.slack.test/" + "r" * 3000)
    assert ModalContext.of_metadata(context.dump()) == ModalContext(mention_id=3)


# --- payloads -------------------------------------------------------------------------------------------


def test_payloads_ignore_fields_they_do_not_read_and_say_who_to_answer():
    command = CommandPayload.of(
        {"command": "/claim", "text": "M-1", "user_id": ANA, "channel_id": "C1", "team_id": "T1", "is_enterprise": 1}
    )
    assert (command.actor(), command.conversation(), command.what(), command.kind()) == (ANA, "C1", "/claim", "command")
    click = BlockActionPayload.of(_click(ActionId.CLAIM, "9") | {"enterprise": None, "api_app_id": "A1"})
    assert (click.actor(), click.mention(), click.what(), click.in_a_conversation()) == (ANA, 9, "mention_claim", True)


@pytest.mark.parametrize(
    ("body", "who", "kind", "what"),
    [
        ({}, None, "request", "request"),
        ({"user": "not a dict", "actions": "nor a list", "view": 3}, None, "request", "request"),
        ({"type": "block_actions", "user": {"id": ANA}}, ANA, "block_actions", "block_actions"),
        (
            {"type": "event_callback", "event": {"type": "app_home_opened", "user": ANA}},
            None,
            "app_home_opened",
            "app_home_opened",
        ),
        ({"command": "/allears", "user_id": ANA}, ANA, "command", "/allears"),
    ],
)
def test_any_request_is_read_leniently_for_who_sent_it(body, who, kind, what):
    origin = Origin.of(body)
    assert (origin.actor(), origin.kind(), origin.what()) == (who, kind, what)


def test_a_submitted_modal_answers_through_its_openers_response_url():
    metadata = ModalContext(mention_id=1, response_url="https://hooks.slack.test/opener").dump()
    body = _submission(ViewId.RESOLVE, metadata, {})
    assert ViewSubmissionPayload.of(body).reply_url() == "https://hooks.slack.test/opener"
    assert Origin.of(body).reply_url() == "https://hooks.slack.test/opener"


# --- through the listeners ------------------------------------------------------------------------------


class _Recorder:
    """Stands in for Bolt's App: keeps each listener by its action or view id."""

    def __init__(self) -> None:
        self.listeners: dict[str, Callable[..., None]] = {}

    def _keep(self, key: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
        def keep(listener: Callable[..., None]) -> Callable[..., None]:
            self.listeners[key] = listener
            return listener

        return keep

    action = view = _keep


@pytest.fixture
def listeners(sqlite_engine) -> Iterator[tuple[dict[str, Callable[..., None]], ThreadPoolExecutor]]:
    with ThreadPoolExecutor(max_workers=1) as work, httpx.Client() as http:
        deps = Deps(
            engine=sqlite_engine,
            config=CONFIG,
            notify=lambda: None,
            work=work,
            listener=Listener(CONFIG),
            replies=SourceReplies([], http),
            homes=HomeTabs(sqlite_engine, CONFIG),
        )
        app = _Recorder()
        buttons.register(app, deps)  # type: ignore[arg-type]
        modals.register(app, deps)  # type: ignore[arg-type]
        yield app.listeners, work


@pytest.fixture
def client(fake_slack):
    return WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)


def _click(action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": ANA, "name": "ana"},
        "trigger_id": "1.2.trigger",
        "container": {"type": "message", "channel_id": "C0LISTEN"},
        "channel": {"id": "C0LISTEN"},
        "actions": [{"action_id": action_id, "block_id": "card_actions", "type": "button", "value": value}],
    }


def _submission(view_id: str, metadata: str, values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    state = {block_id: {block_id: value} for block_id, value in values.items()}
    return {
        "type": "view_submission",
        "user": {"id": ANA},
        "view": {"callback_id": view_id, "private_metadata": metadata, "state": {"values": state}},
    }


def _owner(engine, mention_id: int) -> str | None:
    with read_scope(engine) as session:
        return session.get(Mention, mention_id).owner_id


def _press(listeners, listener_id: str, body: dict[str, Any], client: WebClient) -> list[dict[str, Any]]:
    found, work = listeners
    acks: list[dict[str, Any]] = []
    found[listener_id](lambda **answer: acks.append(answer), body, client)
    work.submit(lambda: None).result()  # one worker: the listener's work is done
    return acks


@pytest.mark.parametrize(
    "value",
    [lambda mention_id: MentionRef(mention=mention_id).value(), str],
    ids=["versioned", "bare, from an old card"],
)
def test_a_click_on_a_claim_button_claims_its_mention(sqlite_engine, listeners, client, value):
    mention_id = store_mention(sqlite_engine)

    acks = _press(listeners, ActionId.CLAIM, _click(ActionId.CLAIM, value(mention_id)), client)

    assert acks == [{}] and _owner(sqlite_engine, mention_id) == ANA


def test_a_click_on_a_garbled_button_changes_nothing_and_says_the_card_is_out_of_date(
    sqlite_engine, listeners, client, fake_slack
):
    mention_id = store_mention(sqlite_engine)

    _press(listeners, ActionId.CLAIM, _click(ActionId.CLAIM, '{"v":9,"mention":1}'), client)

    assert _owner(sqlite_engine, mention_id) is None
    told = [call.args for call in fake_slack.calls_to("chat.postEphemeral")]
    assert [(said["user"], said["channel"], said["text"]) for said in told] == [(ANA, "C0LISTEN", OUT_OF_DATE)]


def test_a_bad_form_stays_open_with_the_problem_on_its_field(sqlite_engine, listeners, client):
    mention_id = store_mention(sqlite_engine)
    metadata = ModalContext(mention_id=mention_id).dump()
    with read_scope(sqlite_engine) as session:
        modal = resolve_modal(session.get(Mention, mention_id), ModalContext(mention_id=mention_id))
    assert [b.get("block_id") for b in modal["blocks"]][1] == InputId.OUTCOME
    chosen = {"type": "static_select", "selected_option": {"value": "shrugged"}}

    bad = _press(listeners, ViewId.RESOLVE, _submission(ViewId.RESOLVE, metadata, {InputId.OUTCOME: chosen}), client)
    empty = _press(listeners, ViewId.RESOLVE, _submission(ViewId.RESOLVE, metadata, {}), client)
    stale = _press(listeners, ViewId.RESOLVE, _submission(ViewId.RESOLVE, "{not json", {}), client)

    assert [(ack["response_action"], list(ack["errors"])) for ack in bad] == [("errors", [InputId.OUTCOME])]
    assert bad[0]["errors"][InputId.OUTCOME].startswith("`shrugged` is not an outcome. Choose one of `answered`")
    assert empty == [{"response_action": "errors", "errors": {"resolve_outcome": "Choose an outcome."}}]
    assert stale == [
        {
            "response_action": "errors",
            "errors": {"resolve_outcome": "This form is out of date; open it again from the card."},
        }
    ]
    with read_scope(sqlite_engine) as session:
        assert session.get(Mention, mention_id).status == MentionStatus.OPEN, "nothing was done"

    answered = {"type": "static_select", "selected_option": {"value": "answered"}}
    good = _press(listeners, ViewId.RESOLVE, _submission(ViewId.RESOLVE, metadata, {InputId.OUTCOME: answered}), client)
    assert good == [{}]
    with read_scope(sqlite_engine) as session:
        assert session.get(Mention, mention_id).status == MentionStatus.RESOLVED


def test_only_an_event_callback_with_its_id_is_a_delivery_to_tell_again():
    assert EventDelivery.of({"type": "event_callback", "event_id": "Ev01", "event": {"type": "x"}}).event_id == "Ev01"
    for other in ({"command": "/claim", "text": "7"}, {"type": "block_actions"}, {"type": "event_callback"}, None):
        assert EventDelivery.of(other) is None
