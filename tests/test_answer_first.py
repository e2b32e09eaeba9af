"""Slack has its answer before the work it acknowledged starts (`bot.ground.answer_first`), through a real waitress
server."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import waitress
from flask import Flask, Response

from bot.ground.answer_first import after_answer, answer_first
from tests.waiting import eventually


@contextmanager
def serving(web: Flask) -> Iterator[str]:
    """`web` behind answer_first on a real waitress server, as `allears serve` runs it."""
    web.wsgi_app = answer_first(web.wsgi_app)  # type: ignore[method-assign]
    server = waitress.create_server(web, host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
    finally:
        server.close()


def test_anas_claim_is_answered_before_its_work_starts() -> None:
    """The held work runs on the request's own thread here and waits until Ana's client has the answer: had the
    answer waited for the work, the work would give up after 5 s and Ana would wait as long."""
    web = Flask("answer-first")
    ana_has_her_answer = threading.Event()
    work_saw: list[bool] = []

    @web.post("/slack/events")
    def claim() -> Response:
        after_answer(lambda: work_saw.append(ana_has_her_answer.wait(timeout=5)))
        return Response(status=200)  # an empty ack, the body Slack gets for a slash command

    with serving(web) as url:
        answer = httpx.post(url + "/slack/events", timeout=10)
        ana_has_her_answer.set()
        waited = answer.elapsed.total_seconds()
        eventually(lambda: work_saw, what="the held work")

    assert (answer.status_code, answer.content) == (200, b"")
    assert work_saw == [True]
    assert waited < 2


def test_work_outside_an_http_answer_starts_at_once() -> None:
    """Socket Mode acks over its socket by itself: nothing is held for it."""
    started: list[str] = []
    after_answer(lambda: started.append("claim"))
    assert started == ["claim"]


def test_held_work_starts_even_when_the_answer_cannot_be_written() -> None:
    """Ben's connection drops before his ack is written: the ack may still have reached Slack, so the work runs."""
    started: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        after_answer(lambda: started.append("claim"))
        start_response("200 OK", [("Content-Length", "0")])
        return []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        def write(data: bytes) -> None:
            raise ConnectionResetError("Ben's client went away")

        return write

    with pytest.raises(ConnectionResetError):
        answer_first(app)({}, start_response)
    assert started == ["claim"]
