"""The optional LLM check: a mention the relevance model is unsure of waits for an OpenAI-compatible endpoint's
word (here a stand-in on 127.0.0.1); "relevant" posts its card, "irrelevant" mutes it into the digest, and
whenever the endpoint cannot say (down, slow, babbling, the day's budget spent) the card is posted."""

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from bot.act import actions
from bot.app.standin.llm import FakeLlm
from bot.app.standin.users import SlackUser, typed
from bot.ground import migrate
from bot.ground.config import Config
from bot.ground.db import make_engine, session_scope
from bot.ground.errors import MentionClosed
from bot.ground.models import Event, EventKind, Mention, MentionStatus, Outbox, OutboxKind
from bot.hear import llm
from bot.hear.relevance import UNSURE_BELOW, Muting
from tests.factories import store_mention
from tests.feedserver import Entry, rss
from tests.waiting import eventually

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
_NUMBERS = itertools.count()
LOST_BAG = "Acme lost my bag on the flight to Lyon and nobody answers"
FILM = "Acme Pictures: a slow film with a lovely score"


@pytest.fixture
def endpoint() -> Iterator[FakeLlm]:
    fake = FakeLlm(relevant_words=("flight", "bag")).start()
    yield fake
    fake.stop()


def _config(endpoint: FakeLlm, **llm_settings: object) -> Config:
    return Config.model_validate(
        {
            "listen": {"keywords": ["acme"]},
            "channels": {"default": "C0LISTEN"},
            "llm": {"base_url": endpoint.base_url, "model": "small-model", **llm_settings},
        }
    )


def _unsure(engine: Engine, *texts: str) -> list[int]:
    """Mentions as a batch leaves those the model was unsure of: waiting, with no card."""
    ids = [store_mention(engine, text=text, external_id=f"u-{next(_NUMBERS)}") for text in texts]
    with session_scope(engine) as session:
        session.execute(
            update(Mention).where(col(Mention.id).in_(ids)).values(status=MentionStatus.CHECKING, relevance=0.3)
        )
        session.execute(update(Outbox).where(col(Outbox.mention_id).in_(ids)).values(status="sent"))
    return ids


def _fates(engine: Engine, ids: list[int]) -> list[tuple[str, str | None, str | None, bool]]:
    """Each mention's status, the LLM's verdict and why it had none, and whether a card is waiting."""
    with Session(engine) as session:
        fates = []
        for mention_id in ids:
            checked = session.exec(
                select(Event).where(Event.mention_id == mention_id, Event.kind == EventKind.LLM_CHECKED)
            ).one()
            card = session.exec(
                select(Outbox).where(
                    Outbox.mention_id == mention_id, Outbox.kind == OutboxKind.CARD, Outbox.status == "pending"
                )
            ).first()
            status = session.get(Mention, mention_id).status
            fates.append((status, checked.data["verdict"], checked.data["why"], card is not None))
    return fates


def test_only_what_the_model_is_unsure_of_waits_for_the_llm():
    asking, not_asking = Muting(0.01, asks_llm=True), Muting(0.01)
    assert asking.holds_back(0.01, bar=0.02) == MentionStatus.MUTED
    assert asking.holds_back(0.3, bar=0.02) == MentionStatus.CHECKING
    assert asking.holds_back(UNSURE_BELOW, bar=0.02) is None, "more likely relevant than not: its card at once"
    assert not_asking.holds_back(0.3, bar=0.02) is None
    assert asking.holds_back(0.3, bar=None) is None, "a model that cannot promise anything holds nothing back"


def test_the_llm_posts_a_relevant_card_and_mutes_another_acme(engine, endpoint, monkeypatch):
    monkeypatch.setenv("ALLEARS_TEST_LLM_KEY", "sk-test")
    config = _config(endpoint, api_key_env="ALLEARS_TEST_LLM_KEY")
    bag, film = _unsure(engine, LOST_BAG, FILM)
    with httpx.Client() as http:
        checked = llm.check_unsure(engine, http, config, now=NOW)

    assert checked == llm.Checked(relevant=1, not_relevant=1)
    assert _fates(engine, [bag, film]) == [
        (MentionStatus.OPEN, llm.RELEVANT, None, True),
        (MentionStatus.MUTED, llm.NOT_RELEVANT, None, False),
    ]
    asked = endpoint.questions[0]
    assert asked["model"] == "small-model" and asked["_authorization"] == "Bearer sk-test"
    assert "acme" in asked["messages"][0]["content"] and LOST_BAG in asked["messages"][-1]["content"]
    with Session(engine) as session:
        assert session.exec(select(Event).where(Event.mention_id == film, Event.kind == EventKind.MUTED)).one()
    with httpx.Client() as http:
        assert llm.check_unsure(engine, http, config, now=NOW) == llm.Checked(), "each is asked once"
    assert len(endpoint.questions) == 2


def test_when_the_endpoint_cannot_say_the_card_is_posted(engine, endpoint):
    config = _config(endpoint, timeout="1s")
    down, babbled, slow = _unsure(engine, FILM, FILM + " again", FILM + " once more")
    endpoint.fail(503, times=1)
    with httpx.Client() as http:
        endpoint.babble()
        llm.check_unsure(engine, http, config, now=NOW)  # the first gets the 503, the others babble
    assert [fate[:3] for fate in _fates(engine, [down, babbled])] == [
        (MentionStatus.OPEN, None, "the endpoint answered 503"),
        (MentionStatus.OPEN, None, "the answer was neither relevant nor irrelevant"),
    ]

    endpoint.babble(False)
    endpoint.stall(2.0)
    [slow] = _unsure(engine, "Acme Pictures sequel")
    with httpx.Client() as http:
        llm.check_unsure(engine, http, config, now=NOW)
    assert _fates(engine, [slow])[0][:3] == (MentionStatus.OPEN, None, "no answer within 1s")


def test_an_endpoint_that_is_not_there_costs_nothing_but_a_log_line(engine, endpoint):
    config = _config(endpoint)
    endpoint.stop()
    [waiting] = _unsure(engine, LOST_BAG)
    with httpx.Client() as http:
        assert llm.check_unsure(engine, http, config, now=NOW) == llm.Checked(unanswered=1)
    status, verdict, why, card = _fates(engine, [waiting])[0]
    assert (status, verdict, card) == (MentionStatus.OPEN, None, True) and "could not be reached" in why


def test_past_the_daily_budget_nothing_is_asked_and_every_card_is_posted(engine, endpoint):
    config = _config(endpoint, daily_budget=2)
    first = _unsure(engine, FILM, FILM + " 2", FILM + " 3")
    with httpx.Client() as http:
        llm.check_unsure(engine, http, config, now=NOW)
    assert [fate[:3] for fate in _fates(engine, first)] == [
        (MentionStatus.MUTED, llm.NOT_RELEVANT, None),
        (MentionStatus.MUTED, llm.NOT_RELEVANT, None),
        (MentionStatus.OPEN, None, "the day's budget of questions is spent"),
    ]
    assert len(endpoint.questions) == 2
    [tomorrow] = _unsure(engine, FILM + " 4")
    with httpx.Client() as http:
        llm.check_unsure(engine, http, config, now=NOW + timedelta(days=1))
    assert _fates(engine, [tomorrow])[0][1] == llm.NOT_RELEVANT, "a new day, a new budget"


def test_nobody_acts_on_a_mention_while_the_llm_is_asked(engine):
    [waiting] = _unsure(engine, LOST_BAG)
    with session_scope(engine) as session, pytest.raises(MentionClosed, match="being checked for relevance"):
        actions.claim(session, mention_id=waiting, user_id="U_ANA")


POST = Entry(
    guid="post-1",
    title="Acme cloud ate my weekend",
    description="Acme cloud has been down for 3 hours, terrible support, still waiting",
    link="https://forum.example.com/t/1",
)


def _ask_llm(bot, endpoint: FakeLlm) -> None:
    """The bot's `allears.toml` gains an `[llm]` section pointing at the stand-in."""
    config = bot.workdir / "allears.toml"
    config.write_text(config.read_text() + f'\n[llm]\nbase_url = "{endpoint.base_url}"\nmodel = "m"\n')


def _reply_form(fake_slack, *, ready: bool):
    """The Reply form as it stands, once the suggestion is shown (`ready`) or while it is coming."""

    def shown():
        forms = [view for view in fake_slack.views if view["callback_id"] == "reply_modal"]
        return forms and (not ready or "is suggesting" not in str(forms[-1]["blocks"])) and forms[-1]

    return fake_slack.wait_for(shown, what="the reply form")


def test_ana_opens_the_reply_form_and_the_llm_suggests_a_reply_she_can_copy(bot, feeds, fake_slack, endpoint):
    feeds.publish("/acme.xml", rss([POST]))
    _ask_llm(bot, endpoint)
    bot.start()
    card = fake_slack.wait_for(lambda: fake_slack.cards("C0URGENT"), what="the card")[0]
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    ana.click("mention_reply", "1", channel="C0URGENT", message_ts=card.ts)
    form = _reply_form(fake_slack, ready=True)

    [at] = [n for n, block in enumerate(form["blocks"]) if "Suggested by the LLM" in str(block)]
    suggested = form["blocks"][at]["text"]["text"]
    assert "Sorry about that" in suggested and "<!channel>" not in suggested, "shown as text, pinging nobody"
    kinds = [block.get("block_id") or block["type"] for block in form["blocks"]]
    assert kinds.index("reply_text") == at - 1, "the suggestion comes under the reply's input, which stays"
    drafting = endpoint.questions[-1]
    assert "Acme cloud has been down" in drafting["messages"][-1]["content"]
    closed = ana.submit(form, {"reply_text": typed("Sorry! We're on it.")})
    assert closed.status_code == 200
    fake_slack.wait_for(
        lambda: any("We're on it" in m.text for m in fake_slack.thread(card.channel, card.ts)), what="the reply"
    )

    endpoint.stop()
    ana.click("mention_reply", "1", channel="C0URGENT", message_ts=card.ts)
    form = fake_slack.wait_for(
        lambda: "No suggested reply" in str(fake_slack.views[-1]["blocks"]) and fake_slack.views[-1],
        what="the form without a suggestion",
    )
    assert "could not be reached" in str(form["blocks"])
    engine = make_engine(bot.env["DATABASE_URL"])
    with Session(engine) as session:
        drafted = list(session.exec(select(Event).where(Event.kind == EventKind.LLM_DRAFTED)))
    engine.dispose()
    assert [event.actor for event in drafted] == ["U_ANA", "U_ANA"], "each question is recorded and counted"


def test_a_running_bot_asks_the_llm_about_what_its_model_was_unsure_of(bot, fake_slack, endpoint):
    """`allears run` with `[llm]`: the bag post the model was unsure of gets its card once the endpoint calls it
    relevant, the film is muted into the digest, and nothing is asked twice."""
    engine = make_engine(bot.env["DATABASE_URL"])
    migrate.upgrade(engine)
    bag, film = _unsure(engine, LOST_BAG, FILM)
    _ask_llm(bot, endpoint)
    bot.start()

    fake_slack.wait_for(lambda: any("lost my bag" in card.all_text() for card in fake_slack.cards()), what="the card")

    def statuses() -> list[str]:
        with Session(engine) as session:
            return [session.get(Mention, mention_id).status for mention_id in (bag, film)]

    eventually(lambda: statuses() == [MentionStatus.OPEN, MentionStatus.MUTED], what="the bag open, the film muted")
    engine.dispose()
    assert [card for card in fake_slack.cards() if "film" in card.all_text()] == [], "the film is not carded"
    assert len(endpoint.questions) == 2, "each was asked once"
