"""Work that starts once Slack has its answer.

A listener acks and hands its work to a thread. Started at once, that thread took the GIL while the request's
own thread still had to finish the response (Flask's teardown, the server's write): a claim's ORM work then held
the GIL for milliseconds at a time, and about one ack in fifty left 4–5 ms late. Inside an HTTP request the work
is held here instead, and `answer_first` starts it once the response's bytes have been handed to the socket."""

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any
from wsgiref.types import WSGIApplication

Start = Callable[[], object]

_held: ContextVar[list[Start] | None] = ContextVar("held_until_answered", default=None)


def after_answer(start: Start) -> None:
    """Call `start` once the current HTTP answer has been sent; at once outside one (Socket Mode acks by itself)."""
    held = _held.get()
    if held is None:
        start()
    else:
        held.append(start)


def answer_first(app: WSGIApplication) -> WSGIApplication:
    """WSGI middleware: write the whole response through the server's `write` callable, then start what the request
    held. Servers send an empty body's headers only after the app returns; `write(b"")` sends them now."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        held: list[Start] = []
        token = _held.set(held)
        writes: list[Callable[[bytes], Any]] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            writes.append(start_response(status, headers, exc_info))
            return writes[-1]

        try:
            chunks = app(environ, start)
            try:
                for chunk in chunks:
                    writes[-1](chunk)
                writes[-1](b"")
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
        finally:
            _held.reset(token)
            for begin in held:  # also when the answer could not be written: the ack may have reached Slack
                begin()
        return []

    return wsgi
