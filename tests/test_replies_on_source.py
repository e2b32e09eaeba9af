"""Answering on the source: Ana's reply goes out once through Mastodon, GitHub or Bluesky, and its link
(or the reason it failed) is told in the card's thread."""

from dataclasses import replace
from datetime import timedelta

import httpx
from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import select

from bot.act import actions
from bot.act.source_replies import SourceReplies
from bot.app.standin.slack import BOT_TOKEN
from bot.ground.clock import utcnow
from bot.ground.config_sources import BlueskySource, GitHubSource, MastodonSource
from bot.ground.db import session_scope
from bot.ground.mentions import get_mention
from bot.ground.models import Outbox, OutboxKind, OutboxStatus
from bot.hear.batches import record
from bot.slack.delivery import Deliverer
from bot.slack.modals import ModalContext, reply_modal
from tests.factories import heard


def stored(engine, *, source: str, reply_to: dict, url: str = "https://social.example/@pat/1") -> int:
    report = heard("Acme lost my files", external_id="1", source=source, url=url)
    with session_scope(engine) as session:
        return record(session, replace(report, item=replace(report.item, reply_to=reply_to)))


def deliver(engine, fake_slack, replies: SourceReplies) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url, timeout=5)
    deliverer = Deliverer(engine, client, post_interval=0, replies=replies)
    while deliverer.deliver_due():
        pass


def reply_to_it(engine, mention_id: int) -> None:
    with session_scope(engine) as session:
        actions.reply(session, mention_id=mention_id, user_id="U_ANA", text="Sorry! Restoring now.", to_source=True)


def test_anas_reply_goes_out_on_mastodon_once_and_its_link_lands_in_the_thread(
    sqlite_engine, fake_slack, api, monkeypatch
):
    monkeypatch.setenv("MASTODON_TOKEN", "mastodon-secret")
    source = MastodonSource(
        kind="mastodon", base_url=api.url("/"), tag="acme", name="mastodon", token_env="MASTODON_TOKEN"
    )
    api.answer("/api/v1/statuses", {"id": "99", "url": "https://social.example/@acme/99"}, method="POST")
    mention_id = stored(sqlite_engine, source="mastodon", reply_to={"status_id": "7", "acct": "pat@social.example"})
    with httpx.Client() as http:
        replies = SourceReplies([source], http)
        with session_scope(sqlite_engine) as session:
            mention = get_mention(session, mention_id)
        assert replies.target(mention) == "on 127.0.0.1, from the account whose token is in MASTODON_TOKEN"
        modal = reply_modal(mention, ModalContext(mention_id=mention_id), source_target=replies.target(mention))
        assert any(block.get("block_id") == "reply_post_on_source" for block in modal["blocks"])

        reply_to_it(sqlite_engine, mention_id)
        deliver(sqlite_engine, fake_slack, replies)
        deliver(sqlite_engine, fake_slack, replies)

    [sent] = api.requests_to("/api/v1/statuses")
    assert sent.json() == {"status": "@pat@social.example Sorry! Restoring now.", "in_reply_to_id": "7"}
    assert sent.headers["authorization"] == "Bearer mastodon-secret"
    assert sent.headers["idempotency-key"].startswith("allears-reply-")
    [card] = fake_slack.cards()
    notes = [note.text for note in fake_slack.thread("C0LISTEN", card.ts)]
    assert "<@U_ANA> replied" in notes[0]
    assert "reply is posted on *mastodon*" in notes[1] and "https://social.example/@acme/99" in notes[1]


def test_a_reply_the_source_refuses_is_reported_and_never_retried(sqlite_engine, fake_slack, api, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "gh-secret")
    source = GitHubSource(kind="github", base_url=api.url("/"), query="acme", name="github", token_env="GITHUB_TOKEN")
    comments = api.url("/repos/acme/app/issues/5/comments")
    api.answer("/repos/acme/app/issues/5/comments", {"message": "Server Error"}, method="POST", status=502)
    mention_id = stored(sqlite_engine, source="github", reply_to={"comments_url": comments})
    with httpx.Client() as http:
        replies = SourceReplies([source], http)
        reply_to_it(sqlite_engine, mention_id)
        for _ in range(3):
            deliver(sqlite_engine, fake_slack, replies)

    assert len(api.requests_to("/repos/acme/app/issues/5/comments")) == 1, "one attempt: it may have gone out"
    with session_scope(sqlite_engine) as session:
        [row] = session.exec(select(Outbox).where(Outbox.kind == OutboxKind.SOURCE_REPLY)).all()
    assert row.status == OutboxStatus.FAILED and "502" in row.last_error
    [card] = fake_slack.cards()
    note = fake_slack.thread("C0LISTEN", card.ts)[-1].text
    assert "could not be posted on *github*" in note and "Answer there yourself" in note
    assert "gh-secret" not in note


def test_bluesky_replies_in_the_customers_thread_from_the_signed_in_account(
    sqlite_engine, fake_slack, api, monkeypatch
):
    monkeypatch.setenv("BSKY_PASSWORD", "app-password")
    source = BlueskySource(
        kind="bluesky",
        base_url=api.url("/xrpc/"),
        query="acme",
        name="bluesky",
        handle="acme.example",
        app_password_env="BSKY_PASSWORD",
    )
    api.answer("/xrpc/com.atproto.server.createSession", {"accessJwt": "jwt-1", "did": "did:plc:acme"}, method="POST")
    api.answer(
        "/xrpc/com.atproto.repo.createRecord",
        {"uri": "at://did:plc:acme/app.bsky.feed.post/3kabc", "cid": "bafyreply"},
        method="POST",
    )
    thread = {
        "uri": "at://did:plc:pat/app.bsky.feed.post/3kpat",
        "cid": "bafypat",
        "root_uri": "at://did:plc:op/app.bsky.feed.post/3kop",
        "root_cid": "bafyop",
    }
    mention_id = stored(sqlite_engine, source="bluesky", reply_to=thread)
    with httpx.Client() as http:
        replies = SourceReplies([source], http)
        reply_to_it(sqlite_engine, mention_id)
        deliver(sqlite_engine, fake_slack, replies)

    [created] = api.requests_to("/xrpc/com.atproto.repo.createRecord")
    record = created.json()["record"]
    assert created.json()["repo"] == "acme.example" and created.headers["authorization"] == "Bearer jwt-1"
    assert record["reply"] == {
        "root": {"uri": thread["root_uri"], "cid": "bafyop"},
        "parent": {"uri": thread["uri"], "cid": "bafypat"},
    }
    [card] = fake_slack.cards()
    assert "https://bsky.app/profile/acme.example/post/3kabc" in fake_slack.thread("C0LISTEN", card.ts)[-1].text


def test_without_credentials_reply_only_records_and_gives_the_link(sqlite_engine, api):
    source = MastodonSource(kind="mastodon", base_url=api.url("/"), tag="acme", name="mastodon")
    mention_id = stored(sqlite_engine, source="mastodon", reply_to={"status_id": "7", "acct": "pat"})
    with httpx.Client() as http, session_scope(sqlite_engine) as session:
        mention = get_mention(session, mention_id)
        assert SourceReplies([source], http).target(mention) is None
        modal = reply_modal(mention, ModalContext(mention_id=mention_id), source_target=None)
    assert not any(block.get("block_id") == "reply_post_on_source" for block in modal["blocks"])
    assert "the original post" in str(modal["blocks"])


def test_a_reply_whose_first_attempt_was_cut_short_is_not_sent_again(sqlite_engine, fake_slack, api, monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", "mastodon-secret")
    source = MastodonSource(
        kind="mastodon", base_url=api.url("/"), tag="acme", name="mastodon", token_env="MASTODON_TOKEN"
    )
    api.answer("/api/v1/statuses", {"id": "99", "url": "https://social.example/@acme/99"}, method="POST")
    mention_id = stored(sqlite_engine, source="mastodon", reply_to={"status_id": "7", "acct": "pat"})
    with httpx.Client() as http:
        replies = SourceReplies([source], http)
        deliver(sqlite_engine, fake_slack, replies)  # the card
        reply_to_it(sqlite_engine, mention_id)
        with session_scope(sqlite_engine) as session:  # a worker took the reply, then died mid-send
            session.execute(
                update(Outbox)
                .where(Outbox.kind == OutboxKind.SOURCE_REPLY)
                .values(status=OutboxStatus.SENDING, attempts=1, lease_until=utcnow() - timedelta(seconds=1))
            )
        deliver(sqlite_engine, fake_slack, replies)

    assert api.requests_to("/api/v1/statuses") == []
    [card] = fake_slack.cards()
    note = fake_slack.thread("C0LISTEN", card.ts)[-1].text
    assert "could not be posted" in note and "may or may not have been posted" in note
