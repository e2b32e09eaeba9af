"""What each API source does its own way, against the local server: Reddit's quota headers, Hacker News'
filters, Mastodon's two reads, Bluesky's pages and sign-in, Stack Exchange's wrapper and quota, GitHub's 403s."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.ground.config_sources import (
    BlueskySource,
    GitHubSource,
    HackerNewsSource,
    MastodonSource,
    RedditSource,
    StackExchangeSource,
)
from bot.hear.sources import PollState, RateLimited, SourceError, bluesky, stackexchange
from bot.hear.sources.registry import fetch
from tests.test_sources import (
    SE_QUESTIONS,
    bluesky_page,
    bluesky_search,
    by_id,
    github_search,
    hackernews_search,
    iso_in,
    mastodon_search,
    mastodon_tag,
    minutes_back,
    reddit_search,
    stackexchange_search,
)

# Reddit.


def test_reddit_items_and_request(api, http, recordings):
    api.answer("/search.json", reddit_search(recordings))
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


def test_reddit_link_post_shares_the_page_it_links(api, http, recordings):
    listing = json.loads(reddit_search(recordings))
    listing["data"]["children"][0]["data"].update(is_self=False, url="https://example.com/acme-outage?utm_source=x")
    api.answer("/search.json", listing)
    fetched = fetch(RedditSource(kind="reddit", query="praw", base_url=api.url()), http, PollState())
    assert by_id(fetched)["t3_3gpbiu"].shared_url == "https://example.com/acme-outage?utm_source=x"
    assert by_id(fetched)["t3_3x4kt2"].shared_url is None  # a self post is the thread itself


def test_reddit_subreddit_search_is_restricted_to_it(api, http, recordings):
    api.answer("/r/redditdev/search.json", reddit_search(recordings))
    source = RedditSource(kind="reddit", query="praw", subreddit="redditdev", base_url=api.url())
    assert len(fetch(source, http, PollState()).items) == 6
    assert api.requests[0].query["restrict_sr"] == "1"


@pytest.mark.parametrize(("remaining", "wait"), [("0", 42.0), ("0.0", 42.0), ("598.0", None)])
def test_reddit_honours_a_spent_quota_even_on_success(api, http, remaining, wait, recordings):
    headers = {"x-ratelimit-remaining": remaining, "x-ratelimit-reset": "42", "x-ratelimit-used": "600"}
    api.answer("/search.json", reddit_search(recordings), headers=headers)
    fetched = fetch(RedditSource(kind="reddit", query="praw", base_url=api.url()), http, PollState())
    assert len(fetched.items) == 6 and fetched.wait == wait


# Hacker News.


def test_hackernews_items_and_request(api, http, recordings):
    api.answer("/api/v1/search_by_date", hackernews_search(recordings))
    source = HackerNewsSource(kind="hackernews", query="apple", base_url=api.url() + "api/v1/")
    fetched = fetch(source, http, PollState())
    story, comment = by_id(fetched)["7919424"], by_id(fetched)["7919418"]
    assert story.title == story.text == "Judge says concerned about Apple, Google hiring settlement"
    assert story.shared_url == "http://in.reuters.com/article/2014/06/19/apple-google-settlement-idINL2N0P01ZI20140619"
    assert comment.title == "Re: Starbucks admits it's not contributing to scholarship fund"
    assert comment.text.startswith("Yeah the article seems stupid, while technically they aren't contributing")
    assert (comment.url, comment.author) == ("https://news.ycombinator.com/item?id=7919418", "fleitz")
    assert comment.published_at == datetime(2014, 6, 20, 3, 32, 34, tzinfo=UTC)
    assert fetched.cursor == {"created_at_i": 1403235346}
    assert api.requests[0].query == {"query": "apple", "tags": "(story,comment)", "hitsPerPage": "100"}

    fetch(source, http, PollState(cursor=fetched.cursor))
    assert api.requests[1].query["numericFilters"] == "created_at_i>1403234746"  # the overlap before


# Mastodon.


def mastodon_status(recordings: Path, **changes: Any) -> dict[str, Any]:
    (status,) = json.loads(mastodon_tag(recordings))
    return {**status, **changes}


def test_mastodon_tag_timeline_items_and_request(api, http, monkeypatch, recordings):
    monkeypatch.setenv("MASTODON_TOKEN", "secret-token")
    api.answer("/api/v1/timelines/tag/hoot", mastodon_tag(recordings))
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


def test_mastodon_search_reads_statuses_with_its_own_cursor(api, http, recordings):
    api.answer("/api/v2/search", mastodon_search(recordings))
    source = MastodonSource(kind="mastodon", query="acme widget", base_url=api.url())
    empty = fetch(source, http, PollState(cursor={"tag": "5"}))
    assert empty.items == [] and empty.cursor == {"tag": "5"}
    assert api.requests[0].query == {"q": "acme widget", "type": "statuses", "limit": "40"}
    assert "authorization" not in api.requests[0].headers

    recorded = json.loads(mastodon_search(recordings))
    newer = mastodon_status(
        recordings, id="117020593741189702", spoiler_text="acme outage", content="<p>Down again &amp; no reply</p>"
    )
    api.answer("/api/v2/search", {**recorded, "statuses": [newer, mastodon_status(recordings)]})
    fetched = fetch(source, http, PollState(cursor={"search": "117020593741189701"}))
    assert sorted(by_id(fetched)) == ["117020593741189701", "117020593741189702"]  # the first, read again
    assert (fetched.items[0].title, fetched.items[0].text) == ("acme outage", "Down again & no reply")
    assert fetched.cursor == {"search": "117020593741189702"} and fetched.problem is None
    # Ids are milliseconds shifted 16 bits: the search is asked for what was created from ten minutes before.
    assert api.requests[1].query["min_id"] == str(117020593741189701 - (600_000 << 16))


def test_mastodon_search_says_when_a_burst_outran_its_page(api, http, recordings):
    """The search answers with the newest 40 after `min_id`: a full page short of the cursor lost the oldest."""
    cursor = {"search": "117020593741189701", "tag": "117020593741189701"}
    burst = [mastodon_status(recordings, id=str(117020593741189701 + n)) for n in range(40, 0, -1)]
    api.answer("/api/v2/search", {"accounts": [], "statuses": burst, "hashtags": []})
    api.answer("/api/v1/timelines/tag/hoot", burst)
    searched = fetch(MastodonSource(kind="mastodon", query="hoot", base_url=api.url()), http, PollState(cursor=cursor))
    assert searched.problem == "more than 40 new items since the last poll; the oldest were not read"
    assert len(searched.items) == 40 and searched.cursor == {**cursor, "search": "117020593741189741"}
    # The tag timeline answers with the 40 right after `min_id`: the rest come with the next poll.
    tagged = fetch(MastodonSource(kind="mastodon", tag="hoot", base_url=api.url()), http, PollState(cursor=cursor))
    assert len(tagged.items) == 40 and tagged.problem is None


def test_mastodon_tag_and_search_together_hear_each_status_once(api, http, recordings):
    api.answer("/api/v1/timelines/tag/hoot", mastodon_tag(recordings))
    api.answer("/api/v2/search", {"accounts": [], "statuses": [mastodon_status(recordings)], "hashtags": []})
    source = MastodonSource(kind="mastodon", tag="hoot", query="hoot", base_url=api.url())
    fetched = fetch(source, http, PollState())
    assert len(fetched.items) == 1
    assert fetched.cursor == {"tag": "117020593741189701", "search": "117020593741189701"}


def test_mastodon_skips_boosts_but_passes_them(api, http, recordings):
    boost = mastodon_status(recordings, id="117020593741189799", content="", reblog=mastodon_status(recordings))
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
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": iso_in(300)}
    api.answer("/api/v1/timelines/tag/hoot", '{"error": "Too many requests"}', status=429, headers=headers)
    with pytest.raises(RateLimited) as raised:
        fetch(MastodonSource(kind="mastodon", tag="hoot", base_url=api.url()), http, PollState())
    assert 295 <= (raised.value.retry_after or 0) <= 300


# Bluesky.


def test_bluesky_items_and_request(api, http, recordings):
    api.answer("/xrpc/app.bsky.feed.searchPosts", bluesky_search(recordings))
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
    assert api.requests[1].query["since"] == "2025-05-19T17:00:09.561858Z"  # the overlap before


def test_bluesky_follows_the_cursor_for_at_most_three_pages(api, http, recordings):
    path, start = "/xrpc/app.bsky.feed.searchPosts", datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    api.answer(path, bluesky_page(recordings, minutes_back(100, start), cursor="100"))
    api.answer(
        path,
        bluesky_page(recordings, minutes_back(100, start - timedelta(hours=2)), cursor="200"),
        when={"cursor": "100"},
    )
    api.answer(
        path,
        bluesky_page(recordings, minutes_back(100, start - timedelta(hours=4)), cursor="300"),
        when={"cursor": "200"},
    )
    source = BlueskySource(kind="bluesky", query="redistricting", base_url=api.url() + "xrpc/")
    fetched = fetch(source, http, PollState(cursor={"sort_at": "2026-01-01T00:00:00Z"}))
    assert len(by_id(fetched)) == 300 and fetched.problem.startswith("more than 300 new items")
    assert [r.query.get("cursor") for r in api.requests] == [None, "100", "200"]
    assert fetched.cursor == {"sort_at": "2026-01-05T12:00:00Z"}


def test_bluesky_first_poll_reads_one_page_only(api, http, recordings):
    path = "/xrpc/app.bsky.feed.searchPosts"
    api.answer(path, bluesky_page(recordings, minutes_back(100, datetime(2026, 1, 5, 12, 0, tzinfo=UTC)), cursor="100"))
    source = BlueskySource(kind="bluesky", query="redistricting", base_url=api.url() + "xrpc/")
    assert len(fetch(source, http, PollState()).items) == 100 and len(api.requests) == 1


def test_bluesky_refused_search_says_so(api, http):
    api.answer("/xrpc/app.bsky.feed.searchPosts", '{"error": "AuthMissing"}', status=403)
    source = BlueskySource(kind="bluesky", query="redistricting", base_url=api.url() + "xrpc/")
    with pytest.raises(SourceError, match="HTTP 403: the AppView refused the search"):
        fetch(source, http, PollState())


def test_bluesky_stops_paging_at_posts_already_seen(api, http, recordings):
    path, start = "/xrpc/app.bsky.feed.searchPosts", datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    api.answer(
        path, bluesky_page(recordings, minutes_back(100, start), cursor="100")
    )  # as if the AppView ignored `since`
    source = BlueskySource(kind="bluesky", query="redistricting", base_url=api.url() + "xrpc/")
    fetched = fetch(source, http, PollState(cursor={"sort_at": "2026-01-05T11:30:00Z"}))
    assert len(fetched.items) == 40 and len(api.requests) == 1  # back to 11:20, the overlap before the cursor


def test_bluesky_keeps_the_first_page_when_a_later_one_fails(api, http, recordings):
    path, start = "/xrpc/app.bsky.feed.searchPosts", datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    api.answer(path, bluesky_page(recordings, minutes_back(100, start), cursor="100"))
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
    bluesky.SESSIONS.clear()
    return BlueskySource(kind="bluesky", query="redistricting", handle="acme.bsky.social",
                         app_password_env="BSKY_APP_PASSWORD", base_url=api.url() + "xrpc/")  # fmt: skip


def test_bluesky_signs_in_once_and_sends_the_token(api, http, signed_in, recordings):
    api.answer(SIGN_IN, bluesky_session("jwt-1"), method="POST")
    api.answer(SEARCH, bluesky_search(recordings), when_headers={"authorization": "Bearer jwt-1"})
    first = fetch(signed_in, http, PollState())
    assert len(first.items) == 25
    fetch(signed_in, http, PollState(cursor=first.cursor))
    (sign_in,) = api.requests_to(SIGN_IN)  # the session serves the next poll too
    assert sign_in.method == "POST"
    assert sign_in.json() == {"identifier": "acme.bsky.social", "password": APP_PASSWORD}
    assert [r.headers["authorization"] for r in api.requests_to(SEARCH)] == ["Bearer jwt-1"] * 2


def test_bluesky_expired_session_is_renewed_once(api, http, signed_in, recordings):
    api.answer(SIGN_IN, bluesky_session("jwt-1"), method="POST")
    api.answer(SEARCH, bluesky_search(recordings), when_headers={"authorization": "Bearer jwt-1"})
    fetch(signed_in, http, PollState())
    expired = {"error": "ExpiredToken", "message": "Token has expired"}
    api.answer(SEARCH, expired, status=400, when_headers={"authorization": "Bearer jwt-1"})
    api.answer(SIGN_IN, bluesky_session("jwt-2"), method="POST")
    api.answer(SEARCH, bluesky_search(recordings), when_headers={"authorization": "Bearer jwt-2"})
    assert len(fetch(signed_in, http, PollState()).items) == 25
    assert [r.headers["authorization"] for r in api.requests_to(SEARCH)] == ["Bearer jwt-1"] * 2 + ["Bearer jwt-2"]
    assert len(api.requests_to(SIGN_IN)) == 2


def test_two_polls_finding_the_session_expired_at_once_sign_in_again_once(api, http, signed_in, recordings):
    """Two sources of the same account poll on two threads; the second waits for the first's sign-in and uses it.
    The sign-in answers slowly, so the second poll is refused while the first is still signing in."""
    api.answer(SIGN_IN, bluesky_session("jwt-1"), method="POST")
    api.answer(SEARCH, bluesky_search(recordings), when_headers={"authorization": "Bearer jwt-1"})
    fetch(signed_in, http, PollState())
    expired = {"error": "ExpiredToken", "message": "Token has expired"}
    api.answer(SEARCH, expired, status=400, when_headers={"authorization": "Bearer jwt-1"})
    api.answer(SIGN_IN, bluesky_session("jwt-2"), method="POST", delay=0.3)
    api.answer(SEARCH, bluesky_search(recordings), when_headers={"authorization": "Bearer jwt-2"})
    start, found = threading.Barrier(2), []

    def poll() -> None:
        start.wait()
        found.append(len(fetch(signed_in, http, PollState()).items))

    polls = [threading.Thread(target=poll) for _ in range(2)]
    for thread in polls:
        thread.start()
    for thread in polls:
        thread.join()

    assert found == [25, 25]
    assert len(api.requests_to(SIGN_IN)) == 2, "one sign-in at first, one renewal for both polls"
    assert [r.headers["authorization"] for r in api.requests_to(SEARCH)][-2:] == ["Bearer jwt-2"] * 2


def test_two_polls_with_no_session_yet_sign_in_once(api, http, signed_in, recordings):
    api.answer(SIGN_IN, bluesky_session("jwt-1"), method="POST", delay=0.3)
    api.answer(SEARCH, bluesky_search(recordings), when_headers={"authorization": "Bearer jwt-1"})
    start = threading.Barrier(2)

    def poll() -> None:
        start.wait()
        fetch(signed_in, http, PollState())

    polls = [threading.Thread(target=poll) for _ in range(2)]
    for thread in polls:
        thread.start()
    for thread in polls:
        thread.join()

    assert len(api.requests_to(SIGN_IN)) == 1
    assert [r.headers["authorization"] for r in api.requests_to(SEARCH)] == ["Bearer jwt-1"] * 2


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
    assert api.requests[1].query == {**expected, "fromdate": "1763970600"}  # the overlap before


def test_stackexchange_without_a_key_polls_every_ten_minutes(monkeypatch):
    """300 keyless requests a day: every 5 minutes would leave 12 for restarts and `allears poll --once`."""
    monkeypatch.setenv("SE_KEY", "key-abc")

    def every(**settings: Any) -> timedelta:
        return StackExchangeSource(kind="stackexchange", query="acme", **settings).every

    assert every() == timedelta(minutes=10)
    assert every(every="5m") == every(key_env="SE_KEY") == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("backoff", "quota_remaining", "wait"), [(10, 297, 10), (None, 10, None), (None, 9, 7200), (9000, 3, 9000)]
)
def test_stackexchange_rests_as_asked_or_until_the_quota_resets(api, http, monkeypatch, backoff, quota_remaining, wait):
    """The daily quota resets at midnight UTC; the last few requests are left for restarts and other users."""
    monkeypatch.setattr(stackexchange, "utcnow", lambda: datetime(2025, 11, 24, 22, 0, tzinfo=UTC))
    answer = {"items": SE_QUESTIONS, "has_more": False, "backoff": backoff, "quota_remaining": quota_remaining}
    api.answer("/2.3/search/advanced", answer)
    source = StackExchangeSource(kind="stackexchange", query="acme widget", base_url=api.url() + "2.3/")
    fetched = fetch(source, http, PollState())
    assert len(fetched.items) == 3 and fetched.wait == wait


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


def test_github_items_and_request(api, http, monkeypatch, recordings):
    monkeypatch.setenv("GH_TOKEN", "ghp_secret")
    api.answer("/search/issues", github_search(recordings))
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
    assert api.requests[1].query["q"].endswith("is:issue created:>=2017-10-10T15:50:00Z")  # the overlap before


def test_github_query_that_names_pull_requests_is_left_alone(api, http, recordings):
    api.answer("/search/issues", github_search(recordings))
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


def test_github_discussions_come_through_graphql_with_their_own_cursor(api, http, monkeypatch):
    monkeypatch.setenv("GH_TOKEN", "ghp_secret")
    api.answer("/search/issues", {"total_count": 0, "incomplete_results": False, "items": []})
    discussion = {
        "id": "D_kwDOA1",
        "url": "https://github.com/acme/app/discussions/7",
        "title": "Acme sync keeps failing",
        "body": "Since the update, sync fails every hour.",
        "createdAt": "2026-11-20T10:00:00Z",
        "author": {"login": "pat"},
    }
    api.answer("/graphql", {"data": {"search": {"nodes": [discussion, {}]}}}, method="POST")
    source = GitHubSource(kind="github", query="acme repo:acme/app", token_env="GH_TOKEN", discussions=True,
                          base_url=api.url())  # fmt: skip
    fetched = fetch(source, http, PollState())
    [item] = fetched.items
    assert (item.external_id, item.title, item.author) == ("D_kwDOA1", "Acme sync keeps failing", "pat")
    assert item.url == "https://github.com/acme/app/discussions/7" and item.reply_to is None
    assert fetched.cursor == {"discussion_created_at": "2026-11-20T10:00:00Z"}
    [graphql] = api.requests_to("/graphql")
    assert graphql.json()["variables"]["q"] == "acme repo:acme/app"
    assert graphql.headers["authorization"] == "Bearer ghp_secret"

    fetch(source, http, PollState(cursor=fetched.cursor))
    assert api.requests_to("/graphql")[1].json()["variables"]["q"].endswith("created:>=2026-11-20T09:50:00Z")


def test_github_discussions_need_a_token_and_graphql_errors_are_reported(api, http, monkeypatch):
    with pytest.raises(ValueError, match="token_env"):
        GitHubSource(kind="github", query="acme", discussions=True)
    monkeypatch.setenv("GH_TOKEN", "ghp_secret")
    api.answer("/search/issues", {"items": []})
    api.answer("/graphql", {"errors": [{"message": "Bad credentials"}]}, method="POST")
    source = GitHubSource(kind="github", query="acme", token_env="GH_TOKEN", discussions=True, base_url=api.url())
    with pytest.raises(SourceError, match="Bad credentials"):
        fetch(source, http, PollState())
