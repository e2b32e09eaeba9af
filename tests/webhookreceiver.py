"""A local receiver of All Ears' outbound webhooks: a real HTTP server on 127.0.0.1 that answers each POST
with the status the test decides (by the test's clock, so an outage of minutes passes in no time) and
remembers every request and what it answered."""

import threading
from collections.abc import Callable
from dataclasses import dataclass

from tests.apiserver import Answer, LoopbackServer, Request


@dataclass(frozen=True)
class Delivery:
    request: Request
    status: int

    @property
    def event_id(self) -> str:
        return str(self.request.json()["id"])


class Receiver(LoopbackServer):
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.answer: Callable[[Request], int] = lambda request: 200
        self.requests = []
        self._lock = threading.Lock()

    @property
    def hook_url(self) -> str:
        """Where the bot is told to send: a token in the query, which must never show in Slack."""
        return self.url("/hooks/allears?token=kept-out-of-slack")

    def taken(self) -> list[Delivery]:
        """What it answered 2xx to: what it took, in the order it came."""
        with self._lock:
            return [delivery for delivery in self.deliveries if 200 <= delivery.status < 300]

    def refused(self) -> list[Delivery]:
        with self._lock:
            return [delivery for delivery in self.deliveries if delivery.status >= 300]

    def respond(self, request: Request) -> Answer:
        status = self.answer(request)
        self.deliveries.append(Delivery(request, status))
        return Answer(b"", status)
