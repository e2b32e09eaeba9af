"""A customer writing again: a new post by the same author in the same conversation continues the
earlier mention (reopening it if it was resolved) instead of getting a card of its own."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import event
from sqlmodel import col, select

from bot.act import actions
from bot.act.sla import timers
from bot.ground.config import Config
from bot.ground.config_sources import BlueskySource, GitHubSource, HackerNewsSource, MastodonSource, RedditSource
from bot.ground.db import session_scope
from bot.ground.models import Event, EventKind, Mention, MentionStatus, Outbox, OutboxKind, Outcome
from bot.hear.batches import record
from bot.hear.polling import Listener
from bot.hear.recording import Heard
from bot.hear.sources import PollState
from bot.hear.sources.registry import fetch
from bot.slack.cards import thread_note
from tests.factories import heard
from tests.test_sources import bluesky_search, by_id, github_search, hackernews_search, mastodon_tag, reddit_search

ANA = "U0ANA"
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
CONFIG = Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}})


def post(external_id: str, text: str, *, thread: str | None = None, topic: str | None = None, **overrides) -> Heard:
    """A Hacker News post by Dana, in `thread` (a story id) or, like a feed entry, in none."""
    written = heard(text, external_id=external_id, source="hackernews", **overrides)
    return replace(written, item=replace(written.item, thread=thread), topic=topic)


def hear(engine, written: Heard, at: datetime = T0) -> int:
    with session_scope(engine) as session:
        mention_id = record(session, written, now=at)
    assert mention_id is not None
    return mention_id


def load(engine, mention_id: int) -> Mention:
    with session_scope(engine) as session:
        return session.get(Mention, mention_id)


def last_note(engine, mention_id: int) -> str:
    """The latest note queued for the mention's thread, as Slack will show it."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(Outbox)
            .where(Outbox.mention_id == mention_id, Outbox.kind == OutboxKind.THREAD_NOTE)
            .order_by(Outbox.id)  # type: ignore[arg-type]
        ).all()
        return thread_note(session.get(Mention, mention_id), session.get(Event, rows[-1].event_id))


def outbox_kinds(engine, mention_id: int) -> list[str]:
    with session_scope(engine) as session:
        queued = select(Outbox).where(Outbox.mention_id == mention_id).order_by(col(Outbox.id))
        return [row.kind for row in session.exec(queued)]


def test_dana_writing_again_in_her_resolved_thread_reopens_it_quoting_her_and_the_timers_start_over(engine):
    story = hear(engine, post("100", "Acme deploys fail since this morning", thread="100"))
    with session_scope(engine) as session:
        actions.resolve(session, mention_id=story, user_id=ANA, outcome=Outcome.ANSWERED, now=T0 + timedelta(hours=1))

    again = hear(engine, post("101", "Still failing for me <!channel>", thread="100"), at=T0 + timedelta(hours=2))

    assert (load(engine, again).status, load(engine, again).duplicate_of) == (MentionStatus.JOINED, story)
    assert outbox_kinds(engine, again) == [], "no card of its own"
    reopened = load(engine, story)
    assert (reopened.status, reopened.outcome, reopened.resolved_at) == (MentionStatus.OPEN, None, None)
    with session_scope(engine) as session:
        event = actions.history(session, story)[-1]
    assert (event.kind, event.actor, event.data["mention_id"]) == (EventKind.REOPENED, None, again)
    assert last_note(engine, story) == (
        f":arrows_counterclockwise: Reopened: Dana Customer wrote again (M-{again}): "
        "<https://example.com/posts/101|Still failing for me &lt;!channel&gt;> (example.com)"
    )
    assert timers.check(engine, CONFIG, now=T0 + timedelta(hours=2, minutes=19)) == []
    assert timers.check(engine, CONFIG, now=T0 + timedelta(hours=2, minutes=20)) == [(story, "claim 1")]


def test_writing_again_in_an_open_thread_joins_it_with_a_note_and_leaves_the_card_alone(engine):
    story = hear(engine, post("100", "Acme deploys fail", thread="100"))
    again = hear(engine, post("101", "Any news?", thread="100"), at=T0 + timedelta(minutes=5))
    assert load(engine, again).status == MentionStatus.JOINED
    assert outbox_kinds(engine, story) == [OutboxKind.CARD, OutboxKind.THREAD_NOTE]
    assert last_note(engine, story) == (
        f":speech_balloon: Dana Customer wrote again (M-{again}): "
        "<https://example.com/posts/101|Any news?> (example.com)"
    )


def test_a_reply_to_her_own_reply_follows_the_chain_back_to_the_mention(engine):
    first = hear(engine, post("500", "Acme ate my toot", thread="400"))
    again = hear(engine, post("501", "Replying to myself: still broken", thread="500"))
    assert load(engine, again).duplicate_of == first


def test_others_in_the_thread_and_old_threads_are_mentions_of_their_own(engine):
    story = hear(engine, post("100", "Acme deploys fail", thread="100"))
    ben = hear(engine, post("101", "Same for me with Acme", thread="100", author="Ben Customer"))
    a_week_later = hear(engine, post("102", "Acme fails again", thread="100"), at=T0 + timedelta(days=7, minutes=1))
    assert load(engine, ben).status == load(engine, a_week_later).status == MentionStatus.OPEN
    assert load(engine, story).status == MentionStatus.OPEN


def test_without_threads_a_post_on_the_same_topic_reopens_what_was_resolved_but_joins_nothing_open(engine):
    resolved = hear(engine, post("f-1", "Acme billing charged me twice", topic="billing"))
    with session_scope(engine) as session:
        actions.resolve(session, mention_id=resolved, user_id=ANA, outcome=Outcome.FIXED)
    again = hear(engine, post("f-2", "Acme billing did it again", topic="billing"), at=T0 + timedelta(days=1))
    assert load(engine, again).duplicate_of == resolved and load(engine, resolved).status == MentionStatus.OPEN

    # While it is open, each further post is a mention of its own: a burst of them is a storm, not one talk.
    third = hear(engine, post("f-3", "Acme billing, third time", topic="billing"), at=T0 + timedelta(days=1, hours=1))
    other_topic = hear(engine, post("f-4", "Acme login is down", topic="login"), at=T0 + timedelta(days=1))
    assert load(engine, third).status == load(engine, other_topic).status == MentionStatus.OPEN


def test_recorded_answers_name_each_posts_conversation(api, http, recordings):
    api.answer("/api/v1/search_by_date", hackernews_search(recordings))
    hn = by_id(
        fetch(HackerNewsSource(kind="hackernews", query="apple", base_url=api.url() + "api/v1/"), http, PollState())
    )
    assert (hn["7919424"].thread, hn["7919418"].thread) == ("7919424", "7918547"), "a story; a comment on story 7918547"

    api.answer("/search.json", reddit_search(recordings))
    reddit = by_id(fetch(RedditSource(kind="reddit", query="praw", base_url=api.url()), http, PollState()))
    assert reddit["t3_3gpbiu"].thread == "t3_3gpbiu"

    status = json.loads(mastodon_tag(recordings))[0]
    api.answer(
        "/api/v1/timelines/tag/hoot", [status, {**status, "id": "117020593741189702", "in_reply_to_id": status["id"]}]
    )
    toots = by_id(fetch(MastodonSource(kind="mastodon", tag="hoot", base_url=api.url()), http, PollState()))
    assert toots["117020593741189701"].thread == toots["117020593741189702"].thread == "117020593741189701"

    api.answer("/search/issues", github_search(recordings))
    issues = by_id(fetch(GitHubSource(kind="github", query="sesame", base_url=api.url()), http, PollState()))
    assert issues["1001"].thread == "https://github.com/octokit-fixture-org/search-issues/issues/1"

    api.answer("/xrpc/app.bsky.feed.searchPosts", bluesky_search(recordings))
    skeets = by_id(
        fetch(BlueskySource(kind="bluesky", query="redistricting", base_url=api.url() + "xrpc/"), http, PollState())
    )
    reply = skeets["at://did:plc:ooimp4mgjxbday5u4j2rh57m/app.bsky.feed.post/3lpjqeajtgc27"]
    assert reply.thread == "at://did:plc:ooimp4mgjxbday5u4j2rh57m/app.bsky.feed.post/3lpjqeaiz2k27", "the thread's root"


def test_a_bluesky_user_replying_four_times_in_their_own_thread_makes_one_card(engine, api, http, recordings):
    api.answer("/xrpc/app.bsky.feed.searchPosts", bluesky_search(recordings))
    fetched = fetch(
        BlueskySource(kind="bluesky", query="redistricting", base_url=api.url() + "xrpc/"), http, PollState()
    )
    listener = Listener(CONFIG)
    with session_scope(engine) as session:
        for item in sorted(fetched.items, key=lambda item: item.published_at):
            written = listener.hear(item, source="bluesky", source_kind="bluesky", require_keywords=False)
            record(session, written, now=T0)
        by_author = session.exec(select(Mention).where(Mention.author == "@uhackett.bsky.social")).all()
    assert sorted(mention.status for mention in by_author) == [MentionStatus.JOINED] * 3 + [MentionStatus.OPEN]
    [card] = [mention for mention in by_author if mention.status == MentionStatus.OPEN]
    assert {mention.duplicate_of for mention in by_author if mention.status == MentionStatus.JOINED} == {card.id}
    with session_scope(engine) as session:
        assert [event.kind for event in actions.history(session, card.id)] == [EventKind.FOLLOWED_UP] * 3


def test_a_customer_writing_again_after_a_snoozed_mention_was_resolved_finds_it_awake(engine):
    story = hear(engine, post("100", "Acme deploys fail", thread="100"))
    with session_scope(engine) as session:
        actions.snooze(session, mention_id=story, user_id=ANA, duration=timedelta(days=3), now=T0)
        actions.resolve(session, mention_id=story, user_id=ANA, outcome=Outcome.ANSWERED, now=T0 + timedelta(hours=1))
    hear(engine, post("101", "Still failing", thread="100"), at=T0 + timedelta(days=2))

    assert load(engine, story).snoozed_until is None
    assert timers.check(engine, CONFIG, now=T0 + timedelta(days=2, minutes=20)) == [(story, "claim 1")]
    assert "snooze is over" not in last_note(engine, story)


def test_a_follow_up_reopening_a_mention_resolved_while_snoozed_wakes_it(engine):
    """Mentions resolved before resolving ended snoozes may still carry one."""
    story = hear(engine, post("100", "Acme deploys fail", thread="100"))
    with session_scope(engine) as session:
        actions.resolve(session, mention_id=story, user_id=ANA, outcome=Outcome.ANSWERED, now=T0)
        session.get(Mention, story).snoozed_until = T0 + timedelta(days=3)
    hear(engine, post("101", "Still failing", thread="100"), at=T0 + timedelta(hours=1))
    assert (load(engine, story).status, load(engine, story).snoozed_until) == (MentionStatus.OPEN, None)


def test_finding_the_conversation_a_post_continues_uses_an_index(sqlite_engine):
    hear(sqlite_engine, post("100", "Acme deploys fail", thread="100"))
    lookups = []

    @event.listens_for(sqlite_engine, "before_cursor_execute")
    def remember(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "mention.author =" in statement:
            lookups.append((statement, parameters))

    hear(sqlite_engine, post("101", "Still failing", thread="100"))
    hear(sqlite_engine, post("f-1", "Acme billing charged me twice", topic="billing"))
    event.remove(sqlite_engine, "before_cursor_execute", remember)

    assert len(lookups) == 2, "one lookup for each post"
    with sqlite_engine.connect() as connection:
        for statement, parameters in lookups:
            plan = " ".join(
                row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            )
            assert "USING INDEX ix_mention_source_author_heard_at" in plan, plan
