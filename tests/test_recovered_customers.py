"""Recovered customers: a furious customer answered on their source who then says something neutral or positive
is counted in the weekly summary, by the answerer's team and by source, beside the response times."""

import json
from dataclasses import replace
from datetime import timedelta

from slack_sdk import WebClient
from sqlmodel import select

from bot.act import actions
from bot.act.source_replies import SourceReplies
from bot.app.standin.slack import BOT_TOKEN
from bot.ground.clock import utcnow
from bot.ground.config import Config, Sentiment
from bot.ground.config_sources import MastodonSource
from bot.ground.db import session_scope
from bot.ground.models import Event, EventKind, Mention
from bot.hear.batches import record
from bot.hear.polling import Listener, poll
from bot.remember.figures import Recovery
from bot.remember.summary import summary_text
from bot.remember.summary_due import summarize
from bot.remember.weeks import Week
from bot.slack.answers import figures_blocks
from bot.slack.delivery import Deliverer
from tests.factories import heard
from tests.test_summary import rows

ANA = "U0ANA"
TAG = "/api/v1/timelines/tag/acme"
CONFIG = Config.model_validate(
    {"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}, "people": {ANA: "support"}}
)


def toot(status_id: str, acct: str, words: str, *, in_reply_to: str | None = None) -> dict:
    """A status as Mastodon's tag timeline lists it (the fields the source reads)."""
    return {
        "id": status_id,
        "created_at": utcnow().isoformat(),
        "in_reply_to_id": in_reply_to,
        "url": f"https://social.example/@{acct}/{status_id}",
        "uri": f"https://social.example/users/{acct}/statuses/{status_id}",
        "content": f"<p>{words}</p>",
        "spoiler_text": "",
        "reblog": None,
        "account": {"id": acct, "acct": f"{acct}@social.example", "followers_count": 40},
    }


def hear(engine, api, http, source: MastodonSource, *statuses: dict) -> None:
    api.answer(TAG, list(statuses))
    report = poll(engine, http, Listener(CONFIG), source, force=True)
    assert report.new == len(statuses), report


def answer_on_mastodon(engine, fake_slack, replies: SourceReplies, mention_id: int, words: str) -> None:
    with session_scope(engine) as session:
        actions.reply(session, mention_id=mention_id, user_id=ANA, text=words, to_source=True)
    deliverer = Deliverer(
        engine, WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url), post_interval=0, replies=replies
    )
    while deliverer.deliver_due():
        pass


def mention_by(engine, acct: str) -> Mention:
    """The customer's first mention: the one their later posts in the thread join."""
    with session_scope(engine) as session:
        found = select(Mention).where(Mention.author == f"@{acct}@social.example").order_by(Mention.id)
        return session.exec(found).first()


def test_pat_thanks_ana_after_her_answer_on_mastodon_and_counts_as_recovered_while_quinn_stays_angry(
    engine, fake_slack, api, http, monkeypatch
):
    monkeypatch.setenv("MASTODON_TOKEN", "mastodon-secret")
    source = MastodonSource(
        kind="mastodon", base_url=api.url("/"), tag="acme", name="mastodon", token_env="MASTODON_TOKEN"
    )
    replies = SourceReplies([source], http)
    api.answer("/api/v1/statuses", {"id": "99", "url": "https://social.example/@acme/99"}, method="POST")
    hear(
        engine,
        api,
        http,
        source,
        toot("7", "pat", "Acme lost all my files after the update. Furious, nothing works! #acme"),
        toot("8", "quinn", "Acme charged me twice and support ignores me, this is a scam #acme"),
    )
    pat, quinn = mention_by(engine, "pat"), mention_by(engine, "quinn")
    assert (pat.sentiment, quinn.sentiment) == ("negative", "negative")

    answer_on_mastodon(engine, fake_slack, replies, pat.id, "So sorry! Restored from last night's backup.")
    answer_on_mastodon(engine, fake_slack, replies, quinn.id, "Refunded the second charge, sorry.")
    assert len(api.requests_to("/api/v1/statuses")) == 2, "both answers went out on Mastodon"

    # Each writes again in their own thread: Pat is happy now, Quinn is not.
    hear(
        engine,
        api,
        http,
        source,
        toot("17", "pat", "Thanks, works now! #acme", in_reply_to="7"),
        toot("18", "quinn", "Still no refund from Acme, worst service ever #acme", in_reply_to="8"),
    )
    assert mention_by(engine, "pat").id == pat.id, "Pat's thanks joined her mention, it has no card of its own"

    week = Week.containing(pat.heard_at, "UTC")
    figures = summarize(engine, CONFIG, week, team_of=CONFIG.people.get)
    assert figures.recovered == Recovery(answered=2, wrote_again=2, recovered=1)
    assert figures.recovered_by_team == {"support": Recovery(2, 2, 1)}
    assert figures.recovered_by_source == {"mastodon": Recovery(2, 2, 1)}

    text = summary_text(figures)
    values = rows(text)
    assert values["Recovered customers"] == (
        "1 of 2 negative mentions answered on their source ended with the customer saying something neutral or "
        "positive (50%; 2 wrote again)"
    )
    assert (values["Recovered by team"], values["Recovered by source"]) == ("support 1 of 2", "mastodon 1 of 2")
    labels = [line.partition(":")[0] for line in text.splitlines()]
    assert labels.index("Recovered customers") == labels.index("Time to resolution") + 1, "beside the response times"
    blocks = json.dumps(figures_blocks(figures))
    assert "*Recovered customers:* 1 of 2 negative mentions" in blocks
    assert "*Recovered by team:* support 1 of 2" in blocks


def said(
    engine, external_id: str, words: str, sentiment: Sentiment, *, author: str, at, source: str = "mastodon", url=""
) -> int:
    """A post heard on `source` in `author`'s thread `t-<author>`, triaged as `sentiment` (at its own address
    unless `url` says)."""
    post = heard(words, external_id=external_id, source=source, sentiment=sentiment, author=author, url=url)
    post = replace(post, item=replace(post.item, thread=f"t-{author}"))
    with session_scope(engine) as session:
        mention_id = record(session, post, now=at)
    assert mention_id is not None
    return mention_id


def sent(engine, mention_id: int, *, error: str | None = None) -> None:
    """Ana's answer, and what came of posting it on the source (the delivery records it as it happens)."""
    with session_scope(engine) as session:
        actions.reply(session, mention_id=mention_id, user_id=ANA, text="Sorry, on it", to_source=True)
        replied = session.exec(select(Event).where(Event.mention_id == mention_id, Event.kind == EventKind.REPLIED))
        actions.sent_to_source(session, reply_event=replied.one(), error=error)


def test_only_words_after_an_answer_that_went_out_on_the_source_count_and_the_last_words_decide(engine):
    start = utcnow() - timedelta(minutes=30)
    calm_too_early = said(engine, "1", "Acme lost my files", Sentiment.NEGATIVE, author="Rae", at=start)
    said(engine, "1b", "Oh, found them, sorry", Sentiment.POSITIVE, author="Rae", at=start + timedelta(minutes=1))
    sent(engine, calm_too_early)

    refused = said(engine, "2", "Acme is down", Sentiment.NEGATIVE, author="Sam", at=start)
    sent(engine, refused, error="the source answered 502")
    said(engine, "2b", "Back up, thanks", Sentiment.POSITIVE, author="Sam", at=utcnow())

    heard_again = said(engine, "3", "Acme billing is wrong", Sentiment.NEGATIVE, author="Tess", at=start)
    sent(engine, heard_again)
    again = dict(author="Tess", at=utcnow(), source="forum", url="https://example.com/posts/3")
    said(engine, "3b", "Acme billing is wrong", Sentiment.POSITIVE, **again)
    with session_scope(engine) as session:
        assert session.get(Mention, heard_again + 1).duplicate_of == heard_again, "the same post, heard elsewhere"

    came_round_then_not = said(engine, "4", "Acme export fails", Sentiment.NEGATIVE, author="Uma", at=start)
    sent(engine, came_round_then_not)
    said(engine, "4b", "Works now, thanks", Sentiment.POSITIVE, author="Uma", at=utcnow())
    said(engine, "4c", "No, it fails again", Sentiment.NEGATIVE, author="Uma", at=utcnow() + timedelta(seconds=1))

    week, later = Week.containing(start, "UTC"), utcnow() + timedelta(minutes=1)
    figures = summarize(engine, CONFIG, week, team_of=CONFIG.people.get, now=later)
    assert figures.recovered == Recovery(answered=3, wrote_again=1, recovered=0), "Sam's answer never went out"
