"""RSS 0.9x/1.0/2.0, Atom and RDF through feedparser; JSON Feed read directly."""

import calendar
import hashlib
import json
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import httpx

from bot.ground.config_sources import RssSource
from bot.ground.text import html_to_text, normalize_space
from bot.hear.sources import Fetched, Item, PollState, SourceError
from bot.hear.sources.http import get
from bot.hear.sources.rss_plain import plain_entries

MAX_ITEMS_PER_POLL = 200
_NO_DATE = datetime.min.replace(tzinfo=UTC)
ACCEPT = "application/atom+xml, application/rss+xml, application/feed+json, application/xml;q=0.9, */*;q=0.8"


def fetch(source: RssSource, http: httpx.Client, state: PollState) -> Fetched:
    """One conditional GET: an unchanged feed costs the site one short answer."""
    headers = {"Accept": ACCEPT}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    response = get(http, source.url, headers=headers)
    if response.status == 304:
        return Fetched(not_modified=True, etag=state.etag, last_modified=state.last_modified)
    fetched = parse_feed(response.body, content_type=response.headers.get("content-type", ""))
    fetched.etag, fetched.last_modified = response.headers.get("etag"), response.headers.get("last-modified")
    return fetched


def parse_feed(body: bytes, *, content_type: str = "") -> Fetched:
    """Items of any feed document; a malformed one yields what could be read and names the problem."""
    if "json" in content_type or body.lstrip()[:1] == b"{":
        return _parse_json_feed(body)
    plain = plain_entries(body, content_type)
    if plain is not None:
        items = [_item(e.title, e.summary, e.link, e.id, e.author, e.published_parsed) for e in plain]
        return Fetched(items=_newest([item for item in items if item is not None]))
    parsed = feedparser.parse(body, response_headers={"content-type": content_type} if content_type else None)
    problem = None
    if parsed.bozo:
        problem = f"malformed feed: {type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
        if not parsed.entries:
            raise SourceError(problem)
    items = [_item_from_entry(entry) for entry in parsed.entries]
    return Fetched(items=_newest([item for item in items if item is not None]), problem=problem)


def _newest(items: list[Item]) -> list[Item]:
    """At most `MAX_ITEMS_PER_POLL`, the newest: most feeds list newest first, but some list oldest first,
    and cutting those at the top would never hear a new item again. Undated items keep their place."""
    if len(items) <= MAX_ITEMS_PER_POLL:
        return items
    latest = max((item.published_at for item in items if item.published_at), default=None)
    return sorted(items, key=lambda item: item.published_at or latest or _NO_DATE, reverse=True)[:MAX_ITEMS_PER_POLL]


def _item_from_entry(entry: Any) -> Item | None:
    body = ""
    if entry.get("content"):
        body = str(entry.content[0].get("value") or "")
    body = body or str(entry.get("summary") or "")
    # Plain dict lookups: feedparser's own mapping between the two warns about a deprecated fallback.
    published = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    fields = (entry.get(name) for name in ("title", "link", "id", "author"))
    title, link, native_id, author = (value if value is None else str(value) for value in fields)
    return _item(title or "", body, link or "", native_id, author or "", published)


def _item(
    title: str, body: str, link: str, native_id: str | None, author: str, published: time.struct_time | None
) -> Item | None:
    """An item from an entry's values as feedparser gives them (markup in the title and body)."""
    heading = html_to_text(title) or None
    text = html_to_text(body)
    if not text and not heading:
        return None
    url = normalize_space(link) or None
    return Item(
        external_id=_item_id(native_id, url, heading, text),
        text=text or heading or "",
        title=heading,
        url=url,
        author=normalize_space(author) or None,
        published_at=datetime.fromtimestamp(calendar.timegm(published), UTC) if published else None,
    )


def _item_id(native_id: object, link: str | None, title: str | None, text: str) -> str:
    """The feed's own id, else its link, else a digest of the content, so a re-read item is recognised."""
    if native_id:
        return normalize_space(str(native_id))[:1000] or _digest(title, text)
    if link:
        return link[:1000]
    return _digest(title, text)


def _digest(title: str | None, text: str) -> str:
    return "sha256:" + hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


def _parse_json_feed(body: bytes) -> Fetched:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SourceError(f"malformed JSON Feed: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise SourceError("not a JSON Feed: no items list")
    feed_author = _json_author(document)
    items = []
    for raw in document["items"]:
        if not isinstance(raw, dict):
            continue
        title = normalize_space(str(raw.get("title") or "")) or None
        text = normalize_space(str(raw.get("content_text") or "")) or html_to_text(
            str(raw.get("content_html") or raw.get("summary") or "")
        )
        if not text and not title:
            continue
        url = normalize_space(str(raw.get("url") or raw.get("external_url") or "")) or None
        items.append(
            Item(
                external_id=_item_id(raw.get("id"), url, title, text),
                text=text or title or "",
                title=title,
                url=url,
                author=_json_author(raw) or feed_author,
                published_at=_json_date(raw.get("date_published") or raw.get("date_modified")),
            )
        )
    return Fetched(items=_newest(items))


def _json_author(node: dict[str, Any]) -> str | None:
    authors = node.get("authors")
    if not isinstance(authors, list):
        authors = [node["author"]] if isinstance(node.get("author"), dict) else []
    names = [normalize_space(str(a.get("name"))) for a in authors if isinstance(a, dict) and a.get("name")]
    return ", ".join(names) or None


def _json_date(value: object) -> datetime | None:
    """JSON Feed asks for RFC 3339, but real feeds also send RFC 822 dates."""
    if not isinstance(value, str):
        return None
    for parse in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            parsed = parse(value.strip())
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except (ValueError, TypeError, OverflowError):
            continue
    return None
