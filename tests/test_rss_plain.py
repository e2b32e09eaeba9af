"""A plain RSS 2.0 feed is read without feedparser's machinery (`bot.hear.sources.rss_plain`); whatever a feed holds,
the values read must be exactly feedparser's, or the document must be left to feedparser."""

import random
import warnings
from xml.sax.saxutils import escape

import feedparser
import pytest

from bot.hear.sources.rss import parse_feed
from bot.hear.sources.rss_plain import plain_entries

CONTENT_TYPES = ("", "application/rss+xml", "application/xml; charset=utf-8", "text/xml", "text/plain")


def feedparser_values(body: bytes, content_type: str) -> list[tuple]:
    """The entry values `bot.hear.sources.rss` reads, as feedparser gives them; None for a bozo document."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = feedparser.parse(body, response_headers={"content-type": content_type} if content_type else None)
    if parsed.bozo:
        return None
    return [
        (
            entry.get("title") or "",
            str(entry.content[0].get("value") or "") if entry.get("content") else entry.get("summary") or "",
            entry.get("link") or "",
            entry.get("id") or None,
            entry.get("author") or "",
            dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed"),
        )
        for entry in parsed.entries
    ]


def plain_values(body: bytes, content_type: str) -> list[tuple] | None:
    entries = plain_entries(body, content_type)
    if entries is None:
        return None
    return [(e.title, e.summary, e.link, e.id or None, e.author, e.published_parsed) for e in entries]


def test_every_feed_of_feedparsers_corpus_and_the_real_ones_reads_the_same_or_goes_to_feedparser(shared_data):
    feeds = [path for path in sorted((shared_data / "feeds").rglob("*")) if path.is_file()]
    assert len(feeds) > 2000
    read_plainly = 0
    for path in feeds:
        body = path.read_bytes()
        for content_type in CONTENT_TYPES:
            plain = plain_values(body, content_type)
            if plain is not None:
                read_plainly += 1
                assert plain == feedparser_values(body, content_type), (path, content_type)
    assert read_plainly > 500, "the plain reading should serve a good share of the test feeds"


# Pieces customers and feeds write, in the XML as it is sent: escaped text, markup, CDATA, mis-encoded UTF-8,
# Windows-1252 code points, CRLF, relative and odd links, dates in several formats.
TEXTS = (
    "Acme is down again",
    escape("Acme & Co, <b>why</b>?"),
    "&amp;amp; &#233;t&#xE9; &lt;script&gt;alert(1)&lt;/script&gt;",
    "<![CDATA[<p>Acme <a href='/help'>help</a> &amp; more</p><script>x()</script>]]>",
    escape("Ã©tÃ© at Acme"),
    "\u0093quoted\u0094 \u0080 euro",
    "line one\r\nline two\r\n\r\n  spaced   out  ",
    escape("1 < 2 > 0 &copy; &nbsp;"),
    "",
    "   ",
    escape("</i> & <em>x</em> &frac12;"),
)
LINKS = (
    "https://example.com/a?b=1&amp;c=2",
    "/relative/path",
    "http:///triple.example.com/x",
    "https://example.com/&amp;amp;x;y",
    "  https://example.com/spaced  ",
    "javascript:alert(1)",
    "",
)
DATES = ("Mon, 16 Nov 2026 09:00:00 GMT", "2026-11-16T09:00:00+02:00", "16 Nov 26 09:00 EST", "yesterday", "")


def random_feed(rng: random.Random, items: int) -> bytes:
    def element(tag: str, text: str, attributes: str = "") -> str:
        return f"<{tag}{attributes}>{text}</{tag}>" if rng.random() < 0.8 else ""

    body = []
    for _ in range(items):
        fields = [
            element("title", rng.choice(TEXTS)),
            element("link", rng.choice(LINKS)),
            element("description", rng.choice(TEXTS)),
            element("author", escape(rng.choice(("jo@example.com (Jo)", "Jo <jo@example.com>", "Ann", "A & B")))),
            element("guid", rng.choice(LINKS), rng.choice(("", ' isPermaLink="false"', ' isPermaLink="true"'))),
            element("pubDate", rng.choice(DATES)),
            element("category", "news"),
        ]
        rng.shuffle(fields)
        body.append(f"<item>{''.join(fields)}</item>")
    channel = f"<title>{rng.choice(TEXTS)}</title><link>https://example.com/</link>{''.join(body)}"
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{channel}</channel></rss>'.encode()


@pytest.mark.parametrize("seed", range(40))
def test_items_of_every_kind_read_the_same_as_feedparser_reads_them(seed: int):
    rng = random.Random(seed)
    body = random_feed(rng, items=12)
    for content_type in CONTENT_TYPES:
        expected = feedparser_values(body, content_type)
        plain = plain_values(body, content_type)
        if content_type in ("", "application/rss+xml"):
            assert plain is not None, "a plain feed is read plainly"
        if plain is not None:
            assert plain == expected


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        b"<item><title>Acme</title><dc:creator>Jo</dc:creator></item></channel></rss>",
        b'<?xml version="1.0"?><rss version="0.91"><channel><item><title>Acme</title></item></channel></rss>',
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>A</title><title>B</title></item>'
        b"</channel></rss>",
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title type="html">A</title></item></channel></rss>',
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><description>A<b>B</b></description></item>'
        b"</channel></rss>",
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "Acme">]><rss version="2.0"><channel><item>'
        b"<title>&a;</title></item></channel></rss>",
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>Acme</title></item>',
        b'<?xml version="1.0"?><rss version="2.0"><channel><entry><title>Acme</title></entry></channel></rss>',
    ],
    ids=["namespace", "rss-0.91", "two-titles", "attribute", "nested-markup", "doctype", "truncated", "entry"],
)
def test_anything_but_plain_rss_is_left_to_feedparser(document: bytes):
    assert plain_entries(document, "application/rss+xml") is None
    parse_feed(document, content_type="application/rss+xml")  # and feedparser reads it, as before


def test_the_bench_feed_is_read_plainly_and_as_feedparser_reads_it():
    tweets = [f"<item><guid>t-{n}</guid><title>Acme {n}</title><description>Acme &amp; me {n}</description>"
              f"<pubDate>Mon, 16 Nov 2026 09:00:0{n} GMT</pubDate></item>" for n in range(5)]  # fmt: skip
    body = f'<?xml version="1.0"?><rss version="2.0"><channel>{"".join(tweets)}</channel></rss>'.encode()
    assert plain_values(body, "application/rss+xml") == feedparser_values(body, "application/rss+xml")
    assert [item.external_id for item in parse_feed(body, content_type="application/rss+xml").items] == [
        f"t-{n}" for n in range(5)
    ]
