"""A local HTTP server that serves feeds the tests write, with ETag support like a real site."""

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from tests.apiserver import Answer, LoopbackServer, Request


@dataclass(frozen=True)
class Entry:
    guid: str
    title: str
    description: str
    link: str
    author: str = "customer@example.com (A Customer)"
    published: datetime | None = None


def rss(entries: Sequence[Entry], *, title: str = "Mentions") -> bytes:
    items = []
    for entry in entries:
        date = f"<pubDate>{format_datetime(entry.published)}</pubDate>" if entry.published else ""
        items.append(
            f'<item><guid isPermaLink="false">{escape(entry.guid)}</guid><title>{escape(entry.title)}</title>'
            f"<link>{escape(entry.link)}</link><description>{escape(entry.description)}</description>"
            f"<author>{escape(entry.author)}</author>{date}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://example.com/</link><description>test</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


class FeedServer(LoopbackServer):
    def __init__(self) -> None:
        self._documents: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self.requests = []

    def polls(self, path: str) -> int:
        """How many times `path` has been requested so far."""
        return len(self.requests_to(path))

    def publish(self, path: str, body: bytes, content_type: str = "application/rss+xml") -> None:
        with self._lock:
            self._documents[path] = (body, content_type)

    def respond(self, request: Request) -> Answer:
        document = self._documents.get(request.path)
        if document is None:
            return Answer(b"", status=404)
        body, content_type = document
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("if-none-match") == etag:
            return Answer(b"", status=304, headers={"ETag": etag})
        return Answer(body, content_type=content_type, headers={"ETag": etag})
