"""The new sources against the local server, with real-shaped recorded answers: App Store reviews (countries,
pages, ratings), Discourse posts (search, API keys), YouTube comments (channel, search, quota), Google Play reviews (a
service account's token); hostile answers;
each through to its card in the stand-in Slack, and Ana's reply posted where the service takes one."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import select

from bot.act import actions
from bot.act.source_replies import SourceReplies
from bot.app.standin.slack import BOT_TOKEN, FakeSlack
from bot.ground.clock import utcnow
from bot.ground.config import Config
from bot.ground.config_sources import AppStoreSource, DiscourseSource, GooglePlaySource, YouTubeSource
from bot.ground.db import read_scope, session_scope
from bot.ground.models import Mention, SourceState
from bot.hear.health import source_health
from bot.hear.polling import Listener, poll
from bot.hear.sources import Fetched, PollState, RateLimited, SourceError, appstore, discourse, googleplay
from bot.hear.sources import youtube as youtube_source
from bot.hear.sources.fields import iso
from bot.hear.sources.registry import fetch
from bot.hear.triage import triage
from bot.slack.delivery import Deliverer
from tests.apiserver import ApiServer
from tests.test_sources import APP_ID as APP
from tests.test_sources import RECORDED, appstore_reviews


def recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDED / name).read_text())


def feed_path(country: str = "us", page: int = 1) -> str:
    return f"/{country}/rss/customerreviews/page={page}/id={APP}/sortby=mostrecent/json"


def app_source(api: ApiServer, **settings: Any) -> AppStoreSource:
    return AppStoreSource(kind="appstore", app_id=APP, base_url=api.url(), connect_url=api.url(), **settings)


def reviews_feed() -> dict[str, Any]:
    return json.loads(appstore_reviews())


def with_entries(entries: Any) -> dict[str, Any]:
    feed = reviews_feed()
    feed["feed"]["entry"] = entries
    return feed


def review(n: int, at: datetime, **labels: str) -> dict[str, Any]:
    """A copy of a recorded review with its own id and time, and any label changed."""
    entry = json.loads(json.dumps(reviews_feed()["feed"]["entry"][0]))
    entry["id"]["label"], entry["updated"]["label"] = str(11_000_000_000 + n), iso(at)
    for name, value in labels.items():
        entry[name.replace("_", ":")]["label"] = value
    return entry


def minutes_back(count: int, start: datetime, first: int = 0) -> list[dict[str, Any]]:
    return [review(first + n, start - timedelta(minutes=n)) for n in range(count)]


# Reading the feed.


def test_appstore_reviews_and_request(api, http):
    api.answer(feed_path(), reviews_feed())
    fetched = fetch(app_source(api), http, PollState())
    lost, logged_out, widgets, slow = fetched.items
    assert lost.external_id == "11234567893"
    assert lost.title == "Lost all my photos after the update"
    assert lost.text.startswith("Updated this morning and every album is empty.")
    assert (lost.author, lost.rating, lost.app_version) == ("Dana K.", 1, "8.42.1")
    assert lost.published_at == datetime(2026, 11, 30, 16, 14, 33, tzinfo=UTC)
    assert lost.url == f"https://apps.apple.com/us/app/id{APP}?see-all=reviews"
    assert logged_out.text == "Since 8.42 I have to sign in every time I open it.\nPlease fix."
    assert [item.rating for item in fetched.items] == [1, 2, 5, 3]
    assert fetched.cursor == {"us": "2026-11-30T16:14:33Z"} and fetched.problem is None
    (request,) = api.requests
    assert request.query == {} and request.headers["user-agent"].startswith("allears/")


def test_appstore_reads_each_country_from_its_own_cursor(api, http):
    api.answer(feed_path("us"), reviews_feed())
    api.answer(feed_path("gb"), recorded("appstore/customerreviews-empty.json"))
    source = app_source(api, countries=["us", "gb"])
    first = fetch(source, http, PollState())
    assert len(first.items) == 4 and first.cursor == {"us": "2026-11-30T16:14:33Z"}  # no review in gb yet
    api.answer(feed_path("gb"), with_entries(review(9, datetime(2026, 12, 1, 8, 0, tzinfo=UTC))))  # one, bare
    second = fetch(source, http, PollState(cursor=first.cursor))
    assert [item.external_id for item in second.items] == ["11234567893", "11000000009"]  # the overlap, and gb's
    assert second.items[1].url == f"https://apps.apple.com/gb/app/id{APP}?see-all=reviews"
    assert second.cursor == {"us": "2026-11-30T16:14:33Z", "gb": "2026-12-01T08:00:00Z"}


def test_appstore_follows_pages_while_they_are_all_new(api, http):
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    api.answer(feed_path(page=1), with_entries(minutes_back(50, start)))
    api.answer(feed_path(page=2), with_entries(minutes_back(50, start - timedelta(minutes=50), first=50)))
    cursor = {"us": iso(start - timedelta(minutes=80))}
    fetched = fetch(app_source(api), http, PollState(cursor=cursor))
    assert len(fetched.items) == 90  # back to the overlap before the cursor, ten minutes
    assert [request.path for request in api.requests] == [feed_path(page=1), feed_path(page=2)]
    assert fetched.cursor == {"us": iso(start)} and fetched.problem is None


def test_appstore_says_when_ten_pages_of_new_reviews_outran_it(api, http):
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for page in range(1, 11):
        newest = start - timedelta(minutes=50 * (page - 1))
        api.answer(feed_path(page=page), with_entries(minutes_back(50, newest, first=50 * (page - 1))))
    fetched = fetch(app_source(api), http, PollState(cursor={"us": "2026-01-01T00:00:00Z"}))
    assert len(fetched.items) == 500 and len(api.requests) == 10
    assert fetched.problem == "us: more than 500 new items since the last poll; the oldest were not read"


def test_appstore_first_poll_reads_one_page(api, http):
    api.answer(feed_path(), with_entries(minutes_back(50, datetime(2026, 12, 1, 12, 0, tzinfo=UTC))))
    assert len(fetch(app_source(api), http, PollState()).items) == 50 and len(api.requests) == 1


def test_appstore_country_that_fails_leaves_the_others_heard(api, http):
    api.answer(feed_path("us"), reviews_feed())
    api.answer(feed_path("gb"), "<html>Bad gateway</html>", status=502, content_type="text/html")
    fetched = fetch(app_source(api, countries=["gb", "us"]), http, PollState())
    assert len(fetched.items) == 4 and fetched.problem == "gb: answered HTTP 502"
    assert fetched.cursor == {"us": "2026-11-30T16:14:33Z"}


def test_appstore_rate_limit_stops_the_poll_and_every_country_failing_fails_it(api, http):
    api.answer(feed_path("us"), reviews_feed())
    api.answer(feed_path("gb"), "", status=429, headers={"Retry-After": "90"})
    fetched = fetch(app_source(api, countries=["us", "gb", "fr"]), http, PollState())
    assert len(fetched.items) == 4 and fetched.wait == 90  # France was not asked: Apple refuses the address
    assert feed_path("fr") not in [request.path for request in api.requests]
    with pytest.raises(RateLimited) as raised:
        fetch(app_source(api, countries=["gb", "us"]), http, PollState())
    assert raised.value.retry_after == 90


def test_appstore_settings_are_checked_at_start(monkeypatch):
    monkeypatch.setenv("ASC_KEY", "-----BEGIN PRIVATE KEY-----")
    with pytest.raises(ValidationError, match="set all of `key_id`, `issuer_id` and `private_key_env`"):
        AppStoreSource(kind="appstore", app_id=APP, key_id="2X9R4HXF34", private_key_env="ASC_KEY")
    with pytest.raises(ValidationError, match="lists a country twice"):
        AppStoreSource(kind="appstore", app_id=APP, countries=["us", "us"])
    with pytest.raises(ValidationError):
        AppStoreSource(kind="appstore", app_id="id284882215")
    source = AppStoreSource(kind="appstore", app_id=APP)
    assert (source.key, source.countries, source.every) == (f"appstore: {APP}", ["us"], timedelta(minutes=15))


# Hostile answers.


@pytest.mark.parametrize("stars", ["0", "6", "-1", "4.5", "", "five", "1e1", "٣"])
def test_a_rating_outside_one_to_five_is_no_rating(api, http, stars):
    api.answer(feed_path(), with_entries([review(1, datetime(2026, 12, 1, tzinfo=UTC), im_rating=stars)]))
    (item,) = fetch(app_source(api), http, PollState()).items
    assert item.rating is None and item.text


def test_html_in_a_title_is_kept_as_the_customer_typed_it(api, http):
    title = '<b>Crash</b> <script>alert("x")</script> & <@U0ADMIN> <!channel>'
    api.answer(feed_path(), with_entries([review(1, datetime(2026, 12, 1, tzinfo=UTC), title=title)]))
    (item,) = fetch(app_source(api), http, PollState()).items
    assert item.title == title  # plain text in the feed; the card escapes it (the story below)


def test_an_empty_page_is_no_reviews_and_no_error(api, http):
    api.answer(feed_path(), recorded("appstore/customerreviews-empty.json"))
    fetched = fetch(app_source(api), http, PollState(cursor={"us": "2026-11-30T16:14:33Z"}))
    assert fetched.items == [] and fetched.problem is None
    assert fetched.cursor == {"us": "2026-11-30T16:14:33Z"}


def test_invalid_utf8_and_a_ten_megabyte_page_are_reported_in_source_health(api, http, sqlite_engine):
    source, now = app_source(api), utcnow()
    body = json.dumps(reviews_feed()).encode().replace(b"Dana K.", b"Dana \xff\xfe K.")
    api.answer(feed_path(), body)
    assert poll(sqlite_engine, http, LISTENER, source, now=now).error == "answered with something, not JSON"
    api.answer(feed_path(), b'{"feed": {"entry": [], "padding": "' + b"x" * (10 * 1024 * 1024) + b'"}}')
    assert poll(sqlite_engine, http, LISTENER, source, now=now, force=True).error == "sent more than 5 MB; not read"
    with read_scope(sqlite_engine) as session:
        state = session.get(SourceState, source.key)
    assert state and state.consecutive_failures == 2 and state.backoff_until and state.backoff_until > now


# Triage and the card.


def test_one_or_two_stars_weigh_towards_needs_a_human():
    quiet = "Opening an album takes a while on my phone."
    assert not triage(quiet).needs_human and not triage(quiet, rating=3).needs_human
    for stars in (1, 2):
        found = triage(quiet, rating=stars)
        assert found.needs_human and f"rated {stars}/5" in found.reasons
    assert not triage("Love the new widgets, thank you!", rating=5).needs_human


LISTENER = Listener(Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}}))


def deliver(engine: Engine, fake_slack: FakeSlack, replies: SourceReplies | None = None) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url, timeout=5)
    deliverer = Deliverer(engine, client, post_interval=0, replies=replies)
    while deliverer.deliver_due():
        pass


def test_a_one_star_review_becomes_a_card_with_its_stars_and_version(api, http, sqlite_engine, fake_slack):
    """The reviews never say "Acme": every review of the team's own app is kept, whatever `[listen]` asks."""
    feed = reviews_feed()
    feed["feed"]["entry"][0]["title"]["label"] = "Lost <b>all</b> my photos <!channel>"
    api.answer(feed_path(), feed)
    report = poll(sqlite_engine, http, LISTENER, app_source(api))
    assert (report.error, report.fetched, report.new) == (None, 4, 4)
    with read_scope(sqlite_engine) as session:
        lost = session.exec(select(Mention).where(Mention.external_id == "11234567893")).one()
    assert (lost.rating, lost.app_version, lost.needs_human, lost.source_kind) == (1, "8.42.1", True, "appstore")

    deliver(sqlite_engine, fake_slack)
    card = next(card for card in fake_slack.cards() if f"M-{lost.id}" in card.all_text())
    shown = card.all_text()
    assert "★☆☆☆☆ 1/5" in shown and "on version 8.42.1" in shown
    assert "Lost &lt;b&gt;all&lt;/b&gt; my photos &lt;!channel&gt;" in shown and "<!channel>" not in shown
    widgets = next(card for card in fake_slack.cards() if "Love the new widgets" in card.all_text())
    assert "★★★★★ 5/5" in widgets.all_text()


# Replies through App Store Connect.


@pytest.fixture
def team_key(monkeypatch) -> ec.EllipticCurvePublicKey:
    """A .p8 key of the team's own, made for the test; the source reads it from the environment."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    monkeypatch.setenv("ASC_PRIVATE_KEY", pem.decode().replace("\n", "\\n"))  # as one line of a .env
    return key.public_key()


def replying(api: ApiServer) -> AppStoreSource:
    return app_source(api, name="app store", key_id="2X9R4HXF34", issuer_id="57246542-96fe-1a63-e053-0824d011072a",
                    private_key_env="ASC_PRIVATE_KEY")  # fmt: skip


REVIEWS_PATH, RESPONSES_PATH = f"/v1/apps/{APP}/customerReviews", "/v1/customerReviewResponses"


def test_anas_reply_is_posted_as_the_developer_response_signed_with_the_teams_key(
    api, http, sqlite_engine, fake_slack, team_key
):
    source = replying(api)
    api.answer(feed_path(), reviews_feed())
    api.answer(REVIEWS_PATH, recorded("appstore/connect-customer-reviews.json"))
    api.answer(RESPONSES_PATH, recorded("appstore/connect-review-response-created.json"), method="POST", status=201)
    poll(sqlite_engine, http, LISTENER, source)
    with read_scope(sqlite_engine) as session:
        lost = session.exec(select(Mention).where(Mention.external_id == "11234567893")).one()
    replies = SourceReplies([source], http)
    assert replies.target(lost) == "as the developer response in App Store Connect, with the API key 2X9R4HXF34"
    assert replies.limit(lost).most == 5970
    deliver(sqlite_engine, fake_slack, replies)
    with session_scope(sqlite_engine) as session:
        actions.reply(session, mention_id=lost.id, user_id="U_ANA", text="Sorry, Dana! Restoring now.", to_source=True)
    deliver(sqlite_engine, fake_slack, replies)

    [listed] = api.requests_to(REVIEWS_PATH)
    assert listed.query == {"sort": "-createdDate", "limit": "200"}
    [sent] = api.requests_to(RESPONSES_PATH)
    review_ref = {"data": {"type": "customerReviews", "id": "00000046-ea46-3002-cf40-2d5b00000000"}}
    assert sent.json() == {"data": {
        "type": "customerReviewResponses", "attributes": {"responseBody": "Sorry, Dana! Restoring now."},
        "relationships": {"review": review_ref},
    }}  # fmt: skip
    bearer = sent.headers["authorization"].removeprefix("Bearer ")
    assert bearer == listed.headers["authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(bearer) == {"alg": "ES256", "kid": "2X9R4HXF34", "typ": "JWT"}
    claims = jwt.decode(bearer, team_key, algorithms=["ES256"], audience="appstoreconnect-v1")
    assert claims["iss"] == "57246542-96fe-1a63-e053-0824d011072a" and claims["exp"] - claims["iat"] == 20 * 60
    card = next(card for card in fake_slack.cards() if f"M-{lost.id}" in card.all_text())
    note = fake_slack.thread("C0LISTEN", card.ts)[-1].text
    assert "reply is posted on *app store*" in note and f"apps.apple.com/us/app/id{APP}" in note


def test_a_review_app_store_connect_does_not_list_is_reported_not_guessed(
    api, http, sqlite_engine, fake_slack, team_key
):
    source = replying(api)
    api.answer(feed_path(), with_entries([review(1, datetime(2026, 12, 1, tzinfo=UTC), title="Another title")]))
    api.answer(REVIEWS_PATH, recorded("appstore/connect-customer-reviews.json"))  # Dana K.'s, with another title
    poll(sqlite_engine, http, LISTENER, source)
    with read_scope(sqlite_engine) as session:
        (mention,) = session.exec(select(Mention)).all()
    replies = SourceReplies([source], http)
    with session_scope(sqlite_engine) as session:
        actions.reply(session, mention_id=mention.id, user_id="U_ANA", text="Sorry!", to_source=True)
    deliver(sqlite_engine, fake_slack, replies)
    assert api.requests_to(RESPONSES_PATH) == []
    note = fake_slack.thread("C0LISTEN", fake_slack.cards()[0].ts)[-1].text
    assert "could not be posted on *app store*" in note and "lists no review by Dana K." in note


def test_a_key_that_is_no_p8_key_is_said_so_without_showing_it(api, monkeypatch):
    monkeypatch.setenv("ASC_PRIVATE_KEY", "not-a-key-but-secret")
    with pytest.raises(SourceError, match="^the key in ASC_PRIVATE_KEY is not an App Store Connect .p8 key$"):
        appstore.token(replying(api))


def test_without_a_key_reply_only_records(api, http):
    source = app_source(api)
    mention = Mention(source=source.key, source_kind="appstore", external_id="1", text="t", polarity=0.0,
                      sentiment="neutral", channel="C0LISTEN", reply_to={"country": "us"})  # fmt: skip
    assert SourceReplies([source], http).target(mention) is None


# Discourse.

DISCOURSE_KEY = "d1sc0urse-key-0123456789abcdef"


def forum(api: ApiServer, **settings: Any) -> DiscourseSource:
    return DiscourseSource(kind="discourse", base_url=api.url("/"), **settings)


def latest_posts() -> dict[str, Any]:
    return recorded("discourse/posts.json")


def forum_page(start: datetime, count: int, first_id: int) -> dict[str, Any]:
    """Made-up posts in the recorded shape, newest first, a minute apart."""
    post = latest_posts()["latest_posts"][0]
    return {"latest_posts": [{**post, "id": first_id - n, "created_at": iso(start - timedelta(minutes=n))}
                             for n in range(count)]}  # fmt: skip


def test_discourse_latest_posts_become_items(api, http):
    api.answer("/posts.json", latest_posts())
    fetched = fetch(forum(api), http, PollState())
    same_here, first, staff = fetched.items  # the pinning notice (a small action) is no one's post
    assert first.external_id == "9121" and first.title == "Sync stuck at 99% after 4.2 update"
    assert first.text == (
        "After updating to 4.2 my sync never finishes. It gets to 99% and hangs. I have a deadline today & need my"
        " files on the laptop.\n\nAnyone else?"
    )
    assert first.url == api.url("/t/sync-stuck-at-99-after-4-2-update/1412/1")
    assert (first.author, first.thread, first.reply_to) == (
        "marco.r",
        "topic/1412",
        {"topic_id": 1412, "post_number": 1},
    )
    assert first.published_at == datetime(2026, 12, 1, 9, 58, 12, 4000, tzinfo=UTC)
    assert same_here.thread == first.thread and "E_TIMEOUT" in same_here.text
    assert fetched.cursor == {"created_at": "2026-12-01T10:42:07.318000Z"} and fetched.problem is None
    (request,) = api.requests
    assert request.query == {} and "api-key" not in request.headers


def test_discourse_search_names_posts_by_their_topic(api, http):
    api.answer("/search.json", recorded("discourse/search.json"))
    source = forum(api, query="sync")
    assert source.key == "discourse: sync"
    fetched = fetch(source, http, PollState())
    assert [item.external_id for item in fetched.items] == ["9123", "9121"]
    assert {item.title for item in fetched.items} == {"Sync stuck at 99% after 4.2 update"}
    assert fetched.items[1].url == api.url("/t/sync-stuck-at-99-after-4-2-update/1412/1")
    assert api.requests[0].query == {"q": "sync order:latest", "page": "1"}
    nothing = {"posts": [], "topics": [], "grouped_search_result": {"term": "sync order:latest", "post_ids": []}}
    api.answer("/search.json", {key: value for key, value in nothing.items() if key != "posts"})
    assert fetch(source, http, PollState(cursor=fetched.cursor)).items == []  # found nothing: no `posts` at all


def test_discourse_pages_back_with_before_until_it_meets_the_cursor(api, http):
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    api.answer("/posts.json", forum_page(start, 50, 10_050))
    api.answer("/posts.json", forum_page(start - timedelta(minutes=50), 50, 10_000), when={"before": "10001"})
    cursor = {"created_at": iso(start - timedelta(minutes=70))}
    fetched = fetch(forum(api), http, PollState(cursor=cursor))
    assert len(fetched.items) == 80 and fetched.problem is None  # back to ten minutes before the cursor
    assert [request.query for request in api.requests] == [{}, {"before": "10001"}]
    assert fetched.cursor == {"created_at": iso(start)}


def test_discourse_api_key_reads_private_categories_and_skips_its_own_replies(api, http, monkeypatch):
    monkeypatch.setenv("DISCOURSE_KEY", DISCOURSE_KEY)
    api.answer("/posts.json", latest_posts(), when_headers={"api-key": DISCOURSE_KEY, "api-username": "acme_support"})
    fetched = fetch(forum(api, api_key_env="DISCOURSE_KEY", api_username="acme_support"), http, PollState())
    assert [item.author for item in fetched.items] == ["lena_k", "marco.r"]  # not acme_support's answer
    with pytest.raises(ValidationError, match="set both `api_key_env` and `api_username`"):
        forum(api, api_username="acme_support")


def test_discourse_refusal_says_why_and_names_no_key(api, http, monkeypatch):
    monkeypatch.setenv("DISCOURSE_KEY", DISCOURSE_KEY)
    refusal = {"errors": ["You are not permitted to view the requested resource."], "error_type": "invalid_access"}
    api.answer("/posts.json", refusal, status=403)
    source = forum(api, api_key_env="DISCOURSE_KEY", api_username="acme_support")
    with pytest.raises(SourceError) as raised:
        fetch(source, http, PollState())
    assert str(raised.value) == "answered HTTP 403 (You are not permitted to view the requested resource.)"
    rate_limited = {"errors": ["You've performed this action too many times."], "error_type": "rate_limit",
                    "extras": {"wait_seconds": 37}}  # fmt: skip
    api.answer("/posts.json", rate_limited, status=429, headers={"Retry-After": "37"})
    with pytest.raises(RateLimited) as limited:
        fetch(source, http, PollState())
    assert limited.value.retry_after == 37


def test_discourse_html_in_a_title_and_a_post_reaches_the_card_as_text(api, http, sqlite_engine, fake_slack):
    page = latest_posts()
    page["latest_posts"][1].update(
        topic_title="<script>alert(1)</script> sync & <!here>",
        cooked='<p>Still <b>broken</b> <a href="https://evil.example">click</a> &lt;@U0ADMIN&gt;</p>',
    )
    api.answer("/posts.json", page)
    report = poll(sqlite_engine, http, LISTENER, forum(api, name="community"))
    assert (report.error, report.new) == (None, 3)  # every post of the team's own forum is heard
    deliver(sqlite_engine, fake_slack)
    card = next(card for card in fake_slack.cards() if "Still" in card.all_text())
    shown = card.all_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; sync &amp; &lt;!here&gt;" in shown and "<!here>" not in shown
    assert "Still broken click &lt;@U0ADMIN&gt;" in shown and "<@U0ADMIN>" not in shown
    with read_scope(sqlite_engine) as session:
        [health] = [h for h in source_health(session, [forum(api, name="community")])]
    assert (health.kind, health.mentions, health.failing) == ("discourse", 3, False)


def test_anas_reply_is_posted_in_the_topic_answering_the_post(api, http, sqlite_engine, fake_slack, monkeypatch):
    monkeypatch.setenv("DISCOURSE_KEY", DISCOURSE_KEY)
    source = forum(api, name="community", api_key_env="DISCOURSE_KEY", api_username="acme_support")
    api.answer("/posts.json", latest_posts())
    api.answer("/posts.json", recorded("discourse/post-created.json"), method="POST")
    poll(sqlite_engine, http, LISTENER, source)
    with read_scope(sqlite_engine) as session:
        marco = session.exec(select(Mention).where(Mention.external_id == "9121")).one()
    replies = SourceReplies([source], http)
    assert replies.target(marco) == "in the topic on 127.0.0.1, as acme_support"
    deliver(sqlite_engine, fake_slack, replies)
    with session_scope(sqlite_engine) as session:
        actions.reply(session, mention_id=marco.id, user_id="U_ANA", text="Sorry, Marco! A fix ships today.",
                      to_source=True)  # fmt: skip
    deliver(sqlite_engine, fake_slack, replies)
    [sent] = [request for request in api.requests_to("/posts.json") if request.method == "POST"]
    assert sent.json() == {"topic_id": 1412, "raw": "Sorry, Marco! A fix ships today.", "reply_to_post_number": 1}
    assert (sent.headers["api-key"], sent.headers["api-username"]) == (DISCOURSE_KEY, "acme_support")
    card = next(card for card in fake_slack.cards() if f"M-{marco.id}" in card.all_text())
    note = fake_slack.thread("C0LISTEN", card.ts)[-1].text
    assert "reply is posted on *community*" in note
    assert api.url("/t/sync-stuck-at-99-after-4-2-update/1412/5") in note


def test_a_reply_the_forum_refuses_says_why(api, http, monkeypatch):
    monkeypatch.setenv("DISCOURSE_KEY", DISCOURSE_KEY)
    source = forum(api, api_key_env="DISCOURSE_KEY", api_username="acme_support")
    refusal = {"action": "create_post", "errors": ["Body is too short (minimum is 20 characters)"]}
    api.answer("/posts.json", refusal, method="POST", status=422)
    with pytest.raises(SourceError, match=r"^answered HTTP 422 \(Body is too short \(minimum is 20 characters\)\)$"):
        discourse.reply(source, http, {"topic_id": 1412, "post_number": 1}, "Sorry!", "key")


# YouTube.

YT_KEY = "AIzaSyD-test-key-0123456789abcdefghij"
CHANNEL = "UCk7yQ0m1y5mQ2pXbG9tZXJz"
THREADS, SEARCH = "/youtube/v3/commentThreads", "/youtube/v3/search"


@pytest.fixture
def youtube(api, monkeypatch):
    """A YouTube source's maker, with its API key in the environment."""
    monkeypatch.setenv("YT_KEY", YT_KEY)

    def make(**settings: Any) -> YouTubeSource:
        return YouTubeSource(kind="youtube", key_env="YT_KEY", base_url=api.url("/youtube/v3/"), **settings)

    return make


def comments_page(start: datetime, count: int, *, next_page: str | None = None) -> dict[str, Any]:
    thread = recorded("youtube/commentThreads-channel.json")["items"][0]
    threads = []
    for n in range(count):
        copy = json.loads(json.dumps(thread))
        copy["id"] = copy["snippet"]["topLevelComment"]["id"] = f"Ugz{n:05d}AaABAg"
        copy["snippet"]["topLevelComment"]["snippet"]["publishedAt"] = iso(start - timedelta(minutes=n))
        threads.append(copy)
    return {"kind": "youtube#commentThreadListResponse", "items": threads,
            **({"nextPageToken": next_page} if next_page else {})}  # fmt: skip


def test_youtube_channel_comments_become_items(api, http, youtube):
    api.answer(THREADS, recorded("youtube/commentThreads-channel.json"))
    fetched = fetch(youtube(channel_id=CHANNEL), http, PollState())
    hangs, thanks, linux = fetched.items
    assert hangs.text == "Followed this exactly and the sync still hangs at 99% on 4.2 & support hasn't replied 😞"
    assert (hangs.external_id, hangs.author, hangs.title) == ("UgzQ3n9aJk2xFv8TQ0F4AaABAg", "@marcorossi", None)
    assert hangs.url == "https://www.youtube.com/watch?v=dQ4acme0421&lc=UgzQ3n9aJk2xFv8TQ0F4AaABAg"
    assert hangs.published_at == datetime(2026, 12, 1, 10, 12, 40, tzinfo=UTC)
    assert hangs.thread == thanks.thread == "video/dQ4acme0421" and hangs.reply_to is None  # replies: not offered
    assert thanks.text == "1:23 this is the part I needed, thanks!"  # the plain text, not the linked HTML
    assert fetched.cursor == {"published_at": "2026-12-01T10:12:40Z"}
    (request,) = api.requests
    assert request.query == {"part": "snippet", "allThreadsRelatedToChannelId": CHANNEL, "order": "time",
                             "maxResults": "100", "textFormat": "plainText", "key": YT_KEY}  # fmt: skip


def test_youtube_follows_next_page_tokens_while_the_comments_are_new(api, http, youtube):
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    api.answer(THREADS, comments_page(start, 100, next_page="CDIQAA"))
    api.answer(THREADS, comments_page(start - timedelta(minutes=100), 100, next_page="CGQQAA"),
               when={"pageToken": "CDIQAA"})  # fmt: skip
    fetched = fetch(
        youtube(channel_id=CHANNEL), http, PollState(cursor={"published_at": iso(start - timedelta(hours=2))})
    )
    assert [request.query.get("pageToken") for request in api.requests] == [None, "CDIQAA"]
    assert fetched.problem is None and fetched.cursor == {"published_at": iso(start)}


def test_youtube_search_hears_the_comments_on_the_videos_it_finds(api, http, youtube, sqlite_engine):
    api.answer(SEARCH, recorded("youtube/search.json"))
    api.answer(THREADS, recorded("youtube/commentThreads-video.json"), when={"videoId": "Rv1acmeRev01"})
    api.answer(THREADS, recorded("youtube/error-comments-disabled.json"), status=403, when={"videoId": "Qc2acmeTut02"})
    source = youtube(query="acme cloud")
    assert (source.every, source.hears_all) == (timedelta(minutes=30), False)
    fetched = fetch(source, http, PollState())
    lost, great = fetched.items  # the tutorial has its comments turned off: skipped, not a failure
    assert lost.title == "Acme Cloud 4.2 review: don't update yet" and lost.text.startswith("Mine lost two days")
    assert api.requests_to(SEARCH)[0].query == {"part": "snippet", "q": "acme cloud", "type": "video",
                                                "order": "date", "maxResults": "10", "key": YT_KEY}  # fmt: skip
    # Found by a search, a comment is kept when it or its video's title matches [listen].
    quiet = Listener(Config.model_validate({"listen": {"keywords": ["lost"]}, "channels": {"default": "C0LISTEN"}}))
    report = poll(sqlite_engine, http, quiet, source)
    assert (report.error, report.fetched, report.new) == (None, 2, 1)


def test_youtube_spent_quota_rests_until_midnight_in_california_and_never_shows_the_key(
    api, http, youtube, monkeypatch
):
    monkeypatch.setattr(youtube_source, "utcnow", lambda: datetime(2026, 12, 1, 20, 0, tzinfo=UTC))  # noon there
    quota = recorded("youtube/error-quota.json")
    quota["error"]["message"] += f" key={YT_KEY}"
    api.answer(THREADS, quota, status=403)
    with pytest.raises(RateLimited, match="HTTP 403 \\(quotaExceeded: ") as raised:
        fetch(youtube(channel_id=CHANNEL), http, PollState())
    assert raised.value.retry_after == 12 * 3600 and YT_KEY not in str(raised.value)
    api.answer(THREADS, "", status=500)
    with pytest.raises(SourceError, match="^answered HTTP 500$") as failed:
        fetch(youtube(channel_id=CHANNEL), http, PollState())
    assert "127.0.0.1" not in str(failed.value) and YT_KEY not in str(failed.value)


@pytest.mark.parametrize("body", ["{}", "[]", '{"items": {}}', "<html>Sorry</html>"])
def test_youtube_answer_of_the_wrong_shape_is_a_source_error(api, http, youtube, body):
    api.answer(THREADS, body)
    with pytest.raises(SourceError, match="answered"):
        fetch(youtube(channel_id=CHANNEL), http, PollState())
    api.answer(THREADS, {"kind": "youtube#commentThreadListResponse", "pageInfo": {"totalResults": 0}, "items": []})
    assert fetch(
        youtube(channel_id=CHANNEL), http, PollState(cursor={"published_at": "2026-12-01T00:00:00Z"})
    ) == Fetched(cursor={"published_at": "2026-12-01T00:00:00Z"})  # an empty page is no comments, and the cursor stays


def test_youtube_settings_say_which_and_budget_the_quota(youtube):
    with pytest.raises(ValidationError, match="needs a `channel_id` or a `query`"):
        youtube()
    with pytest.raises(ValidationError, match="needs a `channel_id` or a `query`"):
        youtube(channel_id=CHANNEL, query="acme")
    channel = youtube(channel_id=CHANNEL)
    assert (channel.every, channel.hears_all, channel.key) == (timedelta(minutes=5), True, f"youtube: {CHANNEL}")
    assert youtube(query="acme", every="1h").every == timedelta(hours=1)


def test_a_comment_on_the_channel_becomes_a_card_with_its_words_escaped(api, http, youtube, sqlite_engine, fake_slack):
    page = recorded("youtube/commentThreads-channel.json")
    page["items"][2]["snippet"]["topLevelComment"]["snippet"]["textOriginal"] = "<b>Linux</b> when? <!channel> *now*"
    api.answer(THREADS, page)
    report = poll(sqlite_engine, http, LISTENER, youtube(channel_id=CHANNEL, name="our channel"))
    assert (report.error, report.new) == (None, 3)  # the team's own channel: every comment is heard
    deliver(sqlite_engine, fake_slack)
    card = next(card for card in fake_slack.cards() if "Linux" in card.all_text())
    shown = card.all_text()
    assert "&lt;b&gt;Linux&lt;/b&gt; when? &lt;!channel&gt;" in shown and "<!channel>" not in shown
    assert "youtube.com/watch?v=xY7acme0399" in shown and "from our channel" in shown


# Google Play.

PACKAGE = "com.acme.cloud"
REVIEWS = f"/androidpublisher/v3/applications/{PACKAGE}/reviews"
ACCOUNT = "allears-reviews@acme-play.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def service_account_key() -> rsa.RSAPrivateKey:
    """Made once for the module: a 2048-bit RSA key takes a good part of a second."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def play(api, monkeypatch, service_account_key) -> Any:
    """A Google Play source signed in as a service account of the test's own, whose token endpoint is the local
    server; it answers with the account's public key, to check what the bot signed."""
    key = service_account_key
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    account = {"type": "service_account", "project_id": "acme-play", "private_key_id": "8d3c1f0e2b",
               "private_key": pem.decode(), "client_email": ACCOUNT, "client_id": "104200000000000000001",
               "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": api.url("/token"),
               "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
               "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/allears-reviews",
               "universe_domain": "googleapis.com"}  # fmt: skip
    monkeypatch.setenv("PLAY_ACCOUNT", json.dumps(account))
    googleplay.ACCOUNTS.clear()
    api.answer("/token", recorded("googleplay/token.json"), method="POST")
    source = GooglePlaySource(kind="googleplay", package=PACKAGE, credentials_env="PLAY_ACCOUNT",
                              base_url=api.url("/androidpublisher/v3/"), name="google play")  # fmt: skip
    return source, key.public_key()


def test_googleplay_signs_in_once_and_reads_the_reviews(api, http, play):
    source, public_key = play
    api.answer(REVIEWS, recorded("googleplay/reviews.json"))
    fetched = fetch(source, http, PollState())
    stuck, widgets, export = fetched.items
    assert stuck.text == "Sync has been stuck at 99% since the 4.2 update. Lost a day of work, please fix!"
    assert (stuck.rating, stuck.app_version, stuck.author) == (2, "4.2.0", "Dana Kim")
    assert stuck.published_at == datetime(2025, 12, 1, 10, 30, tzinfo=UTC)
    assert (
        stuck.url
        == f"https://play.google.com/store/apps/details?id={PACKAGE}&reviewId=gp:AOqpTOFm3kqZ8Vt1sYpWQ2-acme0003"
    )
    assert export.text == "Where did the export button go?"  # the customer's words, not the developer's answer
    assert fetched.cursor == {"last_modified": "2025-12-01T10:30:00Z"}
    [read] = api.requests_to(REVIEWS)
    assert read.query == {"maxResults": "100"}
    assert read.headers["authorization"] == "Bearer ya29.c.b0Aaekm1KbAcmeTestToken0123456789"
    [exchange] = api.requests_to("/token")
    form = {name: value for name, [value] in parse_qs(exchange.body.decode()).items()}
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    # Signed for Google's token endpoint, whichever `token_uri` it is sent to.
    claims = jwt.decode(
        form["assertion"], public_key, algorithms=["RS256"], audience="https://oauth2.googleapis.com/token"
    )
    assert claims["iss"] == ACCOUNT and claims["scope"] == "https://www.googleapis.com/auth/androidpublisher"

    fetch(source, http, PollState(cursor=fetched.cursor))
    assert len(api.requests_to("/token")) == 1, "the hour's token serves the next poll"


def test_googleplay_pages_with_its_token_and_an_empty_week_is_no_error(api, http, play):
    source, _ = play
    api.answer(REVIEWS, recorded("googleplay/reviews.json"))
    older = {"reviews": [], "tokenPagination": {}}
    api.answer(REVIEWS, older, when={"token": "CmoKDQgBEglnbTUxMjA5NTISWQoQ"})
    fetched = fetch(source, http, PollState(cursor={"last_modified": "2025-11-01T00:00:00Z"}))
    assert len(fetched.items) == 3 and len(api.requests_to(REVIEWS)) == 1  # three reviews: no full page, no more
    api.answer(REVIEWS, {})  # no review created or changed this week
    assert fetch(source, http, PollState(cursor=fetched.cursor)).items == []


@pytest.mark.parametrize("stars", [0, 6, -1, "five", 4.5, None, True, 10**30])
def test_googleplay_rating_outside_one_to_five_is_no_rating(api, http, play, stars):
    source, _ = play
    page = recorded("googleplay/reviews.json")
    page["reviews"][0]["comments"][0]["userComment"]["starRating"] = stars
    api.answer(REVIEWS, page)
    assert fetch(source, http, PollState()).items[0].rating is None


def test_googleplay_refused_sign_in_and_a_spoiled_key_say_so_without_the_key(api, http, play, monkeypatch):
    source, _ = play
    refused = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    api.answer("/token", refused, method="POST", status=400)
    with pytest.raises(
        SourceError, match=f"^could not sign in as {ACCOUNT}: invalid_grant: Invalid JWT Signature"
    ) as raised:
        fetch(source, http, PollState())
    assert "PRIVATE KEY" not in str(raised.value) and api.requests_to(REVIEWS) == []
    monkeypatch.setenv("PLAY_ACCOUNT", '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----"}')
    googleplay.ACCOUNTS.clear()
    with pytest.raises(SourceError, match="^PLAY_ACCOUNT holds no service account's JSON key$"):
        fetch(source, http, PollState())


def test_googleplay_refusal_is_explained(api, http, play):
    source, _ = play
    denied = {"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}}
    api.answer(REVIEWS, denied, status=403)
    with pytest.raises(SourceError, match=r"^answered HTTP 403 \(The caller does not have permission\)$"):
        fetch(source, http, PollState())
    api.answer(REVIEWS, "", status=429, headers={"Retry-After": "60"})
    with pytest.raises(RateLimited):
        fetch(source, http, PollState())


def test_a_two_star_play_review_becomes_a_card_and_anas_reply_goes_under_it(api, http, play, sqlite_engine, fake_slack):
    source, _ = play
    api.answer(REVIEWS, recorded("googleplay/reviews.json"))
    review_id = "gp:AOqpTOFm3kqZ8Vt1sYpWQ2-acme0003"
    api.answer(f"{REVIEWS}/{review_id}:reply", recorded("googleplay/reply.json"), method="POST")
    report = poll(sqlite_engine, http, LISTENER, source)
    assert (report.error, report.new) == (None, 3)
    with read_scope(sqlite_engine) as session:
        stuck = session.exec(select(Mention).where(Mention.external_id == review_id)).one()
    assert (stuck.rating, stuck.app_version, stuck.needs_human) == (2, "4.2.0", True)
    replies = SourceReplies([source], http)
    assert replies.limit(stuck).most == 350
    deliver(sqlite_engine, fake_slack, replies)
    card = next(card for card in fake_slack.cards() if f"M-{stuck.id}" in card.all_text())
    assert "★★☆☆☆ 2/5" in card.all_text() and "on version 4.2.0" in card.all_text()
    with session_scope(sqlite_engine) as session:
        actions.reply(session, mention_id=stuck.id, user_id="U_ANA", text="Sorry, Dana! A fix ships today.",
                      to_source=True)  # fmt: skip
    deliver(sqlite_engine, fake_slack, replies)
    [sent] = api.requests_to(f"{REVIEWS}/{review_id}:reply")
    assert sent.json() == {"replyText": "Sorry, Dana! A fix ships today."}
    assert sent.headers["authorization"].startswith("Bearer ya29.")
    note = fake_slack.thread("C0LISTEN", card.ts)[-1].text
    assert "reply is posted on *google play*" in note
    with pytest.raises(SourceError, match="too long for Google Play"):
        googleplay.reply(source, http, {"review_id": review_id}, "x" * 351, "key")


# Every new source alike.


@pytest.mark.parametrize("kind", ["appstore", "discourse", "youtube", "googleplay"])
def test_invalid_utf8_a_ten_megabyte_page_and_html_are_source_errors(kind, api, http, request):
    """What the bounded fetcher refuses, each source refuses the same way: nothing half-read reaches a card."""
    source, path = {
        "appstore": lambda: (app_source(api), feed_path()),
        "discourse": lambda: (forum(api), "/posts.json"),
        "youtube": lambda: (request.getfixturevalue("youtube")(channel_id=CHANNEL), THREADS),
        "googleplay": lambda: (request.getfixturevalue("play")[0], REVIEWS),
    }[kind]()
    for body, error in [
        (b'{"feed": {"entry": [{"title": "caf\xe9"}]}, "items": [], "latest_posts": [], "reviews": []}', "not JSON"),
        (b'{"padding": "' + b"x" * (10 * 1024 * 1024) + b'"}', "^sent more than 5 MB; not read$"),
        (b"<!DOCTYPE html><html><title>Just a moment...</title></html>", "an HTML page, not JSON"),
    ]:
        api.answer(path, body)
        with pytest.raises(SourceError, match=error):
            fetch(source, http, PollState())


def test_a_process_loads_the_stores_sign_in_libraries_only_when_it_signs_in():
    """PyJWT, google-auth and the cryptography under them are a tenth of a process's start-up imports: a bot that
    hears no store's reviews, and one that has not replied or signed in yet, never loads them."""
    code = "import sys, bot.app.cli, bot.app.startup; print(sorted(sys.modules))"  # all that `allears run` loads
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'jwt'" not in loaded and "'google.auth'" not in loaded and "'cryptography'" not in loaded
