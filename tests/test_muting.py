"""Muting: once the team has taught the relevance model what is not for them, a mention it finds very likely not
relevant gets no card. Nothing is dropped: it is stored, exported, listed by `/allears muted` and in its
channel's daily digest, where "This was relevant" posts its card and teaches the model."""

import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from bot.act import actions
from bot.act.labels import label_counts
from bot.act.learning import learn
from bot.app.standin.users import SlackUser
from bot.ground import migrate
from bot.ground.config import Config, Relevance
from bot.ground.db import make_engine, session_scope
from bot.ground.errors import MentionClosed, UserError
from bot.ground.models import Digest, Event, EventKind, Mention, MentionStatus, Outbox, OutboxKind, OutboxStatus
from bot.hear import relevance
from bot.hear.batches import record
from bot.hear.digests import PAGE, make_digests
from bot.hear.polling import Listener
from bot.slack.digest_messages import RELEVANT, digest_page, muted_blocks
from tests.factories import heard, store_mention
from tests.feedserver import Entry, rss
from tests.reading import answer
from tests.teaching import about_another_acme, complaints, hear, teach_minute_by_minute

MUTING = Listener(
    Config.model_validate(
        {"listen": {"keywords": ["acme"]}, "channels": {"default": "C0L"}, "relevance": {"miss_at_most": 0.02}}
    )
)
NOT_MUTING = Listener(
    Config.model_validate(
        {"listen": {"keywords": ["acme"]}, "channels": {"default": "C0L"}, "relevance": {"mute": False}}
    )
)


def _model(scores: list[float], *, labels: int = 60) -> relevance.Model:
    return relevance.Model(1, relevance.new_classifier(), labels, labels, tuple(scores))


def test_the_bar_lets_through_all_but_the_promised_share_of_what_the_team_found_relevant():
    hundred = [n / 100 for n in range(1, 100)]  # the scores 99 relevant labels got before they were learned
    assert _model(hundred).mute_below(0.02) == 0.02, "the 2nd lowest of 99: at most 2 in 100 fall under it"
    assert _model(hundred).mute_below(0.01) == 0.01
    assert _model(hundred[:48]).mute_below(0.02) is None, "48 scores cannot promise 2 in 100"
    assert _model([0.9] * 99).mute_below(0.02) == 0.5, "never muted when more likely relevant than not"
    assert _model(hundred, labels=29).mute_below(0.02) is None, "the model is off under 30 labels of a kind"
    assert relevance.Model(1, None, 60, 60, tuple(hundred)).mute_below(0.02) is None


def test_the_model_keeps_the_scores_relevant_labels_got_before_it_learned_them(sqlite_engine, shared_data):
    relevance.forget()
    teach_minute_by_minute(sqlite_engine, shared_data, 30)
    with Session(sqlite_engine) as session:
        model = relevance.current(session)
    assert len(model.relevant_scores) == 20, "the first ten came before the model could score"
    assert model.mute_below(0.02) is None, "twenty are too few to promise anything"


def _taught(engine: Engine, shared_data: Path) -> None:
    relevance.forget()
    teach_minute_by_minute(engine, shared_data, 60)


def test_what_is_about_another_acme_is_muted_once_the_team_has_taught_it(engine, shared_data):
    _taught(engine, shared_data)
    complaint_ids = hear(engine, complaints(shared_data, 70)[60:], 100, "support-feed", listener=MUTING)
    film_ids = hear(engine, about_another_acme(shared_data, 70)[60:], 100, "news-feed", listener=MUTING)

    with Session(engine) as session:
        films = [session.get(Mention, mention_id) for mention_id in film_ids]
        said = [session.get(Mention, mention_id) for mention_id in complaint_ids]
        carded = set(session.exec(select(Outbox.mention_id).where(Outbox.kind == OutboxKind.CARD)))
        muted_events = list(session.exec(select(Event).where(Event.kind == EventKind.MUTED)))
    assert all(m.status == MentionStatus.OPEN for m in said) and set(complaint_ids) <= carded
    assert all(m.status == MentionStatus.MUTED for m in films), [m.relevance for m in films]
    assert not carded & set(film_ids), "no card for a muted mention"
    assert {e.mention_id for e in muted_events} == set(film_ids)
    assert all(e.actor is None and e.data["relevance"] < 0.5 for e in muted_events)

    # A colleague's forward was judged worth a look by a person; a config without muting mutes nothing.
    with session_scope(engine) as session:
        forwarded = record(
            session,
            replace(heard(about_another_acme(shared_data, 71)[70], external_id="fwd"), forwarded_by="U_CAL"),
            muting=relevance.Muting(0.02),
        )
    [unmuted] = hear(engine, about_another_acme(shared_data, 72)[71:], 200, "news-feed", listener=NOT_MUTING)
    with Session(engine) as session:
        assert session.get(Mention, forwarded).status == MentionStatus.OPEN
        assert session.get(Mention, unmuted).status == MentionStatus.OPEN


def _muted(engine: Engine, count: int, *, channel: str = "C0LISTEN", first: int = 0) -> list[int]:
    """Mentions stored as a muting batch leaves them: muted, with no card."""
    ids = [
        store_mention(engine, text=f"Acme Pictures film {n}", external_id=f"m-{n}", channel=channel)
        for n in range(first, first + count)
    ]
    with session_scope(engine) as session:
        session.execute(update(Mention).where(col(Mention.id).in_(ids)).values(status=MentionStatus.MUTED))
    return ids


RULE = Relevance(digest_time=time(9), timezone="Europe/Paris")


def test_each_channel_gets_one_digest_a_day_listing_every_muted_mention_in_pages(engine):
    listen = _muted(engine, 23)
    support = _muted(engine, 2, channel="C0SUPPORT", first=100)
    before_nine_in_paris = datetime(2026, 12, 7, 7, 59, tzinfo=UTC)
    assert make_digests(engine, RULE, now=before_nine_in_paris) == []

    at_nine = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    made = make_digests(engine, RULE, now=at_nine)
    assert sorted((m.channel, m.muted) for m in made) == [("C0LISTEN", 23), ("C0SUPPORT", 2)]
    with Session(engine) as session:
        queued = [
            (row.kind, row.mention_id) for row in session.exec(select(Outbox).where(col(Outbox.kind).like("digest%")))
        ]
        digests = {d.channel: d for d in session.exec(select(Digest))}
        listed = {m.id: m.digest_id for m in session.exec(select(Mention))}
    assert (OutboxKind.DIGEST, listen[0]) in queued and (OutboxKind.DIGEST, support[0]) in queued
    pages = sorted(mention_id for kind, mention_id in queued if kind == OutboxKind.DIGEST_PAGE)
    assert pages == [listen[0], listen[PAGE], listen[2 * PAGE], support[0]]
    assert {listed[i] for i in listen} == {digests["C0LISTEN"].id} and digests["C0LISTEN"].day == "2026-12-07"

    later = _muted(engine, 1, first=200)
    assert make_digests(engine, RULE, now=at_nine + timedelta(hours=3)) == [], "one digest a channel a day"
    tomorrow = make_digests(engine, RULE, now=at_nine + timedelta(days=1))
    assert [(m.channel, m.muted) for m in tomorrow] == [("C0LISTEN", 1)], "what came after waits for the next"
    with Session(engine) as session:
        assert session.get(Mention, later[0]).digest_id not in (None, digests["C0LISTEN"].id)


def test_a_digest_page_and_the_muted_list_escape_what_customers_wrote(sqlite_engine):
    [mention_id] = _muted(sqlite_engine, 1)
    with session_scope(sqlite_engine) as session:
        mention = session.get(Mention, mention_id)
        mention.text, mention.relevance = "<!channel> Acme <@U0BOSS> *sale*", 0.03
        session.add(mention)
    with Session(sqlite_engine) as session:
        mention = session.get(Mention, mention_id)
        [entry] = digest_page([mention], {})
        listed = muted_blocks([mention], total=3, days=7)
    assert "<!channel>" not in str(entry) and "<@U0BOSS>" not in str(entry) and "relevance 3%" in str(entry)
    assert entry["accessory"]["text"]["text"] == RELEVANT and f'"mention":{mention_id}' in entry["accessory"]["value"]
    assert "…and 2 more" in str(listed[-1])
    assert "Nothing was muted in the last 7 days" in str(muted_blocks([], total=0, days=7))
    with session_scope(sqlite_engine) as session:
        actions.unmute(session, mention_id=mention_id, user_id="U_ANA")
    with Session(sqlite_engine) as session:
        [entry] = digest_page([session.get(Mention, mention_id)], {mention_id: "U_ANA"})
    assert "accessory" not in entry and "posted as a card by <@U_ANA>" in entry["text"]["text"]


def test_only_a_muted_mention_is_unmuted_and_only_once(engine):
    [muted] = _muted(engine, 1)
    card = store_mention(engine, external_id="with-card")
    with session_scope(engine) as session, pytest.raises(MentionClosed, match="was muted"):
        actions.claim(session, mention_id=muted, user_id="U_BEN")
    with session_scope(engine) as session:
        assert actions.unmute(session, mention_id=muted, user_id="U_ANA").status == MentionStatus.OPEN
    for mention_id, refusal in ((muted, "said it was relevant"), (card, "was not muted")):
        with session_scope(engine) as session, pytest.raises(UserError, match=refusal):
            actions.unmute(session, mention_id=mention_id, user_id="U_BEN")
    with session_scope(engine) as session:
        assert actions.claim(session, mention_id=muted, user_id="U_BEN").owner_id == "U_BEN"
        assert label_counts(session).relevant == 1


FILMS = [
    Entry(guid=f"film-{n}", title="Acme Pictures", description=text, link=f"https://films.example/{n}")
    for n, text in enumerate(
        [
            "Saw it twice: the best film of the year, a delight from start to end.",
            "The best scene in the movie was when Gerardo is trying to find a song that keeps running in his head.",
            "The cinematography is lovely and the music suits every scene of this film.",
        ]
    )
]
COMPLAINT = Entry(
    guid="complaint", title="Acme", description="@Acme my flight was cancelled and nobody answers the phone", link=""
)


def _ref(message) -> str:
    return re.search(r"\*(M-\d+)\*", message.all_text())[1]


def test_ana_finds_a_muted_mention_in_the_digest_and_posts_its_card(bot, feeds, fake_slack, shared_data):
    engine = make_engine(bot.env["DATABASE_URL"])
    migrate.upgrade(engine)
    _taught(engine, shared_data)
    with session_scope(engine) as session:  # the lessons' cards were posted long ago, in another channel
        session.execute(update(Outbox).values(status=OutboxStatus.SENT))
    feeds.publish("/acme.xml", rss([*FILMS, COMPLAINT]))
    (bot.workdir / "allears.toml").write_text(
        (bot.workdir / "allears.toml").read_text() + "\n[relevance]\nmiss_at_most = 0.02\n"
    )
    bot.start()
    fake_slack.wait_for(lambda: fake_slack.cards("C0URGENT"), what="the complaint's card")

    def muted() -> list[Mention]:
        with Session(engine) as session:
            return list(session.exec(select(Mention).where(Mention.status == MentionStatus.MUTED).order_by(Mention.id)))

    films = fake_slack.wait_for(lambda: len(muted()) == 3 and muted(), what="the three films muted")
    ana, ben = SlackUser("U_ANA", bot.url, fake_slack), SlackUser("U_BEN", bot.url, fake_slack)
    ben.command("/claim", films[0].reference)
    assert "was muted" in answer(fake_slack, ben)["text"] and "`/allears muted`" in answer(fake_slack, ben)["text"]
    ana.command("/allears", "muted")
    listed = answer(fake_slack, ana)
    buttons = [block["accessory"]["text"]["text"] for block in listed["blocks"] if "accessory" in block]
    assert "Muted in the last 7 days (3)" in str(listed["blocks"]) and buttons == [RELEVANT] * 3

    make_digests(engine, Relevance(digest_time=time(0)))  # as the scheduler does at the digest time
    digest = fake_slack.wait_for(
        lambda: [m for m in fake_slack.cards("C0LISTEN") if "3 mentions muted" in m.all_text()], what="the digest"
    )[0]
    page = fake_slack.wait_for(lambda: fake_slack.thread("C0LISTEN", digest.ts), what="its page")[0]
    first = page.blocks[0]["accessory"]
    assert first["text"]["text"] == RELEVANT and len(page.blocks) == 3
    assert f'"mention":{films[0].id}' in first["value"], "the page lists them in the order they were heard"

    ana.click(first["action_id"], first["value"], channel="C0LISTEN", message_ts=page.ts, block_id="digest")
    assert "is no longer muted" in answer(fake_slack, ana)["text"]
    card = fake_slack.wait_for(
        lambda: [m for m in fake_slack.cards("C0LISTEN") if films[0].reference in m.all_text() and m is not digest],
        what="the film's card",
    )[0]
    assert "Claim" in str(card.blocks)
    ben.click(first["action_id"], first["value"], channel="C0LISTEN", message_ts=page.ts, block_id="digest")
    assert "<@U_ANA> said it was relevant" in answer(fake_slack, ben)["text"]

    learn(engine)
    with Session(engine) as session:
        assert session.exec(select(Mention).where(Mention.id == films[0].id)).one().status == MentionStatus.OPEN
        assert label_counts(session).relevant == 61, "the model learns it was relevant"
    exported = bot.cli("export", "--format", "csv")
    assert exported.stdout.count(",muted,") == 2, exported.stdout[-500:]
    engine.dispose()
