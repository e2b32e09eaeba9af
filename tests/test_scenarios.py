"""The listeners in-process, one story per kind of Slack request: the app comes from the factory
(`create_app(settings)`), each request is signed as Slack signs it and handed to `app.dispatch`, and the
Web API calls go to the fake Slack on loopback. The real processes keep their end-to-end tests."""

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from slack_bolt import App
from sqlalchemy import Engine, func, select

from bot.app.standin.slack import BOT_TOKEN, FakeSlack, Message
from bot.app.standin.users import SIGNING_SECRET, chosen, signature, typed
from bot.ground.db import make_engine, read_scope
from bot.ground.models import Mention, MentionStatus
from bot.ground.settings import Settings
from bot.slack.client import slack_client
from bot.slack.delivery import Deliverer
from bot.slack.modals import ModalContext
from handlers.app import create_app
from tests.botprocess import config_toml
from tests.factories import store_mention
from tests.slack_requests import InProcessUser, answer

COMPLAINT = "Acme cloud has been down for 3 hours, terrible support"


@dataclass
class Workspace:
    app: App
    engine: Engine
    fake: FakeSlack
    deliverer: Deliverer

    def person(self, user_id: str, **forged: str) -> InProcessUser:
        return InProcessUser(user_id, self.app, self.fake, forged=forged)

    def card(self, mention_id: int) -> Message:
        """Post what the outbox holds, as the pump would, and find the mention's card."""
        self.deliverer.deliver_due()
        return next(card for card in self.fake.cards() if f"M-{mention_id}" in card.all_text())

    def shows(self, condition: Callable[[], object], *, what: str) -> object:
        """Deliver the outbox, as the pump would, until `condition` holds: the work after an ack runs on its own
        thread, so what it records may not be there yet."""

        def delivered() -> object:
            self.deliverer.deliver_due()
            return condition()

        return self.fake.wait_for(delivered, what=what)

    def answers(self, person: InProcessUser, what: str) -> list[dict]:
        return self.fake.wait_for(lambda: self.fake.responses(person.last_response_key), what=what)

    def mentions(self) -> int:
        with read_scope(self.engine) as session:
            return session.scalar(select(func.count()).select_from(Mention)) or 0


@pytest.fixture
def workspace(tmp_path: Path, fake_slack: FakeSlack, migrated_sqlite: Callable[[Path], str]) -> Iterator[Workspace]:
    database_url = migrated_sqlite(tmp_path / "allears.db")
    engine = make_engine(database_url)
    (tmp_path / "allears.toml").write_text(config_toml("http://127.0.0.1:9/acme.xml"))
    settings = Settings(
        _env_file=None,  # not a .env where the tests run
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        database_url=database_url,
        allears_config=tmp_path / "allears.toml",
        slack_post_interval=0,
    )
    deliverer = Deliverer(engine, slack_client(settings), post_interval=0)
    yield Workspace(create_app(settings), engine, fake_slack, deliverer)
    engine.dispose()


def test_the_app_has_a_name_so_bolt_does_not_read_the_call_stack_for_one(workspace):
    """Unnamed, Bolt takes its caller's file name from `inspect.stack()`: 60 ms of a start with the bot loaded."""
    assert workspace.app.name == "allears.bolt"
    assert logging.getLogger("allears").level == logging.NOTSET, "the bot's own logger keeps the level it is given"


def test_ana_claims_with_a_slash_command_and_bens_is_refused(workspace):
    mention_id = store_mention(workspace.engine, text=COMPLAINT)
    card = workspace.card(mention_id)
    ana, ben = workspace.person("U_ANA"), workspace.person("U_BEN")

    assert answer(ana.command("/claim", f"M-{mention_id}")) == ""
    assert workspace.answers(ana, "Ana's confirmation")[0]["text"].startswith(f"You claimed M-{mention_id}")
    workspace.shows(lambda: "Claimed by <@U_ANA>" in card.all_text(), what="Ana on the card")

    ben.command("/claim", str(mention_id))
    refusal = workspace.answers(ben, "Ben's refusal")[0]
    assert refusal["text"] == f"M-{mention_id} is already claimed by <@U_ANA>."
    assert refusal["response_type"] == "ephemeral"


def test_a_command_about_nothing_or_a_word_it_does_not_know_says_how_to_use_it(workspace):
    ana = workspace.person("U_ANA")
    ana.command("/claim", "M-404")
    assert "There is no mention M-404" in workspace.answers(ana, "the unknown mention")[0]["text"]
    ana.command("/allears", "frobnicate")
    assert "/allears" in workspace.answers(ana, "the usage")[0]["text"]


def test_ana_clicks_claim_on_the_card_and_bens_click_is_refused(workspace):
    mention_id = store_mention(workspace.engine, text=COMPLAINT)
    card = workspace.card(mention_id)
    ana, ben = workspace.person("U_ANA"), workspace.person("U_BEN")
    claim = next(element for element in card.blocks[-1]["elements"] if element["action_id"] == "mention_claim")

    assert answer(ana.click("mention_claim", claim["value"], channel=card.channel, message_ts=card.ts)) == ""
    workspace.shows(lambda: "Claimed by <@U_ANA>" in card.all_text(), what="Ana on the card")
    ben.click("mention_claim", claim["value"], channel=card.channel, message_ts=card.ts)
    assert "already claimed by <@U_ANA>" in workspace.answers(ben, "Ben's refusal")[0]["text"]
    assert "U_BEN" not in card.all_text()


def test_ana_replies_in_the_modal_and_an_empty_reply_comes_back_on_its_field(workspace):
    mention_id = store_mention(workspace.engine, text=COMPLAINT)
    card = workspace.card(mention_id)
    ana = workspace.person("U_ANA")

    ana.click("mention_reply", str(mention_id), channel=card.channel, message_ts=card.ts)
    modal = workspace.fake.wait_for(lambda: workspace.fake.views, what="the reply modal")[-1]
    assert modal["callback_id"] == "reply_modal"

    refused = ana.submit(modal, {"reply_text": typed("   ")})
    assert json.loads(answer(refused)) == {
        "response_action": "errors",
        "errors": {"reply_text": "Write what you answered the customer."},
    }
    assert answer(ana.submit(modal, {"reply_text": typed("Sorry! We're on it.")})) == "", "a good form closes"
    workspace.shows(
        lambda: any("We're on it" in reply.text for reply in workspace.fake.thread(card.channel, card.ts)),
        what="the reply in the card's thread",
    )


def test_an_escalation_to_a_team_that_is_not_there_comes_back_on_the_team(workspace):
    mention_id = store_mention(workspace.engine, text=COMPLAINT)
    card = workspace.card(mention_id)
    ana = workspace.person("U_ANA")
    ana.click("mention_escalate", str(mention_id), channel=card.channel, message_ts=card.ts)
    modal = workspace.fake.wait_for(lambda: workspace.fake.views, what="the escalation modal")[-1]

    values = {"escalate_team": chosen("legal"), "escalate_reason": typed("Lawyers")}
    errors = json.loads(answer(ana.submit(modal, values)))["errors"]
    assert list(errors) == ["escalate_team"] and "There is no team `legal`" in errors["escalate_team"]
    workspace.deliverer.deliver_due()
    assert workspace.fake.messages("C0SUPPORT") == [] and workspace.fake.messages("C0PRODUCT") == []


def test_sam_logs_a_message_with_the_shortcut_once(workspace):
    sam = workspace.person("U_SAM")
    message = {"text": "Customer on the call: Acme exports are painfully slow", "user": "U_SAM", "ts": "1.000100"}

    assert answer(sam.shortcut("log_mention", channel="C0SALES", message=message)) == ""
    assert workspace.answers(sam, "the confirmation")[0]["text"].startswith("Logged as M-1")
    sam.shortcut("log_mention", channel="C0SALES", message=message)
    assert workspace.answers(sam, "the second answer")[0]["text"] == "That was already logged as M-1."
    assert workspace.mentions() == 1
    workspace.deliverer.deliver_due()
    assert "painfully slow" in workspace.fake.cards()[0].all_text()


def test_ana_opens_her_home_tab_and_a_redelivered_event_is_not_handled_twice(workspace, caplog):
    store_mention(workspace.engine, text=COMPLAINT)
    ana = workspace.person("U_ANA")

    assert answer(ana.open_home()) == ""
    home = workspace.fake.wait_for(lambda: workspace.fake.home("U_ANA"), what="Ana's Home")
    assert "Unclaimed in your channels" in json.dumps(home) and "M-1" in json.dumps(home)

    with caplog.at_level(logging.INFO, logger="handlers.app"):
        again = ana.resend(headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert answer(again) == ""
    assert "acknowledged, not handled twice" in caplog.text
    ana.open_home()
    workspace.fake.wait_for(lambda: workspace.fake.homes_published("U_ANA") == 2, what="the second opening")
    assert workspace.fake.homes_published("U_ANA") == 2


FORGERIES = {
    "wrong signature": {"signature": "v0=" + "0" * 64},
    "ten minutes old": {"timestamp": str(int(time.time()) - 60 * 10)},
    "signature of another body": {"signature": signature("another body", str(int(time.time())))},
}
REQUESTS: dict[str, Callable[[InProcessUser, int], object]] = {
    "slash command": lambda eve, mention: eve.command("/claim", str(mention)),
    "block action": lambda eve, mention: eve.click("mention_claim", str(mention), channel="C0LISTEN", message_ts="1.0"),
    "view submission": lambda eve, mention: eve.submit(
        {"id": "V1", "callback_id": "resolve_modal", "private_metadata": ModalContext(mention_id=mention).dump()},
        {"resolve_outcome": chosen("answered")},
    ),
    "message shortcut": lambda eve, mention: eve.shortcut(
        "log_mention", channel="C0LISTEN", message={"text": "Acme is down", "ts": "2.0"}
    ),
    "event": lambda eve, mention: eve.open_home(),
}


@pytest.mark.parametrize("forgery", FORGERIES.values(), ids=FORGERIES.keys())
@pytest.mark.parametrize("request_kind", REQUESTS.values(), ids=REQUESTS.keys())
def test_eve_forges_each_kind_of_request_and_gets_401_with_nothing_done(workspace, request_kind, forgery):
    mention_id = store_mention(workspace.engine, text=COMPLAINT)
    workspace.card(mention_id)
    calls = len(workspace.fake.calls)
    eve = workspace.person("U_EVE", **forgery)

    assert request_kind(eve, mention_id).status == 401
    assert workspace.deliverer.deliver_due() == 0
    assert len(workspace.fake.calls) == calls and workspace.mentions() == 1
    with read_scope(workspace.engine) as session:
        mention = session.get(Mention, mention_id)
        assert (mention.owner_id, mention.status) == (None, MentionStatus.OPEN)


def test_a_request_for_a_listener_the_bot_does_not_have_is_turned_away(workspace):
    ana = workspace.person("U_ANA")
    assert ana.click("mention_frobnicate", "1", channel="C0LISTEN", message_ts="1.0").status == 404
    assert workspace.mentions() == 0
