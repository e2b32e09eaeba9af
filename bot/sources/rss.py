"""RSS 0.9x/1.0/2.0, Atom and RDF through feedparser; JSON Feed read directly."""

import calendar
import hashlib
import json
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import httpx

from bot.sources import Fetched, Item, SourceError
from bot.text import html_to_text, normalize_space

USER_AGENT = "allears/0.1 (+https://github.com/allears/allears; customer-mention listener)"
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_ITEMS_PER_POLL = 200
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_FETCH_SECONDS = 30
ACCEPT = "application/atom+xml, application/rss+xml, application/feed+json, application/xml;q=0.9, */*;q=0.8"
_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S*", re.IGNORECASE)


def fetch_feed(client: httpx.Client, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
    """One conditional GET; bounded in time and size so a hanging or huge feed cannot stall polling."""
    deadline = time.monotonic() + MAX_FETCH_SECONDS
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with client.stream("GET", url, headers=headers, timeout=TIMEOUT, follow_redirects=True) as response:
            if response.status_code == 304:
                return Fetched(not_modified=True, etag=etag, last_modified=last_modified)
            if response.status_code >= 400:
                raise SourceError(f"answered HTTP {response.status_code}")
            body = _read_bounded(response, deadline)
            content_type = response.headers.get("content-type", "")
            new_etag = response.headers.get("etag")
            new_last_modified = response.headers.get("last-modified")
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        # Errors are logged and stored, so none names the URL: httpx's text may, and a URL can carry a token.
        detail = _URL.sub("(url)", str(error).replace(url, "(url)"))
        raise SourceError(f"{type(error).__name__}: {detail}" if detail else type(error).__name__) from error
    fetched = parse_feed(body, content_type=content_type)
    fetched.etag, fetched.last_modified = new_etag, new_last_modified
    return fetched


def _read_bounded(response: httpx.Response, deadline: float) -> bytes:
    """The body, up to a size and a deadline: httpx times each read, so a feed dripping bytes never trips it."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise SourceError(f"took longer than {MAX_FETCH_SECONDS} s; gave up")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise SourceError(f"sent more than {MAX_BODY_BYTES // (1024 * 1024)} MB; not read")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_feed(body: bytes, *, content_type: str = "") -> Fetched:
    """Items of any feed document; a malformed one yields what could be read and names the problem."""
    if "json" in content_type or body.lstrip()[:1] == b"{":
        return _parse_json_feed(body)
    parsed = feedparser.parse(body, response_headers={"content-type": content_type} if content_type else None)
    problem = None
    if parsed.bozo:
        problem = f"malformed feed: {type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
        if not parsed.entries:
            raise SourceError(problem)
    items = [_item_from_entry(entry) for entry in parsed.entries[:MAX_ITEMS_PER_POLL]]
    return Fetched(items=[item for item in items if item is not None], problem=problem)


def _item_from_entry(entry: Any) -> Item | None:
    title = html_to_text(str(entry.get("title") or "")) or None
    body = ""
    if entry.get("content"):
        body = str(entry.content[0].get("value") or "")
    body = body or str(entry.get("summary") or "")
    text = html_to_text(body)
    if not text and not title:
        return None
    link = normalize_space(str(entry.get("link") or "")) or None
    # Plain dict lookups: feedparser's own mapping between the two warns about a deprecated fallback.
    published = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    return Item(
        external_id=_item_id(entry.get("id"), link, title, text),
        text=text or title or "",
        title=title,
        url=link,
        author=normalize_space(str(entry.get("author") or "")) or None,
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
    for raw in document["items"][:MAX_ITEMS_PER_POLL]:
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
    return Fetched(items=items)


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
