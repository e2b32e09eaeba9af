"""Feeds: every recorded document parses or fails cleanly, and nothing in it reaches Slack unescaped."""

import hashlib
import json
import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from bot.app.standin.serving import serve_in_thread
from bot.ground.config import Config, Sentiment
from bot.ground.config_sources import RssSource
from bot.ground.db import read_scope, session_scope
from bot.ground.models import Escalation, Mention
from bot.hear.batches import record
from bot.hear.health import source_health
from bot.hear.polling import Listener, poll
from bot.hear.recording import Heard
from bot.hear.routing import Router
from bot.hear.sources import Fetched, PollState, SourceError, rss
from bot.hear.sources import http as source_http
from bot.hear.sources.rss import parse_feed
from bot.hear.triage import triage
from bot.slack import kit
from bot.slack.answers import queue_blocks
from bot.slack.cards import card_fallback, mention_card, team_alert
from tests.feedserver import Entry
from tests.feedserver import rss as feed_rss

# The only markup the bot itself writes; anything else with < or > came from a feed unescaped.
_BOT_SYNTAX = re.compile(
    r"<@[UW][A-Z0-9_]+>"
    r"|<!date\^\d+\^[^<>|]*\|[^<>|]*>"
    r"|<!subteam\^S[A-Z0-9]+>"
    r"|<#C[A-Z0-9]+>"
    r"|<https?://[^\s<>|]+\|[^<>]*>"
)
_BROADCASTS = ("<!channel>", "<!here>", "<!everyone>")
_BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def markup_problem(text: str) -> str | None:
    """What in `text` could render as markup the bot did not write, or None when it is safe."""
    for broadcast in _BROADCASTS:
        if broadcast in text:
            return f"contains {broadcast}"
    rest = _BOT_SYNTAX.sub("", text)
    if "<" in rest or ">" in rest:
        return f"raw angle bracket in {rest[:200]!r}"
    if _BARE_AMPERSAND.search(rest):
        return f"bare & in {rest[:200]!r}"
    return None


def _texts(node: object):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


def limit_problems(blocks: list[dict]) -> list[str]:
    problems = []
    if not 1 <= len(blocks) <= kit.MAX_MESSAGE_BLOCKS:
        problems.append(f"{len(blocks)} blocks")
    for block in blocks:
        if block["type"] == "section" and not 1 <= len(block["text"]["text"]) <= kit.SECTION_TEXT:
            problems.append(f"section text of {len(block['text']['text'])} characters")
        if block["type"] == "context":
            if not 1 <= len(block["elements"]) <= kit.CONTEXT_ELEMENTS:
                problems.append(f"context with {len(block['elements'])} elements")
            problems += [
                f"context text of {len(e['text'])}"
                for e in block["elements"]
                if not 1 <= len(e["text"]) <= kit.CONTEXT_TEXT
            ]
        if block["type"] == "actions":
            for element in block["elements"]:
                labels = (  # a button, a menu, or an overflow menu's options
                    [option["text"]["text"] for option in element["options"]]
                    if element["type"] == "overflow"
                    else [(element.get("text") or element["placeholder"])["text"]]
                )
                problems += [f"button text {label!r}" for label in labels if not 1 <= len(label) <= kit.BUTTON_TEXT]
                if len(element.get("value", "")) > kit.BUTTON_VALUE:
                    problems.append(f"button value of {len(element['value'])} characters")
                problems += [
                    f"option {option['value']!r}"
                    for option in element.get("options", [])
                    if len(option["value"]) > kit.OPTION_VALUE
                    or not 1 <= len(option["text"]["text"]) <= kit.OPTION_TEXT
                ]
    return problems


def rendering_problems(item) -> list[str]:
    """Everything wrong with the card, its fallback and a team alert built from one feed item."""
    mention = Mention(
        id=1,
        source="corpus-feed",
        source_kind="rss",
        external_id=item.external_id,
        url=item.url,
        author=item.author,
        title=item.title,
        text=item.text,
        published_at=item.published_at,
        polarity=0.0,
        sentiment="neutral",
        channel="C0LISTEN",
    )
    escalation = Escalation(
        id=7,
        mention_id=1,
        event_id=1,
        team="support",
        channel="C0SUPPORT",
        usergroup="S0SUPPORT",
        reason=item.title or item.text,
        escalated_by="U_ANA",
        escalated_at=datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
    )
    problems = []
    for name, blocks in (("card", mention_card(mention, [])), ("alert", team_alert(mention, escalation))):
        problems += [f"{name}: {p}" for p in limit_problems(blocks)]
        problems += [f"{name}: {p}" for text in _texts(blocks) if (p := markup_problem(text))]
    fallback = card_fallback(mention)
    if len(fallback) > kit.FALLBACK_TEXT:
        problems.append(f"fallback of {len(fallback)} characters")
    if problem := markup_problem(fallback):
        problems.append(f"fallback: {problem}")
    return problems


def corpus_files(feeds: Path) -> list[Path]:
    return sorted(
        path for path in feeds.rglob("*") if path.is_file() and not path.name.startswith(("LICENSE", "README"))
    )


def test_every_recorded_feed_parses_cleanly_and_renders_safe_cards(shared_data):
    feeds = shared_data / "feeds"
    files = corpus_files(feeds)
    assert len(files) > 2000, f"the feed corpus is missing from {feeds}"
    failures, rendered, refused = [], 0, 0
    for path in files:
        name = path.relative_to(feeds)
        try:
            fetched = parse_feed(path.read_bytes())
        except SourceError:
            refused += 1
            continue
        except Exception as error:  # the contract is Fetched or SourceError, nothing else
            failures.append(f"{name}: parse_feed raised {type(error).__name__}: {error}")
            continue
        assert isinstance(fetched, Fetched)
        for item in fetched.items:
            rendered += 1
            failures += [f"{name} [{item.external_id[:60]}]: {p}" for p in rendering_problems(item)]
    summary = f"{len(files)} files checked ({refused} refused as SourceError), {rendered} items rendered"
    assert not failures, f"{summary}; {len(failures)} failures:\n" + "\n".join(failures[:30])
    assert rendered > 500, summary


def test_rss_items_carry_guid_author_utc_date_and_plain_text():
    feed = (
        b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Acme status</title>
<link>https://status.example.com/</link><description>x</description>
<item><guid isPermaLink="false">post-1</guid><title>Deploys &lt;b&gt;failing&lt;/b&gt;</title>
<link>https://status.example.com/1</link><dc:creator>Dana Customer</dc:creator>
<pubDate>Tue, 10 Jun 2025 04:00:00 +0200</pubDate>
<description>&lt;p&gt;My deploys &lt;b&gt;fail&lt;/b&gt; since &amp;amp; noon&lt;/p&gt;"""
        b"""&lt;p&gt;Help&lt;/p&gt;</description></item>
<item><title>No guid</title><link>https://status.example.com/2</link><description>Only a link</description></item>
<item><title>Nothing but words</title><description>No guid, no link</description></item>
</channel></rss>"""
    )
    first, linked, bare = parse_feed(feed).items
    assert first.external_id == "post-1"
    assert first.title == "Deploys failing"
    assert first.text == "My deploys fail since & noon\n\nHelp"
    assert first.url == "https://status.example.com/1"
    assert first.author == "Dana Customer"
    assert first.published_at == datetime(2025, 6, 10, 2, 0, tzinfo=UTC)
    assert first.published_at.utcoffset().total_seconds() == 0
    assert linked.external_id == "https://status.example.com/2"
    assert linked.author is None and linked.published_at is None
    digest = hashlib.sha256(b"Nothing but words\nNo guid, no link").hexdigest()
    assert bare.external_id == f"sha256:{digest}"
    assert parse_feed(feed).items[2].external_id == bare.external_id, "a re-read item keeps its id"


def test_atom_entry_keeps_its_id_author_and_drops_scripts():
    feed = (
        b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Acme forum</title><id>urn:x</id>"""
        b"""<updated>2025-06-10T04:00:00+02:00</updated>
<entry><id>tag:forum.example.com,2025:42</id><title type="html">Acme &amp;lt;3</title>
<link href="https://forum.example.com/t/42"/><author><name>Eve Poster</name></author>
<updated>2025-06-10T04:00:00+02:00</updated>
<content type="html">&lt;p&gt;Hello &lt;script&gt;alert(1)&lt;/script&gt;"""
        b"""&lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</content></entry></feed>"""
    )
    [entry] = parse_feed(feed).items
    assert entry.external_id == "tag:forum.example.com,2025:42"
    assert entry.title == "Acme <3"
    assert entry.text == "Hello world"
    assert entry.url == "https://forum.example.com/t/42"
    assert entry.author == "Eve Poster"
    assert entry.published_at == datetime(2025, 6, 10, 2, 0, tzinfo=UTC)


def _json_feed(*items: dict, **top: object) -> bytes:
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "Acme", "items": list(items), **top}
    ).encode()


def test_json_feed_items_with_authors_dates_and_html():
    body = _json_feed(
        {
            "id": "j1",
            "url": "https://blog.example.com/1",
            "title": "Acme <em>rocks</em>",
            "content_html": "<p>Fast &amp; <b>cheap</b></p>",
            "authors": [{"name": "Ana"}, {"name": "Ben"}],
            "date_published": "2025-06-10T04:00:00+02:00",
        },
        {
            "url": "https://blog.example.com/2",
            "content_text": "  plain   text wins ",
            "content_html": "<p>not this</p>",
        },
        {"content_text": "no id, no url"},
        authors=[{"name": "The Acme blog"}],
    )
    first, second, third = parse_feed(body).items
    assert (first.external_id, first.url, first.author) == ("j1", "https://blog.example.com/1", "Ana, Ben")
    assert first.text == "Fast & cheap"
    assert first.published_at == datetime(2025, 6, 10, 2, 0, tzinfo=UTC)
    assert second.external_id == "https://blog.example.com/2"
    assert second.text == "plain text wins"
    assert second.author == "The Acme blog", "the feed's author stands in for the item's"
    assert third.external_id == "sha256:" + hashlib.sha256(b"None\nno id, no url").hexdigest()


def test_json_feed_with_rfc_822_dates_parses():
    body = _json_feed(
        {"id": "a", "content_text": "offset", "date_published": "Tue, 10 Jun 2025 04:00:00 +0200"},
        {"id": "b", "content_text": "gmt", "date_modified": "Tue, 10 Jun 2025 04:00:00 GMT"},
        {"id": "c", "content_text": "nonsense", "date_published": "last Tuesday"},
    )
    offset, gmt, nonsense = parse_feed(body).items
    assert offset.published_at == datetime(2025, 6, 10, 2, 0, tzinfo=UTC)
    assert gmt.published_at == datetime(2025, 6, 10, 4, 0, tzinfo=UTC)
    assert nonsense.published_at is None


@pytest.mark.parametrize(
    "body", [b'{"hello": "world"}', b'{"items": "nope"}', b"{broken", b"\x00\x01garbage", b"[1, 2]"]
)
def test_a_body_that_is_not_a_feed_raises_source_error(body):
    with pytest.raises(SourceError):
        parse_feed(body)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            _json_feed({"id": "1", "content_html": "<p><![sic[ Acme is down ]]></p>"}), id="json-marked-section"
        ),
        pytest.param(
            b'<rss version="2.0"><channel><title>t</title><item><guid>1</guid><title>Acme &lt;![0 broken</title>'
            b"<description><![CDATA[<p>Acme <![0 broken</p>]]></description></item></channel></rss>",
            id="rss-marked-section",
        ),
        pytest.param(_json_feed({"id": "1", "title": "t", "authors": 7}), id="authors-not-a-list"),
        pytest.param(_json_feed({"id": "1", "title": "t"}, authors=7), id="feed-authors-not-a-list"),
        pytest.param(
            _json_feed({"id": "1", "title": "t", "date_published": "0001-01-01T00:00:00+01:00"}),
            id="date-before-year-1-utc",
        ),
    ],
)
def test_an_odd_feed_gives_items_or_a_source_error(body):
    """A feed we poll is written by strangers; whatever it holds must not crash the poll."""
    try:
        fetched = parse_feed(body)
    except SourceError:
        return
    assert all(not rendering_problems(item) for item in fetched.items)


def test_a_long_url_full_of_spaces_still_renders_a_safe_card():
    """link() limits the URL before percent-encoding it, which can triple its length."""
    url = "https://forum.example.com/t/" + " " * 1400
    [item] = parse_feed(
        _json_feed({"id": "1", "url": url, "title": "Acme is down", "content_text": "help " * 700})
    ).items
    [no_title] = parse_feed(_json_feed({"id": "2", "url": url, "content_text": "Acme is down"})).items
    assert rendering_problems(item) == []
    assert rendering_problems(no_title) == []


def _long_mention(number: int) -> Mention:
    url = f"https://forum.example.com/t/{number}/"
    return Mention(
        id=number,
        source="forum.example.com",
        source_kind="rss",
        external_id=str(number),
        url=url + "x" * (kit.MAX_LINKED_URL - len(url)),
        title="Acme is down " * 115,
        text="help",
        polarity=-0.5,
        sentiment="negative",
        channel="C0LISTEN",
        card_channel="C0LISTEN",
        heard_at=datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
    )


def test_a_full_queue_of_long_links_keeps_every_line_whole():
    """A section holds 3,000 characters: several 1,500-character links in one would be cut mid-link."""
    mine, unclaimed = [_long_mention(n) for n in range(1, 16)], [_long_mention(n) for n in range(16, 31)]
    blocks = queue_blocks(mine=mine, unclaimed=unclaimed, mine_total=20, unclaimed_total=15)
    assert limit_problems(blocks) == []
    texts = list(_texts(blocks))
    assert [problem for text in texts if (problem := markup_problem(text))] == []
    assert sum(text.count(f"|{'Acme is down ' * 3}") for text in texts) == 30, "every link is whole"
    assert [text for text in texts if "more" in text] == ["…and 5 more"]
    assert texts.index("*Yours, open (20)*") < texts.index("*Unclaimed (15)*")
    assert "M-15" in texts[texts.index("*Unclaimed (15)*") - 2] and "M-30" in texts[-1]


def test_a_queue_never_exceeds_a_messages_blocks():
    many = [_long_mention(n) for n in range(1, 31)]
    blocks = queue_blocks(mine=many, unclaimed=many, mine_total=30, unclaimed_total=30)
    assert len(blocks) == kit.MAX_MESSAGE_BLOCKS
    assert [text for text in _texts(blocks) if "more" in text] == ["…and 7 more", "…and 7 more"]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that stops reading a huge body is expected here


@pytest.fixture
def feed_server():
    """A real HTTP server on loopback: `routes[path] = handler(request_headers) -> (status, headers, body)`;
    a body given as an iterator of chunks is sent chunk by chunk, as it is produced."""
    routes, seen = {}, []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, dict(self.headers)))
            status, headers, body = routes[self.path](self.headers)
            self.send_response(status)
            length = {"Content-Length": str(len(body))} if isinstance(body, bytes) else {}
            for name, value in {**length, **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            for chunk in [body] if isinstance(body, bytes) else body:
                self.wfile.write(chunk)

        def log_message(self, *args):
            pass

    server = _QuietServer(("127.0.0.1", 0), Handler)
    serve_in_thread(server, "feed-site")
    base = f"http://127.0.0.1:{server.server_address[1]}"
    # trust_env=False: a proxy set in the environment must not intercept loopback.
    with httpx.Client(trust_env=False) as client:
        yield base, routes, seen, client
    server.shutdown()
    server.server_close()


SMALL_RSS = (
    b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://e.com/</link>
<description>d</description><item><guid>g1</guid><title>Acme is great</title>"""
    b"""<description>Really</description></item></channel></rss>"""
)


def fetch_feed(client, url, *, etag=None, last_modified=None):
    return rss.fetch(RssSource(kind="rss", url=url), client, PollState(etag=etag, last_modified=last_modified))


def test_fetch_feed_sends_validators_and_understands_not_modified(feed_server):
    base, routes, seen, client = feed_server
    validators = {"ETag": '"v1"', "Last-Modified": "Tue, 10 Jun 2025 02:00:00 GMT"}

    def feed(headers):
        if headers.get("If-None-Match") == '"v1"':
            return 304, {}, b""
        return 200, {"Content-Type": "application/rss+xml", **validators}, SMALL_RSS

    routes["/feed.xml"] = feed
    first = fetch_feed(client, f"{base}/feed.xml")
    assert [item.external_id for item in first.items] == ["g1"]
    assert (first.etag, first.last_modified, first.not_modified) == ('"v1"', validators["Last-Modified"], False)
    assert "If-None-Match" not in seen[0][1]
    assert seen[0][1]["User-Agent"].startswith("allears/")

    second = fetch_feed(client, f"{base}/feed.xml", etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.items == []
    assert (second.etag, second.last_modified) == (first.etag, first.last_modified), "validators are kept"
    assert seen[1][1]["If-None-Match"] == '"v1"'
    assert seen[1][1]["If-Modified-Since"] == validators["Last-Modified"]


def test_a_feed_that_did_not_change_keeps_its_health_figures(feed_server, sqlite_engine):
    """`/allears sources` says how many items the last poll read; a 304 read none but changed nothing."""
    base, routes, _, client = feed_server
    routes["/feed.xml"] = lambda headers: (
        (304, {}, b"") if headers.get("If-None-Match") == '"v1"' else (200, {"ETag": '"v1"'}, SMALL_RSS)
    )
    source = RssSource(kind="rss", url=f"{base}/feed.xml")
    listener = Listener(Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0L"}}))
    assert poll(sqlite_engine, client, listener, source, force=True).new == 1
    assert poll(sqlite_engine, client, listener, source, force=True).fetched == 0
    with read_scope(sqlite_engine) as session:
        [health] = source_health(session, [source])
    assert (health.items_seen, health.mentions, health.failing) == (1, 1, False)


def test_fetch_feed_reports_a_server_error(feed_server):
    base, routes, _, client = feed_server
    routes["/feed.xml"] = lambda headers: (500, {}, b"oops")
    with pytest.raises(SourceError, match="HTTP 500"):
        fetch_feed(client, f"{base}/feed.xml")


def test_fetch_feed_refuses_a_body_over_the_limit(feed_server, monkeypatch):
    base, routes, _, client = feed_server
    monkeypatch.setattr(source_http, "MAX_BODY_BYTES", 64 * 1024)
    routes["/huge.xml?token=SECRET"] = lambda headers: (
        200,
        {"Content-Type": "application/rss+xml"},
        SMALL_RSS + b" " * (128 * 1024),
    )
    with pytest.raises(SourceError, match="sent more than") as error:
        fetch_feed(client, f"{base}/huge.xml?token=SECRET")
    assert "SECRET" not in str(error.value)


def _drip() -> Iterator[bytes]:
    """A feed that never stalls long enough for httpx's per-read timeout to notice."""
    yield SMALL_RSS[:1]
    for _ in range(300):
        time.sleep(0.2)
        yield b" "


def test_fetch_feed_gives_up_on_a_feed_that_drips_slowly(feed_server, monkeypatch):
    base, routes, _, client = feed_server
    monkeypatch.setattr(source_http, "MAX_FETCH_SECONDS", 1)
    routes["/slow.xml?token=SECRET"] = lambda headers: (200, {"Content-Type": "application/rss+xml"}, _drip())
    started = time.monotonic()
    with pytest.raises(SourceError) as error:
        fetch_feed(client, f"{base}/slow.xml?token=SECRET")
    assert time.monotonic() - started < 2
    assert str(error.value) == "took longer than 1 s; gave up"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens on it once the probe closes


def test_fetch_feed_reports_a_refused_connection():
    with httpx.Client(trust_env=False) as client, pytest.raises(SourceError, match="ConnectError"):
        fetch_feed(client, f"http://127.0.0.1:{_closed_port()}/feed.xml")


def test_no_source_error_names_the_feed_url(feed_server):
    """Errors are logged and stored, and a feed URL can carry a secret token."""
    base, routes, _, client = feed_server

    def message(status: int | None) -> str:
        routes["/feed.xml?token=SECRET"] = lambda headers: (status, {}, b"no")
        host = base if status else f"http://127.0.0.1:{_closed_port()}"
        with pytest.raises(SourceError) as error:
            fetch_feed(client, f"{host}/feed.xml?token=SECRET")
        return str(error.value)

    messages = [message(404), message(500), message(None)]
    assert messages[:2] == ["answered HTTP 404", "answered HTTP 500"]
    assert messages[2].startswith("ConnectError: ")
    assert [m for m in messages if "SECRET" in m or "127.0.0.1" in m] == []


def test_every_recorded_feed_item_is_scored_routed_and_stored(engine, shared_data):
    """Ingestion past parsing: sentiment, routing and the database take whatever a feed contains."""
    config = Config.model_validate(
        {
            "listen": {"keywords": ["unused"]},
            "channels": {"default": "C0LISTEN"},
            "routes": [{"sentiment": "negative", "channel": "C0URGENT"}],
        }
    )
    router, stored = Router(config), 0
    for path in corpus_files(shared_data / "feeds"):
        try:
            items = parse_feed(path.read_bytes()).items
        except SourceError:
            continue
        with session_scope(engine) as session:
            for item in items:
                triaged = triage(f"{item.title}\n{item.text}", author_reach=item.author_reach)
                channel = router.channel_for(source=path.name, source_kind="rss", triaged=triaged, text=item.text)
                heard = Heard(item, path.name, "rss", triaged.polarity, triaged.sentiment, channel)
                stored += record(session, heard) is not None
    assert stored > 500


def test_control_characters_in_a_json_feed_never_reach_the_database(engine):
    feed = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "items": [
                {
                    "id": "nul\u0000id",
                    "url": "https://example.com/\u0000x",
                    "title": "Acme\u0000 down",
                    "content_text": "still\u0007 down",
                }
            ],
        }
    ).encode()
    [item] = parse_feed(feed).items
    assert (item.external_id, item.url, item.title, item.text) == (
        "nulid",
        "https://example.com/x",
        "Acme down",
        "still down",
    )
    with session_scope(engine) as session:
        assert record(session, Heard(item, "json", "rss", 0.0, Sentiment.NEUTRAL, "C0LISTEN")) is not None


def test_a_long_feed_that_lists_oldest_first_still_gives_its_newest_posts():
    """A forum's feed of 250 posts, oldest at the top: a poll reads 200, and they must be the newest,
    or the posts written after the first 200 would never be heard."""
    posts = [
        Entry(
            f"post-{n}",
            f"Acme post {n}",
            "about acme",
            f"https://forum.example/{n}",
            published=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n),
        )
        for n in range(1, 251)
    ]
    heard = {item.external_id for item in parse_feed(feed_rss(posts)).items}
    assert heard == {f"post-{n}" for n in range(51, 251)}
    newest_first = {item.external_id for item in parse_feed(feed_rss(posts[::-1])).items}
    assert newest_first == heard


def test_an_undated_long_feed_is_read_from_its_top():
    posts = [Entry(f"post-{n}", f"Acme post {n}", "about acme", f"https://forum.example/{n}") for n in range(1, 251)]
    assert [item.external_id for item in parse_feed(feed_rss(posts)).items] == [f"post-{n}" for n in range(1, 201)]
