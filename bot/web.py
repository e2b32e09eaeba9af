"""The HTTP face: Slack's requests (signature-checked by Bolt), the inbound mention webhook, and a
health check for load balancers."""

from collections.abc import Callable

from flask import Flask, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from sqlalchemy import Engine

from bot.db import database_answers
from bot.intake import MAX_WEBHOOK_BYTES, receive_webhook
from bot.polling import Listener


def create_web_app(
    bolt_app: App,
    engine: Engine,
    *,
    listener: Listener,
    webhook_secret: str | None,
    notify: Callable[[], None],
) -> Flask:
    web = Flask("allears")
    slack = SlackRequestHandler(bolt_app)

    @web.post("/slack/events")
    def slack_events() -> Response:
        return slack.handle(request)

    @web.post("/hooks/mentions")
    def webhook_mention() -> tuple[Response, int]:
        if (request.content_length or 0) > MAX_WEBHOOK_BYTES:  # refused before reading, signed or not
            return jsonify(ok=False, error=f"the body is over {MAX_WEBHOOK_BYTES // 1024} KB"), 413
        body = request.stream.read(MAX_WEBHOOK_BYTES + 1)  # never more, whatever Content-Length claims
        answer = receive_webhook(
            engine,
            listener,
            secret=webhook_secret,
            body=body,
            signature=request.headers.get("X-Allears-Signature"),
        )
        if answer.status == 201:
            notify()
        return jsonify(answer.body), answer.status

    @web.get("/healthz")
    def healthz() -> tuple[Response, int]:
        if database_answers(engine):
            return jsonify(status="ok", database="ok"), 200
        return jsonify(status="unavailable", database="unreachable"), 503

    return web
