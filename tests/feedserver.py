"""A local HTTP server that serves feeds the tests write, with ETag support like a real site."""

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape


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


class FeedServer:
    def __init__(self) -> None:
        self._documents: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="feed-server", daemon=True)

    def start(self) -> "FeedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def polls(self, path: str) -> int:
        """How many times `path` has been requested so far."""
        with self._lock:
            return sum(requested == path for requested, _headers in self.requests)

    def publish(self, path: str, body: bytes, content_type: str = "application/rss+xml") -> None:
        with self._lock:
            self._documents[path] = (body, content_type)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with feeds._lock:
                    feeds.requests.append((self.path, dict(self.headers)))
                    document = feeds._documents.get(self.path)
                if document is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                body, content_type = document
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        return Handler
