"""Plain RSS 2.0 read at a fraction of feedparser's cost, with exactly the values feedparser gives.

feedparser spends most of its time in per-element machinery (SAX callbacks, its dict, deep copies) that a
plain feed does not need: items of title, link, description, author, guid and pubDate without attributes,
namespaces or nested markup. For such a document this reads the items with one expat pass and runs each
value through the same steps feedparser's `pop` runs (its own helpers: relative links, sanitizing, the
mis-encoded UTF-8 repair, Windows-1252 code points, dates); anything else returns None and goes to feedparser.
`tests/test_rss_plain.py` compares both on feedparser's own test feeds.
"""

import contextlib
import re
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

from feedparser import FeedParserDict

# feedparser's public API is `parse` and nothing finer, and what this must give is exactly what `parse` gives, so
# it runs the helpers `parse` runs rather than copies of them; their names are private, hence feedparser is pinned
# to 6.0 (pyproject.toml) and tests/test_rss_plain.py compares both readings on every real feed in ../shared.
from feedparser.datetimes import _parse_date
from feedparser.encodings import convert_to_utf8
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.sanitizer import _sanitize_html
from feedparser.urls import _urljoin, resolve_relative_uris

_HEAD = re.compile(rb"<\?xml[^>]*\?>(?:\s*<!--.*?-->)*\s*<rss[\s>]", re.DOTALL)
_ITEM_FIELDS = {"title", "link", "description", "author", "guid", "pubDate"}
_ITEM_IGNORED = {"category", "comments"}
"""Read by feedparser into values `bot.hear.sources.rss` does not use, touching none it does."""
_CHANNEL_FIELDS = {
    "title",
    "link",
    "description",
    "language",
    "copyright",
    "managingEditor",
    "webMaster",
    "pubDate",
    "lastBuildDate",
    "category",
    "generator",
    "docs",
    "ttl",
}
_IMAGE_FIELDS = {"url", "title", "link", "width", "height", "description"}
_ENTITY_QUERY = re.compile("&([A-Za-z0-9_]+);")
_looks_like_html = _FeedParserMixin.looks_like_html


@dataclass(frozen=True)
class Entry:
    """What `bot.hear.sources.rss` reads of a feedparser entry."""

    title: str
    summary: str
    link: str
    id: str | None
    author: str
    published_parsed: time.struct_time | None


def plain_entries(body: bytes, content_type: str) -> list[Entry] | None:
    """The entries feedparser would give, or None when the document is not plain RSS 2.0 (or would be bozo)."""
    result = FeedParserDict(bozo=False, headers={"content-type": content_type} if content_type else {})
    data = convert_to_utf8(result["headers"], body, result)
    # A namespace declared anywhere, even unused, can change how feedparser reads the rest (its version).
    if result.get("bozo") or result.get("encoding") is None or not _HEAD.match(data) or b"xmlns" in data:
        return None
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None
    if root.tag != "rss" or dict(root.attrib) != {"version": "2.0"} or len(root) != 1 or root[0].tag != "channel":
        return None
    channel = root[0]
    if channel.attrib:
        return None
    entries = []
    for element in channel:
        if element.tag == "item":
            entry = _entry(element)
            if entry is None:
                return None
            entries.append(entry)
        elif not _plain_channel_field(element):
            return None
    return entries


def _plain_channel_field(element: ElementTree.Element) -> bool:
    if element.tag == "image":
        return not element.attrib and all(_plain(child, _IMAGE_FIELDS) for child in element)
    return _plain(element, _CHANNEL_FIELDS)


def _plain(element: ElementTree.Element, tags: set[str]) -> bool:
    return element.tag in tags and len(element) == 0 and not any("{" in name for name in element.attrib)


def _entry(item: ElementTree.Element) -> Entry | None:
    if item.attrib:
        return None
    raw: dict[str, str] = {}
    guid_is_link = False
    for field in item:
        if field.tag in _ITEM_IGNORED and _plain(field, _ITEM_IGNORED):
            continue
        if field.tag not in _ITEM_FIELDS or len(field) or field.tag in raw:
            return None
        if field.tag == "guid":
            if set(field.attrib) - {"isPermaLink"}:
                return None
            guid_is_link = field.attrib.get("isPermaLink", "true") == "true"
        elif field.attrib:
            return None
        raw[field.tag] = field.text or ""
    guid = _value(raw["guid"], resolve=guid_is_link) if "guid" in raw else None
    if "link" in raw:
        link = _ENTITY_QUERY.sub(r"&\g<1>", _value(raw["link"], resolve=True).replace("&amp;", "&"))
    else:
        link = guid if guid is not None and guid_is_link else ""
    published = _value(raw["pubDate"]) if "pubDate" in raw else None
    return Entry(
        title=_value(raw.get("title", ""), html=None),
        summary=_value(raw.get("description", ""), html=True),
        link=link,
        id=guid,
        author=_value(raw.get("author", "")),
        published_parsed=_parse_date(published) if published is not None else None,
    )


def _value(text: str, *, resolve: bool = False, html: bool | None = False) -> str:
    """feedparser's `pop` for one element: `html` True for markup (description), None for text that may turn
    out to be markup (title), False for neither."""
    output = text.strip()
    if resolve and ":///" in output:  # with no base, all `_urljoin` changes is the slashes after a scheme's "://"
        output = _urljoin("", output)
    if html is None:
        html = _looks_like_html(output)
    if html:
        if "<" in output or "&" in output:
            output = _sanitize_html(resolve_relative_uris(output, "", "utf-8", "text/html"), "utf-8", "text/html")
        else:  # what both give for text without markup
            output = output.strip().replace("\r\n", "\n")
    if output.isascii():  # the two repairs below give ASCII back unchanged, and most values are ASCII
        return output
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        output = output.encode("iso-8859-1").decode("utf-8")
    return output.translate(_cp1252)
