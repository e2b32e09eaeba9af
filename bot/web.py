"""The HTTP face: Slack's requests (signature-checked by Bolt) and a health check for load balancers."""

from flask import Flask, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from sqlalchemy import Engine

from bot.db import database_answers


def create_web_app(bolt_app: App, engine: Engine) -> Flask:
    web = Flask("allears")
    slack = SlackRequestHandler(bolt_app)

    @web.post("/slack/events")
    def slack_events() -> Response:
        return slack.handle(request)

    @web.get("/healthz")
    def healthz() -> tuple[Response, int]:
        if database_answers(engine):
            return jsonify(status="ok", database="ok"), 200
        return jsonify(status="unavailable", database="unreachable"), 503

    return web
