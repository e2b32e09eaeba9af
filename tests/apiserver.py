"""A local HTTP server standing in for a source's API: it answers each method and path (and, optionally,
query parameters or headers) with a body the test gives, usually a recorded real one, and remembers
every request."""

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from bot.app.standin.serving import serve_in_thread

JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    """Each parameter's last value."""
    headers: dict[str, str]
    """With lower-case names."""
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    body: bytes
    status: int = 200
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering, as a slow service does."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # else a client that gave up waiting
            super().handle_error(request, client_address)


class LoopbackServer:
    """An HTTP server on 127.0.0.1, in a thread of its own, that remembers every request and answers it with
    what `respond` gives (called under `_lock`, so an answer and the record of its request go together)."""

    requests: list[Request]
    _lock: threading.Lock

    def start(self) -> Self:
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        serve_in_thread(self._server, type(self).__name__)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def respond(self, request: Request) -> Answer:
        raise NotImplementedError

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                parts = urlsplit(self.path)
                query = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = Request(self.command, parts.path, query, headers, body)
                with server._lock:
                    server.requests.append(request)
                    answer = server.respond(request)
                time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.content_type)
                    self.send_header("Content-Length", str(len(answer.body)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(answer.body)
                except ConnectionError:
                    pass  # the client gave up waiting (a timeout test)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

        return Handler


class ApiServer(LoopbackServer):
    def __init__(self) -> None:
        self._answers: list[tuple[str, str, dict[str, str], dict[str, str], Answer]] = []
        self._lock = threading.Lock()
        self.requests = []

    def reset(self) -> None:
        """Forget every answer and request, so one server can serve test after test."""
        with self._lock:
            self._answers.clear()
            self.requests.clear()

    def answer(
        self,
        path: str,
        body: bytes | str | dict[str, Any] | list[Any],
        *,
        when: dict[str, str] | None = None,
        when_headers: dict[str, str] | None = None,
        method: str = "GET",
        status: int = 200,
        content_type: str = JSON,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer `method` `path` with `body`; `when` and `when_headers` narrow it to requests carrying
        those query parameters and headers (names in lower case).

        The latest matching answer wins, so a test can replace what it served before."""
        if isinstance(body, dict | list):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            answer = Answer(data, status, content_type, dict(headers or {}), delay)
            self._answers.append((method, path, dict(when or {}), dict(when_headers or {}), answer))

    def respond(self, request: Request) -> Answer:
        for method, path, when, when_headers, answer in reversed(self._answers):
            if (
                (method, path) == (request.method, request.path)
                and all(request.query.get(k) == v for k, v in when.items())
                and all(request.headers.get(k) == v for k, v in when_headers.items())
            ):
                return answer
        return Answer(b'{"error": "not recorded"}', status=404)
