"""The API sources against a local server answering with recorded real responses (Stack Exchange: its
documented shape): items, cursors, rate limits, refusals, malformed answers, and polls into the database."""

import copy
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import select

from bot import migrate
from bot.clock import utcnow
from bot.config import Config
from bot.db import make_engine, read_scope
from bot.models import Mention, SourceState
from bot.polling import Listener, poll
from bot.sources import Fetched, PollState, RateLimited, SourceError, bluesky
from bot.sources import http as source_http
from bot.sources.http import HttpStatusError
from bot.sources.kinds import BlueskySource, GitHubSource, MastodonSource, RedditSource, StackExchangeSource
from bot.sources.registry import fetch
from tests.apiserver import ApiServer
from tests.conftest import SHARED_DATA

API = SHARED_DATA / "api"


# Recorded answers, as the services sent them.


def reddit_search() -> bytes:
    cassette = json.loads((API / "reddit" / "TestSubreddit.test_search.json").read_text())
    (search,) = [i for i in cassette["interactions"] if "/search" in i["request"]["uri"]]
    return search["response"]["body"]["string"].encode()


def _mastodon(file: str, uri: str) -> dict[str, Any]:
    cassette = yaml.safe_load((API / "mastodon" / file).read_text())
    (response,) = [i["response"] for i in cassette["interactions"] if i["request"]["uri"].endswith(uri)]
    return response


def mastodon_tag() -> bytes:
    return _mastodon("test_hashtag_tl.yaml", "/api/v1/timelines/tag/hoot")["body"]["string"].encode()


def mastodon_search() -> bytes:
    return _mastodon("test_search.yaml", "type=statuses")["body"]["string"].encode()


def bluesky_search() -> bytes:
    cassette = yaml.safe_load((API / "bluesky" / "searchPosts.yml").read_text())
    return cassette["http_interactions"][0]["response"]["body"]["string"].encode()


def github_search() -> bytes:
    (session,) = json.loads((API / "github" / "search-issues.json").read_text())
    return json.dumps(session["response"]).encode()


def se_question(question_id: int, created: int, title: str, body: str, **owner: Any) -> dict[str, Any]:
    """A question as `search/advanced?filter=withbody` documents it (no recording of the real API is kept)."""
    return {
        "tags": ["acme-widget", "python"],
        "owner": {
            "account_id": 900 + question_id % 100,
            "reputation": 1234,
            "user_id": 800 + question_id % 100,
            "user_type": "registered",
            "profile_image": "https://www.gravatar.com/avatar/0?s=256&d=identicon&r=PG",
            "display_name": "Dana K&#246;nig",
            "link": "https://stackoverflow.com/users/800/dana-konig",
            **owner,
        },
        "is_answered": False,
        "view_count": 17,
        "answer_count": 0,
        "score": 0,
        "last_activity_date": created,
        "creation_date": created,
        "question_id": question_id,
        "content_license": "CC BY-SA 4.0",
        "link": f"https://stackoverflow.com/questions/{question_id}/acme-widget",
        "title": title,
        "body": body,
    }


SE_QUESTIONS = [
    se_question(
        79000003,
        1763971200,
        "Acme widget can&#39;t connect &amp; times out",
        "<p>Since the update the <code>AcmeWidget</code> times out.</p>",
    ),
    se_question(
        79000002,
        1763967600,
        "Acme widget: refund API returns 500",
        "<p>The refund fails.</p><pre><code>500</code></pre>",
    ),
    se_question(
        79000001,
        1763964000,
        "How to set the widget proxy?",
        "<p>Where does the widget read its proxy?</p>",
        reputation=1,
    ),
]


def stackexchange_search() -> bytes:
    return json.dumps({"items": SE_QUESTIONS, "has_more": False, "quota_max": 300, "quota_remaining": 297}).encode()


# One row per source: how to configure it against the local server, where it reads, what it was told.


@dataclass(frozen=True)
class Case:
    kind: str
    path: str
    source: Callable[[str], Any]
    recorded: Callable[[], bytes]
    records: Callable[[Any], list[dict[str, Any]]]
    """Where the recorded answer keeps its items, so tests can spoil them."""
    keyword: str
    count: int

    def __str__(self) -> str:
        return self.kind


CASES = [
    Case("reddit", "/search.json", lambda url: RedditSource(kind="reddit", query="praw oauth search", base_url=url),
         reddit_search, lambda doc: [child["data"] for child in doc["data"]["children"]], "praw", 6),
    Case("mastodon", "/api/v1/timelines/tag/hoot",
         lambda url: MastodonSource(kind="mastodon", tag="hoot", base_url=url),
         mastodon_tag, lambda doc: doc, "hoot", 1),
    Case("bluesky", "/xrpc/app.bsky.feed.searchPosts",
         lambda url: BlueskySource(kind="bluesky", query="redistricting", base_url=url + "xrpc/"),
         bluesky_search, lambda doc: doc["posts"], "redistricting", 25),
    Case("stackexchange", "/2.3/search/advanced",
         lambda url: StackExchangeSource(kind="stackexchange", query="acme widget", base_url=url + "2.3/"),
         stackexchange_search, lambda doc: doc["items"], "widget", 3),
    Case("github", "/search/issues", lambda url: GitHubSource(kind="github", query="sesame", base_url=url),
         github_search, lambda doc: doc["items"], "sesame", 2),
]  # fmt: skip


@pytest.fixture(scope="module")
def _api_server() -> Iterator[ApiServer]:
    server = ApiServer().start()
    yield server
    server.stop()


@pytest.fixture
def api(_api_server: ApiServer) -> ApiServer:
    """The file's one local API server, emptied for the test: starting and stopping one per test was slower."""
    _api_server.reset()
    return _api_server


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the file: each new one loads the CA bundle, a twentieth of a second."""
    with httpx.Client() as client:
        yield client


def by_id(fetched: Fetched) -> dict[str, Any]:
    return {item.external_id: item for item in fetched.items}


# Every source alike.


@pytest.mark.parametrize("case", CASES, ids=str)
def test_recorded_answer_becomes_items_and_a_second_poll_adds_nothing(case, api, http):
    api.answer(case.path, case.recorded())
    source = case.source(api.url())
    first = fetch(source, http, PollState())
    assert len(first.items) == case.count
    assert len(by_id(first)) == case.count
    for item in first.items:
        assert item.text and item.url and item.url.startswith(("https://", "http://")) and item.author
        assert item.published_at is not None and item.published_at.utcoffset() == timedelta(0)
    assert first.cursor
    second = fetch(source, http, PollState(cursor=json.loads(json.dumps(first.cursor))))  # as stored
    assert second.items == []
    assert second.cursor == first.cursor


@pytest.mark.parametrize("case", CASES, ids=str)
def test_429_with_retry_after_is_rate_limited(case, api, http):
    api.answer(case.path, '{"error": "slow down"}', status=429, headers={"Retry-After": "120"})
    with pytest.raises(RateLimited) as raised:
        fetch(case.source(api.url()), http, PollState())
    assert raised.value.retry_after == 120


@pytest.mark.parametrize("case", CASES, ids=str)
def test_500_is_a_source_error_that_names_no_url(case, api, http):
    api.answer(case.path, "<html><body>Internal Server Error</body></html>", status=500, content_type="text/html")
    with pytest.raises(SourceError, match="HTTP 500") as raised:
        fetch(case.source(api.url()), http, PollState())
    assert "127.0.0.1" not in str(raised.value)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_html_page_instead_of_json_is_a_source_error(case, api, http):
    api.answer(case.path, "<!DOCTYPE html><html><title>Whoa there, pardner!</title></html>", content_type="text/html")
    with pytest.raises(SourceError, match="an HTML page, not JSON"):
        fetch(case.source(api.url()), http, PollState())


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("body", ["null", "[]", "{}", '"posts"', "42", '{"items": {}, "data": [], "posts": 7}'])
def test_an_answer_of_the_wrong_shape_is_a_source_error(case, body, api, http):
    api.answer(case.path, body)
    if case.kind == "mastodon" and body == "[]":
        assert fetch(case.source(api.url()), http, PollState()).items == []  # an empty timeline is a timeline
        return
    with pytest.raises(SourceError, match="answered"):
        fetch(case.source(api.url()), http, PollState())


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_huge_or_a_slow_answer_is_reported_in_source_health(case, api, http, sqlite_engine, monkeypatch):
    source, now = case.source(api.url()), utcnow()
    monkeypatch.setattr(source_http, "MAX_BODY_BYTES", 4096)
    api.answer(case.path, json.dumps({"padding": "x" * 10_000}))
    report = poll(sqlite_engine, http, listener(case.keyword), source, now=now)
    assert report.error and report.error.startswith("sent more than")
    monkeypatch.setattr(source_http, "TIMEOUT", httpx.Timeout(0.05))
    api.answer(case.path, case.recorded(), delay=0.5)
    report = poll(sqlite_engine, http, listener(case.keyword), source, now=now, force=True)
    assert report.error and "Timeout" in report.error
    state = source_state(sqlite_engine, source)
    assert state.last_error == report.error and state.consecutive_failures == 2 and state.backoff_until > now


BAD_VALUES: list[Any] = [
    None,
    7,
    -1.5,
    True,
    "",
    "x",
    [],
    {},
    "2026-13-45T99:99:99Z",
    "0001-01-01T00:00:00+01:00",
    10**30,
]


def _first_two(node: Any) -> Any:
    """The answer with every list cut to two entries: as telling, and quicker to spoil a field at a time."""
    if isinstance(node, list):
        return [_first_two(value) for value in node[:2]]
    if isinstance(node, dict):
        return {key: _first_two(value) for key, value in node.items()}
    return node


BAD_VALUES_PER_FIELD = 3


def spoiled_answers(case: Case) -> Iterator[tuple[str, bytes]]:
    """The recorded answer with one field of its first item (or of an object inside it) removed or wrong.

    Every field is removed once and given three bad values, taken in turn from BAD_VALUES so that
    each meets every fourth field or so: all eleven on every field took three times as long."""
    original = _first_two(json.loads(case.recorded()))
    item = case.records(original)[0]
    places = list(item) + [
        f"{key}.{inner}" for key, value in item.items() if isinstance(value, dict) for inner in value
    ]
    for n, label in enumerate(places):
        turn = [BAD_VALUES[(n * BAD_VALUES_PER_FIELD + k) % len(BAD_VALUES)] for k in range(BAD_VALUES_PER_FIELD)]
        for value in ["(missing)", *turn]:
            doc = copy.deepcopy(original)
            target = case.records(doc)[0]
            *outer, last = label.split(".")
            for part in outer:
                target = target[part]
            if value == "(missing)":
                del target[last]
            else:
                target[last] = value
            yield f"{label}={value!r}", json.dumps(doc).encode()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_spoiled_item_is_skipped_or_refused_never_a_crash(case):
    """Through httpx's mock transport, for speed: eighty to three hundred variants per source."""
    answers: dict[str, bytes] = {}
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=answers["now"], headers={"Content-Type": "application/json"})
    )
    with httpx.Client(transport=transport) as client:
        source = case.source("https://api.example.com/")
        tried = 0
        for label, body in spoiled_answers(case):
            answers["now"] = body
            tried += 1
            try:
                fetched = fetch(source, client, PollState())
            except SourceError:
                continue
            except Exception as error:  # the contract is Fetched or SourceError
                pytest.fail(f"{case.kind} with {label}: {type(error).__name__}: {error}")
            assert len(fetched.items) >= min(case.count, 2) - 1, label  # the other item is untouched
            for item in fetched.items:
                assert isinstance(item.external_id, str) and item.external_id, label
                assert isinstance(item.text, str) and item.text, label
                assert item.url is None or item.url.startswith(("https://", "http://")), label
                assert item.published_at is None or item.published_at.tzinfo is not None, label
                assert item.author_reach is None or type(item.author_reach) is int, label
            json.dumps(fetched.cursor)  # storable
    assert tried > 50


# Bounded HTTP.


def test_a_refusal_keeps_its_status_headers_and_the_start_of_its_body(api, http):
    api.answer("/refused", json.dumps({"error": "x" * 10_000}), status=403, headers={"X-Why": "because"})
    with pytest.raises(HttpStatusError) as raised:
        source_http.get(http, api.url("/refused?token=SECRET"))
    error = raised.value
    assert (str(error), error.status, error.headers["x-why"]) == ("answered HTTP 403", 403, "because")
    assert error.body == (b'{"error": "' + b"x" * 10_000)[:2048]
    assert error.json() is None  # cut short, it is no longer JSON


def test_post_json_sends_json_is_bounded_and_follows_no_redirect(api, http, monkeypatch):
    api.answer("/login", {"ok": True}, method="POST")
    assert source_http.post_json(http, api.url("/login"), json={"password": "p"}) == {"ok": True}
    (request,) = api.requests
    assert request.method == "POST" and request.json() == {"password": "p"}
    assert request.headers["content-type"] == "application/json"
    api.answer("/moved", "", method="POST", status=307, headers={"Location": api.url("/login")})
    with pytest.raises(HttpStatusError, match="^answered HTTP 307$"):  # never re-sent elsewhere with the password
        source_http.post_json(http, api.url("/moved"), json={"password": "p"})
    assert len(api.requests_to("/login")) == 1
    monkeypatch.setattr(source_http, "MAX_BODY_BYTES", 1024)
    api.answer("/login", {"padding": "x" * 2000}, method="POST")
    with pytest.raises(SourceError, match="^sent more than"):
        source_http.post_json(http, api.url("/login"), json={})


def _epoch(seconds: float) -> str:
    return str(int(time.time() + seconds))


def _iso_in(seconds: float) -> str:
    return (utcnow() + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        pytest.param({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "42"}, 42, id="reddit-seconds"),
        pytest.param({"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "epoch+300"}, 300, id="github-epoch"),
        pytest.param({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "iso+300"}, 300, id="mastodon-iso"),
        pytest.param({"ratelimit-remaining": "0", "ratelimit-reset": "epoch+300"}, 300, id="bluesky-epoch"),
        pytest.param({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "epoch-60"}, 0, id="already-reset"),
        pytest.param({"ratelimit-remaining": "12", "ratelimit-reset": "epoch+300"}, None, id="quota-left"),
        pytest.param({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "soon"}, None, id="unreadable-reset"),
        pytest.param({"x-ratelimit-remaining": "nan", "x-ratelimit-reset": "42"}, None, id="nan-remaining"),
        pytest.param({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "inf"}, None, id="infinite-reset"),
        pytest.param({"x-ratelimit-remaining": "0", "x-ratelimit-used": "600"}, None, id="no-reset"),
    ],
)
def test_rate_limit_wait_reads_each_services_reset(headers, wait):
    times = {"epoch+300": _epoch(300), "epoch-60": _epoch(-60), "iso+300": _iso_in(300)}  # when the test runs
    found = source_http.rate_limit_wait(httpx.Headers({name: times.get(v, v) for name, v in headers.items()}))
    assert found == wait if wait in (None, 0, 42) else 295 <= (found or 0) <= 300


# Polls through the database.


def listener(keyword: str) -> Listener:
    return Listener(Config.model_validate({"listen": {"keywords": [keyword]}, "channels": {"default": "C0LISTEN"}}))


@pytest.fixture(scope="module")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("migrated") / "allears.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_engine(_migrated_sqlite: Path, tmp_path: Path) -> Iterator[Engine]:
    """A copy of one database migrated for the file: migrating takes longer than the polls tested here."""
    shutil.copy(_migrated_sqlite, tmp_path / "allears.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'allears.db'}")
    yield engine
    engine.dispose()


def source_state(engine, source) -> SourceState:
    with read_scope(engine) as session:
        return session.get(SourceState, source.key)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_poll_stores_the_matching_mentions_once(case, api, http, sqlite_engine):
    api.answer(case.path, case.recorded())
    source, now = case.source(api.url()), utcnow()
    first = poll(sqlite_engine, http, listener(case.keyword), source, now=now)
    assert first.error is None and first.fetched == case.count and first.new == first.matched >= 1
    with read_scope(sqlite_engine) as session:
        mentions = session.exec(select(Mention)).all()
    assert len(mentions) == first.new
    assert {m.source_kind for m in mentions} == {case.kind} and {m.source for m in mentions} == {source.key}
    assert all(m.url and m.author and m.published_at for m in mentions)
    assert source_state(sqlite_engine, source).cursor

    second = poll(sqlite_engine, http, listener(case.keyword), source, now=now + timedelta(minutes=5))
    assert (second.error, second.fetched, second.new) == (None, 0, 0)
    assert len(api.requests_to(case.path)) == 2


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rate_limited_poll_rests_for_as_long_as_asked(case, api, http, sqlite_engine):
    api.answer(case.path, "{}", status=429, headers={"Retry-After": "600"})
    source, now = case.source(api.url()), utcnow()
    report = poll(sqlite_engine, http, listener(case.keyword), source, now=now)
    assert "429" in (report.error or "")
    assert source_state(sqlite_engine, source).backoff_until == now + timedelta(seconds=600)
    resting = poll(sqlite_engine, http, listener(case.keyword), source, now=now + timedelta(minutes=5))
    assert resting.resting_until == now + timedelta(seconds=600)
    assert len(api.requests_to(case.path)) == 1


# Reddit.


def test_reddit_items_and_request(api, http):
    api.answer("/search.json", reddit_search())
    fetched = fetch(RedditSource(kind="reddit", query="praw oauth search", base_url=api.url()), http, PollState())
    post = by_id(fetched)["t3_3gpbiu"]
    assert post.title == "[PRAW][OAuth2Util] Problem using get_banned() : raise Forbidden(_raw=response)"
    assert post.text.startswith("# solved\n\nProblem solved with this:")
    assert post.author == "dClauzel" and post.author_reach is None
    assert (
        post.url == "https://www.reddit.com/r/redditdev/comments/3gpbiu/prawoauth2util_problem_using_get_banned_raise/"
    )
    assert post.published_at == datetime(2015, 8, 12, 9, 8, 34, tzinfo=UTC)
    assert fetched.cursor == {"created_utc": 1458221634.0} and fetched.wait is None
    (request,) = api.requests
    assert request.query == {"q": "praw oauth search", "sort": "new", "t": "all", "limit": "100", "raw_json": "1"}
    assert request.headers["user-agent"].startswith("allears/")


def test_reddit_link_post_shares_the_page_it_links(api, http):
    listing = json.loads(reddit_search())
    listing["data"]["children"][0]["data"].update(is_self=False, url="https://example.com/acme-outage?utm_source=x")
    api.answer("/search.json", listing)
    fetched = fetch(RedditSource(kind="reddit", query="praw", base_url=api.url()), http, PollState())
    assert by_id(fetched)["t3_3gpbiu"].shared_url == "https://example.com/acme-outage?utm_source=x"
    assert by_id(fetched)["t3_3x4kt2"].shared_url is None  # a self post is the thread itself


def test_reddit_subreddit_search_is_restricted_to_it(api, http):
    api.answer("/r/redditdev/search.json", reddit_search())
    source = RedditSource(kind="reddit", query="praw", subreddit="redditdev", base_url=api.url())
    assert len(fetch(source, http, PollState()).items) == 6
    assert api.requests[0].query["restrict_sr"] == "1"


def test_reddit_keeps_only_posts_after_the_cursor(api, http):
    api.answer("/search.json", reddit_search())
    source = RedditSource(kind="reddit", query="praw", base_url=api.url())
    fetched = fetch(source, http, PollState(cursor={"created_utc": 1445894438.0}))
    assert sorted(by_id(fetched)) == ["t3_3x4kt2", "t3_4at068"]
    assert fetched.cursor == {"created_utc": 1458221634.0}


@pytest.mark.parametrize(("remaining", "wait"), [("0", 42.0), ("0.0", 42.0), ("598.0", None)])
def test_reddit_honours_a_spent_quota_even_on_success(api, http, remaining, wait):
    headers = {"x-ratelimit-remaining": remaining, "x-ratelimit-reset": "42", "x-ratelimit-used": "600"}
    api.answer("/search.json", reddit_search(), headers=headers)
    fetched = fetch(RedditSource(kind="reddit", query="praw", base_url=api.url()), http, PollState())
    assert len(fetched.items) == 6 and fetched.wait == wait


# Mastodon.


def mastodon_status(**changes: Any) -> dict[str, Any]:
    (status,) = json.loads(mastodon_tag())
    return {**status, **changes}


def test_mastodon_tag_timeline_items_and_request(api, http, monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", "secret-token")
    api.answer("/api/v1/timelines/tag/hoot", mastodon_tag())
    source = MastodonSource(kind="mastodon", tag="hoot", token_env="MASTODON_TOKEN", base_url=api.url())
    fetched = fetch(source, http, PollState())
    (status,) = fetched.items
    assert status.external_id == "117020593741189701"
    assert status.text == "#hoot (hashtag toot)" and status.title is None
    assert status.url == "http://localhost:3000/@mastodonpy_test_2/117020593741189701"  # a test server's own url
    assert status.author == "@mastodonpy_test_2" and status.author_reach == 0
    assert status.published_at == datetime(2026, 8, 1, 13, 55, 55, 867000, tzinfo=UTC)
    assert fetched.cursor == {"tag": "117020593741189701"}
    (request,) = api.requests
    assert request.query == {"limit": "40"}
    assert request.headers["authorization"] == "Bearer secret-token"

    fetch(source, http, PollState(cursor=fetched.cursor))
    assert api.requests[1].query == {"limit": "40", "min_id": "117020593741189701"}


def test_mastodon_search_reads_statuses_with_its_own_cursor(api, http):
    api.answer("/api/v2/search", mastodon_search())
    source = MastodonSource(kind="mastodon", query="acme widget", base_url=api.url())
    empty = fetch(source, http, PollState(cursor={"tag": "5"}))
    assert empty.items == [] and empty.cursor == {"tag": "5"}
    assert api.requests[0].query == {"q": "acme widget", "type": "statuses", "limit": "40"}
    assert "authorization" not in api.requests[0].headers

    recorded = json.loads(mastodon_search())
    newer = mastodon_status(
        id="117020593741189702", spoiler_text="acme outage", content="<p>Down again &amp; no reply</p>"
    )
    api.answer("/api/v2/search", {**recorded, "statuses": [newer, mastodon_status()]})
    fetched = fetch(source, http, PollState(cursor={"search": "117020593741189701"}))
    (status,) = fetched.items
    assert (status.title, status.text) == ("acme outage", "Down again & no reply")
    assert fetched.cursor == {"search": "117020593741189702"}
    assert api.requests[1].query["min_id"] == "117020593741189701"


def test_mastodon_tag_and_search_together_hear_each_status_once(api, http):
    api.answer("/api/v1/timelines/tag/hoot", mastodon_tag())
    api.answer("/api/v2/search", {"accounts": [], "statuses": [mastodon_status()], "hashtags": []})
    source = MastodonSource(kind="mastodon", tag="hoot", query="hoot", base_url=api.url())
    fetched = fetch(source, http, PollState())
    assert len(fetched.items) == 1
    assert fetched.cursor == {"tag": "117020593741189701", "search": "117020593741189701"}


def test_mastodon_skips_boosts_but_passes_them(api, http):
    boost = mastodon_status(id="117020593741189799", content="", reblog=mastodon_status())
    api.answer("/api/v1/timelines/tag/hoot", [boost])
    fetched = fetch(MastodonSource(kind="mastodon", tag="hoot", base_url=api.url()), http, PollState())
    assert fetched.items == [] and fetched.cursor == {"tag": "117020593741189799"}


def test_mastodon_search_refused_without_a_token_says_what_to_set(api, http):
    api.answer("/api/v2/search", '{"error": "The access token is invalid"}', status=401)
    with pytest.raises(SourceError, match=r"HTTP 401: .*access token \(token_env\)"):
        fetch(MastodonSource(kind="mastodon", query="acme", base_url=api.url()), http, PollState())


def test_mastodon_without_tag_or_query_is_refused_at_start():
    with pytest.raises(ValidationError, match="needs a `tag`, a `query` or both"):
        MastodonSource(kind="mastodon", base_url="https://mastodon.example/")


def test_mastodon_429_waits_until_the_iso_reset(api, http):
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": _iso_in(300)}
    api.answer("/api/v1/timelines/tag/hoot", '{"error": "Too many requests"}', status=429, headers=headers)
    with pytest.raises(RateLimited) as raised:
        fetch(MastodonSource(kind="mastodon", tag="hoot", base_url=api.url()), http, PollState())
    assert 295 <= (raised.value.retry_after or 0) <= 300


# Bluesky.


def bluesky_page(count: int, *, start: datetime, cursor: str | None) -> dict[str, Any]:
    """`count` copies of a recorded post, a minute apart going back from `start`."""
    post = json.loads(bluesky_search())["posts"][1]
    posts = []
    for n in range(count):
        moment = (start - timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
        posts.append({**post, "uri": post["uri"].rsplit("/", 1)[0] + f"/3page{start.minute}n{n}",
                      "record": {**post["record"], "createdAt": moment}, "indexedAt": moment})  # fmt: skip
    return {"posts": posts, **({"cursor": cursor} if cursor else {})}


def test_bluesky_items_and_request(api, http):
    api.answer("/xrpc/app.bsky.feed.searchPosts", bluesky_search())
    source = BlueskySource(kind="bluesky", query="redistricting", base_url=api.url() + "xrpc/")
    fetched = fetch(source, http, PollState())
    post = by_id(fetched)["at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpk2u6qo222m"]
    assert post.url == "https://bsky.app/profile/socpaperbot.bsky.social/post/3lpk2u6qo222m"
    assert post.author == "@socpaperbot.bsky.social"
    assert post.text.startswith("Ends Versus Means: Public Opinion on Congressional Redistricting https://osf.io/v87fn")
    assert post.published_at == datetime(2025, 5, 19, 17, 10, 9, 561858, tzinfo=UTC)
    # Posted two seconds after Bluesky indexed it (a fast clock): it is placed at the earlier time.
    late = by_id(fetched)["at://did:plc:mhbp4wx4zsjf6537frktqux2/app.bsky.feed.post/3lpikwarowc2o"]
    assert late.published_at == datetime(2025, 5, 19, 2, 52, 17, 916000, tzinfo=UTC)
    assert fetched.cursor == {"sort_at": "2025-05-19T17:10:09.561858Z"} and fetched.problem is None
    assert [r.query for r in api.requests] == [{"q": "redistricting", "sort": "latest", "limit": "100"}]

    fetch(source, http, PollState(cursor=fetched.cursor))
    assert api.requests[1].query["since"] == "2025-05-19T17:10:09.561858Z"


def test_bluesky_follows_the_cursor_for_at_most_three_pages(api, http):
    path, start = "/xrpc/app.bsky.feed.searchPosts", datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    api.answer(path, bluesky_page(100, start=start, cursor="100"))
    api.answer(path, bluesky_page(100, start=start - timedelta(hours=2), cursor="200"), when={"cursor": "100"})
    api.answer(path, bluesky_page(100, start=start - timedelta(hours=4), cursor="300"), when={"cursor": "200"})
    source = BlueskySource(kind="bluesky", query="redistricting", base_url=api.url() + "xrpc/")
    fetched = fetch(source, http, PollState(cursor={"sort_at": "2026-01-01T00:00:00Z"}))
    assert len(fetched.items) == 300 and fetched.problem is None
    assert [r.query.get("cursor") for r in api.requests] == [None, "100", "200"]
    assert fetched.cursor == {"sort_at": "2026-01-05T12:00:00Z"}


def test_bluesky_first_poll_reads_one_page_only(api, http):
    path = "/xrpc/app.bsky.feed.searchPosts"
    api.answer(path, bluesky_page(100, start=datetime(2026, 1, 5, 12, 0, tzinfo=UTC), cursor="100"))
    source = BlueskySource(kind="bluesky", query="redistricting", base_url=api.url() + "xrpc/")
    assert len(fetch(source, http, PollState()).items) == 100 and len(api.requests) == 1


def test_bluesky_refused_search_says_so(api, http):
    api.answer("/xrpc/app.bsky.feed.searchPosts", '{"error": "AuthMissing"}', status=403)
    source = BlueskySource(kind="bluesky", query="redistricting", base_url=api.url() + "xrpc/")
    with pytest.raises(SourceError, match="HTTP 403: the AppView refused the search"):
        fetch(source, http, PollState())


def test_bluesky_stops_paging_at_posts_already_seen(api, http):
    path, start = "/xrpc/app.bsky.feed.searchPosts", datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    api.answer(path, bluesky_page(100, start=start, cursor="100"))  # as if the AppView ignored `since`
    source = BlueskySource(kind="bluesky", query="redistricting", base_url=api.url() + "xrpc/")
    fetched = fetch(source, http, PollState(cursor={"sort_at": "2026-01-05T11:30:00Z"}))
    assert len(fetched.items) == 30 and len(api.requests) == 1


def test_bluesky_keeps_the_first_page_when_a_later_one_fails(api, http):
    path, start = "/xrpc/app.bsky.feed.searchPosts", datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    api.answer(path, bluesky_page(100, start=start, cursor="100"))
    api.answer(
        path, '{"error": "RateLimitExceeded"}', status=429, headers={"Retry-After": "30"}, when={"cursor": "100"}
    )
    source = BlueskySource(kind="bluesky", query="redistricting", base_url=api.url() + "xrpc/")
    fetched = fetch(source, http, PollState(cursor={"sort_at": "2026-01-01T00:00:00Z"}))
    assert len(fetched.items) == 100 and fetched.wait == 30
    assert fetched.problem == "read only 1 page(s) of new posts: answered HTTP 429 (rate limited)"


SEARCH, SIGN_IN = "/xrpc/app.bsky.feed.searchPosts", "/xrpc/com.atproto.server.createSession"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"


def bluesky_session(jwt: str) -> dict[str, Any]:
    """What `createSession` answers, as documented (tokens shortened)."""
    return {"did": "did:plc:acme", "handle": "acme.bsky.social", "accessJwt": jwt, "refreshJwt": f"refresh-{jwt}"}


@pytest.fixture
def signed_in(api, monkeypatch) -> BlueskySource:
    """A source with an account on the local "PDS", and no session kept from another test."""
    monkeypatch.setenv("BSKY_APP_PASSWORD", APP_PASSWORD)
    monkeypatch.setattr(bluesky, "_SESSIONS", {})
    return BlueskySource(kind="bluesky", query="redistricting", handle="acme.bsky.social",
                         app_password_env="BSKY_APP_PASSWORD", base_url=api.url() + "xrpc/")  # fmt: skip


def test_bluesky_signs_in_once_and_sends_the_token(api, http, signed_in):
    api.answer(SIGN_IN, bluesky_session("jwt-1"), method="POST")
    api.answer(SEARCH, bluesky_search(), when_headers={"authorization": "Bearer jwt-1"})
    first = fetch(signed_in, http, PollState())
    assert len(first.items) == 25
    fetch(signed_in, http, PollState(cursor=first.cursor))
    (sign_in,) = api.requests_to(SIGN_IN)  # the session serves the next poll too
    assert sign_in.method == "POST"
    assert sign_in.json() == {"identifier": "acme.bsky.social", "password": APP_PASSWORD}
    assert [r.headers["authorization"] for r in api.requests_to(SEARCH)] == ["Bearer jwt-1"] * 2


def test_bluesky_expired_session_is_renewed_once(api, http, signed_in):
    api.answer(SIGN_IN, bluesky_session("jwt-1"), method="POST")
    api.answer(SEARCH, bluesky_search(), when_headers={"authorization": "Bearer jwt-1"})
    fetch(signed_in, http, PollState())
    expired = {"error": "ExpiredToken", "message": "Token has expired"}
    api.answer(SEARCH, expired, status=400, when_headers={"authorization": "Bearer jwt-1"})
    api.answer(SIGN_IN, bluesky_session("jwt-2"), method="POST")
    api.answer(SEARCH, bluesky_search(), when_headers={"authorization": "Bearer jwt-2"})
    assert len(fetch(signed_in, http, PollState()).items) == 25
    assert [r.headers["authorization"] for r in api.requests_to(SEARCH)] == ["Bearer jwt-1"] * 2 + ["Bearer jwt-2"]
    assert len(api.requests_to(SIGN_IN)) == 2


def test_bluesky_session_refused_again_after_signing_in_anew_is_an_error(api, http, signed_in):
    api.answer(SIGN_IN, bluesky_session("jwt-1"), method="POST")
    api.answer(SEARCH, {"error": "ExpiredToken", "message": "Token has expired"}, status=400)
    with pytest.raises(SourceError, match="^answered HTTP 400$"):
        fetch(signed_in, http, PollState())
    assert (len(api.requests_to(SIGN_IN)), len(api.requests_to(SEARCH))) == (2, 2)


@pytest.mark.parametrize("message", ["Invalid identifier or password", f"Invalid password {APP_PASSWORD}"])
def test_bluesky_wrong_app_password_is_a_source_error_that_never_shows_it(api, http, signed_in, message):
    api.answer(SIGN_IN, {"error": "AuthenticationRequired", "message": message}, status=401, method="POST")
    with pytest.raises(SourceError, match=r"^could not sign in as acme\.bsky\.social: answered HTTP 401 \(Invalid"
                       ) as raised:  # fmt: skip
        fetch(signed_in, http, PollState())
    assert APP_PASSWORD not in str(raised.value) and api.requests_to(SEARCH) == []


def test_bluesky_account_needs_both_settings_and_a_pds(monkeypatch):
    monkeypatch.setenv("BSKY_APP_PASSWORD", APP_PASSWORD)
    with pytest.raises(ValidationError, match="set both `handle` and `app_password_env`"):
        BlueskySource(kind="bluesky", query="acme", handle="acme.bsky.social", base_url="https://bsky.social/xrpc/")
    with pytest.raises(ValidationError, match="set `base_url` to your PDS"):
        BlueskySource(kind="bluesky", query="acme", handle="acme.bsky.social", app_password_env="BSKY_APP_PASSWORD")


# Stack Exchange.


def test_stackexchange_items_and_request(api, http, monkeypatch):
    monkeypatch.setenv("SE_KEY", "key-abc")
    api.answer("/2.3/search/advanced", stackexchange_search())
    source = StackExchangeSource(
        kind="stackexchange", query="acme widget", key_env="SE_KEY", base_url=api.url() + "2.3/"
    )
    fetched = fetch(source, http, PollState())
    question = by_id(fetched)["79000003"]
    assert question.title == "Acme widget can't connect & times out"
    assert question.text == "Since the update the AcmeWidget times out."
    assert question.url == "https://stackoverflow.com/questions/79000003/acme-widget"
    assert question.author == "Dana König" and question.author_reach == 1234
    assert question.published_at == datetime(2025, 11, 24, 8, 0, tzinfo=UTC)
    assert by_id(fetched)["79000001"].author_reach == 1
    assert fetched.cursor == {"creation_date": 1763971200} and fetched.wait is None
    expected = {"q": "acme widget", "site": "stackoverflow", "order": "desc", "sort": "creation",
                "filter": "withbody", "pagesize": "100", "key": "key-abc"}  # fmt: skip
    assert api.requests[0].query == expected

    fetch(source, http, PollState(cursor=fetched.cursor))
    assert api.requests[1].query == {**expected, "fromdate": "1763971200"}


def test_stackexchange_without_a_key_polls_every_ten_minutes(monkeypatch):
    """300 keyless requests a day: every 5 minutes would leave 12 for restarts and `allears poll --once`."""
    monkeypatch.setenv("SE_KEY", "key-abc")

    def every(**settings: Any) -> timedelta:
        return StackExchangeSource(kind="stackexchange", query="acme", **settings).every

    assert every() == timedelta(minutes=10)
    assert every(every="5m") == every(key_env="SE_KEY") == timedelta(minutes=5)


def test_stackexchange_backoff_and_a_full_page_are_reported(api, http):
    api.answer("/2.3/search/advanced", {"items": SE_QUESTIONS, "has_more": True, "backoff": 10, "quota_remaining": 3})
    source = StackExchangeSource(kind="stackexchange", query="acme widget", base_url=api.url() + "2.3/")
    fetched = fetch(source, http, PollState(cursor={"creation_date": 1763960000}))
    assert len(fetched.items) == 3 and fetched.wait == 10
    assert fetched.problem == "more new questions than one page; the oldest were skipped"


def test_stackexchange_error_wrapper_is_named(api, http, monkeypatch):
    monkeypatch.setenv("SE_KEY", "key-abc")
    error = {"error_id": 400, "error_name": "bad_parameter", "error_message": "key key-abc is not valid"}
    api.answer("/2.3/search/advanced", error, status=400)
    source = StackExchangeSource(kind="stackexchange", query="acme", key_env="SE_KEY", base_url=api.url() + "2.3/")
    with pytest.raises(SourceError) as raised:
        fetch(source, http, PollState())
    assert not isinstance(raised.value, RateLimited)
    assert str(raised.value) == "answered bad_parameter: key (key) is not valid"


@pytest.mark.parametrize("status", [400, 502])
def test_stackexchange_throttle_violation_is_rate_limited(api, http, status):
    message = "too many requests from this IP, more requests available in 8153 seconds"
    api.answer("/2.3/search/advanced", {"error_id": 502, "error_name": "throttle_violation", "error_message": message},
               status=status)  # fmt: skip
    source = StackExchangeSource(kind="stackexchange", query="acme", base_url=api.url() + "2.3/")
    with pytest.raises(RateLimited, match="throttle_violation") as raised:
        fetch(source, http, PollState())
    assert raised.value.retry_after == 8153


def test_stackexchange_error_wrapper_with_200_is_still_an_error(api, http):
    api.answer("/2.3/search/advanced", {"error_id": 500, "error_name": "internal_error", "error_message": "oops"})
    source = StackExchangeSource(kind="stackexchange", query="acme", base_url=api.url() + "2.3/")
    with pytest.raises(SourceError, match="answered internal_error: oops"):
        fetch(source, http, PollState())


# GitHub.


def test_github_items_and_request(api, http, monkeypatch):
    monkeypatch.setenv("GH_TOKEN", "ghp_secret")
    api.answer("/search/issues", github_search())
    source = GitHubSource(kind="github", query="sesame repo:octokit-fixture-org/search-issues", token_env="GH_TOKEN",
                          base_url=api.url())  # fmt: skip
    fetched = fetch(source, http, PollState())
    issue = by_id(fetched)["1001"]
    assert issue.title == "The doors don’t open"
    assert issue.text == 'I tried "open sesame" as seen on Wikipedia but no luck!'
    assert issue.url == "https://github.com/octokit-fixture-org/search-issues/issues/1"
    assert issue.author == "octokit-fixture-user-a"
    assert issue.published_at == datetime(2017, 10, 10, 16, 0, tzinfo=UTC)
    assert fetched.cursor == {"created_at": "2017-10-10T16:00:00Z"}
    (request,) = api.requests
    assert request.query == {"q": "sesame repo:octokit-fixture-org/search-issues is:issue", "sort": "created",
                             "order": "desc", "per_page": "100"}  # fmt: skip
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["authorization"] == "Bearer ghp_secret"

    fetch(source, http, PollState(cursor=fetched.cursor))
    assert api.requests[1].query["q"].endswith("is:issue created:>=2017-10-10T16:00:00Z")


def test_github_more_new_issues_than_a_page_is_reported(api, http):
    answer = json.loads(github_search())
    api.answer("/search/issues", {**answer, "total_count": 250})
    source = GitHubSource(kind="github", query="sesame", base_url=api.url())
    fetched = fetch(source, http, PollState(cursor={"created_at": "2017-10-01T00:00:00Z"}))
    assert len(fetched.items) == 2 and fetched.problem == "more new issues than one page; the oldest were skipped"
    assert fetch(source, http, PollState()).problem is None  # the first poll never meant to read everything


def test_github_query_that_names_pull_requests_is_left_alone(api, http):
    api.answer("/search/issues", github_search())
    fetch(GitHubSource(kind="github", query="sesame is:pr", base_url=api.url()), http, PollState())
    assert api.requests[0].query["q"] == "sesame is:pr"
    assert "authorization" not in api.requests[0].headers


def test_github_403_with_the_search_quota_spent_is_rate_limited(api, http):
    reset = int(time.time()) + 300
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset), "x-ratelimit-resource": "search"}
    api.answer("/search/issues", '{"message": "API rate limit exceeded"}', status=403, headers=headers)
    with pytest.raises(RateLimited, match="403") as raised:
        fetch(GitHubSource(kind="github", query="sesame", base_url=api.url()), http, PollState())
    assert 295 <= (raised.value.retry_after or 0) <= 300
    assert [r.path for r in api.requests] == ["/search/issues"]  # the refusal itself says so


def test_github_403_of_a_secondary_rate_limit_waits_as_asked(api, http):
    headers = {"retry-after": "60", "x-ratelimit-remaining": "25"}
    api.answer("/search/issues", '{"message": "You have exceeded a secondary rate limit"}', status=403, headers=headers)
    with pytest.raises(RateLimited) as raised:
        fetch(GitHubSource(kind="github", query="sesame", base_url=api.url()), http, PollState())
    assert raised.value.retry_after == 60


def test_github_403_for_another_reason_is_a_plain_source_error(api, http):
    headers = {"x-ratelimit-remaining": "29", "x-ratelimit-reset": str(int(time.time()) + 60)}
    api.answer("/search/issues", '{"message": "Resource not accessible"}', status=403, headers=headers)
    with pytest.raises(SourceError, match="HTTP 403") as raised:
        fetch(GitHubSource(kind="github", query="sesame", base_url=api.url()), http, PollState())
    assert not isinstance(raised.value, RateLimited)
