"""A local receiver of All Ears' outbound webhooks: a real HTTP server on 127.0.0.1 that answers each POST
with the status the test decides (by the test's clock, so an outage of minutes passes in no time) and
remembers every request and what it answered."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.apiserver import Request, _Server


@dataclass(frozen=True)
class Delivery:
    request: Request
    status: int

    @property
    def event_id(self) -> str:
        return str(self.request.json()["id"])


class Receiver:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.answer: Callable[[Request], int] = lambda request: 200
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="webhook-receiver", daemon=True
        )

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/allears?token=kept-out-of-slack"

    def taken(self) -> list[Delivery]:
        """What it answered 2xx to: what it took, in the order it came."""
        with self._lock:
            return [delivery for delivery in self.deliveries if 200 <= delivery.status < 300]

    def refused(self) -> list[Delivery]:
        with self._lock:
            return [delivery for delivery in self.deliveries if delivery.status >= 300]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path, _, query = self.path.partition("?")
                request = Request(
                    "POST",
                    path,
                    dict(part.split("=", 1) for part in query.split("&") if "=" in part),
                    {name.lower(): value for name, value in self.headers.items()},
                    body,
                )
                status = receiver.answer(request)
                with receiver._lock:
                    receiver.deliveries.append(Delivery(request, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
