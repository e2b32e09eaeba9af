"""What every API source does alike, against a local server answering with recorded real responses (Stack
Exchange: its documented shape): items, cursors, the overlap, full pages, rate limits, refusals, malformed
answers, and polls into the database. What each service does its own way is in test_sources_by_service.py."""

import copy
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import Engine
from sqlmodel import select

from bot.ground import migrate
from bot.ground.clock import utcnow
from bot.ground.config import Config
from bot.ground.config_sources import (
    AppStoreSource,
    BlueskySource,
    DiscourseSource,
    GitHubSource,
    HackerNewsSource,
    MastodonSource,
    RedditSource,
    StackExchangeSource,
)
from bot.ground.db import make_engine, read_scope
from bot.ground.models import Mention, SourceState
from bot.hear.polling import Listener, PollReport, poll
from bot.hear.sources import Fetched, PollState, RateLimited, SourceError
from bot.hear.sources import http as source_http
from bot.hear.sources.fields import OVERLAP, iso
from bot.hear.sources.http import HttpStatusError
from bot.hear.sources.registry import fetch

# Recorded answers, as the services sent them, read from `recordings` (the fixture: the shared data's `api`
# folder, found when a test runs, never at import).


def reddit_search(recordings: Path) -> bytes:
    cassette = json.loads((recordings / "reddit" / "TestSubreddit.test_search.json").read_text())
    (search,) = [i for i in cassette["interactions"] if "/search" in i["request"]["uri"]]
    return search["response"]["body"]["string"].encode()


def hackernews_search(recordings: Path) -> bytes:
    """Algolia's answers for the newest story and the newest comment on Apple, as one search for both."""
    recorded = {
        e["url"]: e["reply"] for e in json.loads((recordings / "hackernews" / "algolia-fixtures.json").read_text())
    }
    story = recorded["/api/v1/search_by_date?hitsPerPage=1&tags=(story%2Cpoll)&query=apple"]
    comment = recorded["/api/v1/search_by_date?hitsPerPage=1&tags=(comment)&query=apple"]
    return json.dumps({**story, "hits": story["hits"] + comment["hits"]}).encode()


def _mastodon(recordings: Path, file: str, uri: str) -> dict[str, Any]:
    cassette = yaml.safe_load((recordings / "mastodon" / file).read_text())
    (response,) = [i["response"] for i in cassette["interactions"] if i["request"]["uri"].endswith(uri)]
    return response


def mastodon_tag(recordings: Path) -> bytes:
    return _mastodon(recordings, "test_hashtag_tl.yaml", "/api/v1/timelines/tag/hoot")["body"]["string"].encode()


def mastodon_search(recordings: Path) -> bytes:
    return _mastodon(recordings, "test_search.yaml", "type=statuses")["body"]["string"].encode()


def bluesky_search(recordings: Path) -> bytes:
    cassette = yaml.safe_load((recordings / "bluesky" / "searchPosts.yml").read_text())
    return cassette["http_interactions"][0]["response"]["body"]["string"].encode()


def github_search(recordings: Path) -> bytes:
    (session,) = json.loads((recordings / "github" / "search-issues.json").read_text())
    return json.dumps(session["response"]).encode()


RECORDED = Path(__file__).parent / "recorded"
"""Real-shaped answers of the services the shared data has no recording of (recorded/README.md)."""
APP_ID = "284882215"


def appstore_reviews(_recordings: Path | None = None) -> bytes:
    return (RECORDED / "appstore" / "customerreviews-us.json").read_bytes()


def discourse_posts(_recordings: Path | None = None) -> bytes:
    return (RECORDED / "discourse" / "posts.json").read_bytes()


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


# Pages of made-up posts, each a copy of a recorded one with its own number and time, newest first.

Posts = list[tuple[int, datetime]]


def reddit_page(recordings: Path, posts: Posts) -> dict[str, Any]:
    listing = json.loads(reddit_search(recordings))
    child = listing["data"]["children"][0]
    listing["data"]["children"] = [
        {**child, "data": {**child["data"], "name": f"t3_{n}", "created_utc": at.timestamp()}} for n, at in posts
    ]
    return listing


def hackernews_page(recordings: Path, posts: Posts) -> dict[str, Any]:
    reply = json.loads(hackernews_search(recordings))
    reply["hits"] = [{**reply["hits"][0], "objectID": str(n), "created_at_i": int(at.timestamp())} for n, at in posts]
    return reply


def bluesky_page(recordings: Path, posts: Posts, *, cursor: str | None = "next") -> dict[str, Any]:
    post = json.loads(bluesky_search(recordings))["posts"][1]
    copies = [{**post, "uri": post["uri"].rsplit("/", 1)[0] + f"/3post{n}", "indexedAt": iso(at),
               "record": {**post["record"], "createdAt": iso(at)}} for n, at in posts]  # fmt: skip
    return {"posts": copies, **({"cursor": cursor} if cursor else {})}


def minutes_back(count: int, start: datetime) -> Posts:
    return [(int(start.timestamp()) // 60 - n, start - timedelta(minutes=n)) for n in range(count)]


def stackexchange_page(posts: Posts) -> dict[str, Any]:
    questions = [se_question(n, int(at.timestamp()), "Acme widget times out", "<p>It does.</p>") for n, at in posts]
    return {"items": questions, "has_more": False, "quota_max": 300, "quota_remaining": 297}


def github_page(recordings: Path, posts: Posts) -> dict[str, Any]:
    answer = json.loads(github_search(recordings))
    answer["items"] = [{**answer["items"][0], "id": n, "created_at": iso(at)} for n, at in posts]
    return {**answer, "total_count": len(posts)}


# One row per source: how to configure it against the local server, where it reads, what it was told.


@dataclass(frozen=True)
class Case:
    kind: str
    path: str
    source: Callable[[str], Any]
    recorded: Callable[[Path], bytes]
    """The recorded answer, read from the recordings folder it is given."""
    records: Callable[[Any], list[dict[str, Any]]]
    """Where the recorded answer keeps its items, so tests can spoil them."""
    keyword: str
    count: int
    page: Callable[[Path, Posts], Any] | None = None
    """Made-up posts in the recorded answer's shape, for sources that search the newest from a time cursor."""
    reads: int = 100
    """How many new posts one poll reads at most."""

    def __str__(self) -> str:
        return self.kind


CASES = [
    Case("reddit", "/search.json", lambda url: RedditSource(kind="reddit", query="praw oauth search", base_url=url),
         reddit_search, lambda doc: [child["data"] for child in doc["data"]["children"]], "praw", 6, reddit_page),
    Case("hackernews", "/api/v1/search_by_date",
         lambda url: HackerNewsSource(kind="hackernews", query="apple", base_url=url + "api/v1/"),
         hackernews_search, lambda doc: doc["hits"], "apple", 2, hackernews_page),
    Case("mastodon", "/api/v1/timelines/tag/hoot",
         lambda url: MastodonSource(kind="mastodon", tag="hoot", base_url=url),
         mastodon_tag, lambda doc: doc, "hoot", 1),
    Case("bluesky", "/xrpc/app.bsky.feed.searchPosts",
         lambda url: BlueskySource(kind="bluesky", query="redistricting", base_url=url + "xrpc/"),
         bluesky_search, lambda doc: doc["posts"], "redistricting", 25, bluesky_page, reads=300),
    Case("stackexchange", "/2.3/search/advanced",
         lambda url: StackExchangeSource(kind="stackexchange", query="acme widget", base_url=url + "2.3/"),
         lambda _recordings: stackexchange_search(), lambda doc: doc["items"], "widget", 3,
         lambda _recordings, posts: stackexchange_page(posts)),
    Case("github", "/search/issues", lambda url: GitHubSource(kind="github", query="sesame", base_url=url),
         github_search, lambda doc: doc["items"], "sesame", 2, github_page),
    Case("appstore", f"/us/rss/customerreviews/page=1/id={APP_ID}/sortby=mostrecent/json",
         lambda url: AppStoreSource(kind="appstore", app_id=APP_ID, base_url=url),
         appstore_reviews, lambda doc: doc["feed"]["entry"], "photos", 4),
    Case("discourse", "/posts.json", lambda url: DiscourseSource(kind="discourse", base_url=url),
         discourse_posts, lambda doc: doc["latest_posts"], "sync", 3),
]  # fmt: skip
SEARCHED = [case for case in CASES if case.page]


def by_id(fetched: Fetched) -> dict[str, Any]:
    return {item.external_id: item for item in fetched.items}


# Every source alike.


@pytest.mark.parametrize("case", CASES, ids=str)
def test_recorded_answer_becomes_items_and_a_second_poll_reads_no_other(case, api, http, recordings):
    api.answer(case.path, case.recorded(recordings))
    source = case.source(api.url())
    first = fetch(source, http, PollState())
    assert len(first.items) == case.count
    assert len(by_id(first)) == case.count
    for item in first.items:
        assert item.text and item.url and item.url.startswith(("https://", "http://")) and item.author
        assert item.published_at is not None and item.published_at.utcoffset() == timedelta(0)
    assert first.cursor
    second = fetch(source, http, PollState(cursor=json.loads(json.dumps(first.cursor))))  # as stored
    assert set(by_id(second)) <= set(by_id(first))  # the overlap, read again
    assert second.cursor == first.cursor


@pytest.mark.parametrize("case", SEARCHED, ids=str)
def test_a_full_page_that_stops_short_of_the_cursor_is_reported(case, api, http, recordings):
    source, at = case.source(api.url()), datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    api.answer(case.path, case.page(recordings, [(1, at)]))
    cursor = fetch(source, http, PollState()).cursor
    newer = [(n, at + timedelta(seconds=n)) for n in range(101, 1, -1)]
    api.answer(case.path, case.page(recordings, newer))
    fetched, first = fetch(source, http, PollState(cursor=cursor)), fetch(source, http, PollState())
    assert fetched.problem == f"more than {case.reads} new items since the last poll; the oldest were not read"
    assert fetched.cursor == first.cursor  # the newest is heard all the same
    assert first.problem is None  # a first poll never meant to read everything
    api.answer(case.path, case.page(recordings, newer[1:] + [(1, at)]))
    assert fetch(source, http, PollState(cursor=cursor)).problem is None


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
def test_a_huge_or_a_slow_answer_is_reported_in_source_health(case, api, http, sqlite_engine, monkeypatch, recordings):
    source, now = case.source(api.url()), utcnow()
    monkeypatch.setattr(source_http, "MAX_BODY_BYTES", 4096)
    api.answer(case.path, json.dumps({"padding": "x" * 10_000}))
    report = poll(sqlite_engine, http, listener(case.keyword), source, now=now)
    assert report.error and report.error.startswith("sent more than")
    monkeypatch.setattr(source_http, "TIMEOUT", httpx.Timeout(0.05))
    api.answer(case.path, case.recorded(recordings), delay=0.5)
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


def spoiled_answers(case: Case, recordings: Path) -> Iterator[tuple[str, bytes]]:
    """The recorded answer with one field of its first item (or of an object inside it) removed or wrong.

    Every field is removed once and given three bad values, taken in turn from BAD_VALUES so that
    each meets every fourth field or so: all eleven on every field took three times as long."""
    original = _first_two(json.loads(case.recorded(recordings)))
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
def test_a_spoiled_item_is_skipped_or_refused_never_a_crash(case, recordings):
    """Through httpx's mock transport, for speed: eighty to three hundred variants per source."""
    answers: dict[str, bytes] = {}
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=answers["now"], headers={"Content-Type": "application/json"})
    )
    with httpx.Client(transport=transport) as client:
        source = case.source("https://api.example.com/")
        tried = 0
        for label, body in spoiled_answers(case, recordings):
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


def iso_in(seconds: float) -> str:
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
    times = {"epoch+300": _epoch(300), "epoch-60": _epoch(-60), "iso+300": iso_in(300)}  # when the test runs
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
def test_poll_stores_the_matching_mentions_once(case, api, http, sqlite_engine, recordings):
    api.answer(case.path, case.recorded(recordings))
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
    assert (second.error, second.new) == (None, 0)  # what the overlap read again is stored once
    with read_scope(sqlite_engine) as session:
        assert len(session.exec(select(Mention)).all()) == len(mentions)
    assert len(api.requests_to(case.path)) == 2


@pytest.mark.parametrize("case", SEARCHED, ids=str)
def test_a_post_indexed_late_is_heard_on_the_next_poll(case, api, http, sqlite_engine, recordings):
    """Search indexes lag: a post may turn up after a newer one was heard. Within the overlap it is stored."""
    source, at, now = case.source(api.url()), datetime(2026, 1, 5, 12, 0, tzinfo=UTC), utcnow()
    api.answer(case.path, case.page(recordings, [(1, at)]))
    assert poll(sqlite_engine, http, listener(case.keyword), source, now=now).new == 1
    late, older = at - OVERLAP + timedelta(minutes=1), at - OVERLAP - timedelta(minutes=1)
    api.answer(
        case.path, case.page(recordings, [(1, at), (2, late), (3, older)])
    )  # `older`, as if the API ignored `since`
    second = poll(sqlite_engine, http, listener(case.keyword), source, now=now + timedelta(minutes=5))
    assert (second.error, second.new) == (None, 1)
    with read_scope(sqlite_engine) as session:
        assert sorted(m.published_at for m in session.exec(select(Mention))) == [late, at]


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


@pytest.mark.postgres
def test_two_workers_polling_a_new_source_at_once_share_one_state_row(api, http, postgres_engine, recordings):
    """Both find no state for the source, both fetch, both store: the second must not trip on the first's row.
    (Nothing matches, so no mention insert makes one wait for the other.)"""
    case = CASES[0]
    api.answer(case.path, case.recorded(recordings))
    source, now = case.source(api.url()), utcnow()
    start = threading.Barrier(2)

    def worker() -> PollReport:
        start.wait()
        return poll(postgres_engine, http, listener("unheard-of-brand"), source, now=now)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda _: worker(), range(2)))
    assert [report.error for report in reports] == [None, None]
    assert source_state(postgres_engine, source).cursor
