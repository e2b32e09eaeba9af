"""The HTTP face: Slack's requests (signature-checked here, before Bolt sees them), the inbound mention
webhook, GitHub's and Linear's issue webhooks, the read API (`bot.app.read_api`), a health check for load
balancers and Prometheus metrics.

Each Slack or webhook request is one unit of work with its own correlation id (`bot.ground.logs`)."""

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs

from cachetools import TTLCache
from flask import Flask, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.request.internals import extract_content_type, parse_body
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import Headers

from bot.act.trackers.watch import (
    MAX_HOOK_BYTES,
    HookAnswer,
    receive_github_hook,
    receive_jira_hook,
    receive_linear_hook,
)
from bot.app.read_api import read_api
from bot.ground import prometheus, seen
from bot.ground.answer_first import answer_first
from bot.ground.config_trackers import Trackers
from bot.ground.db import database_answers
from bot.ground.logs import correlated
from bot.hear.intake import MAX_WEBHOOK_BYTES, receive_webhook
from bot.hear.polling import Listener

log = logging.getLogger(__name__)

# What Slack sends: seconds since 1970 and `v0=` with a lowercase hex HMAC-SHA256. Anything else is refused
# before the HMAC, because Bolt's own check raises on it (int("abc"), a non-ASCII compare_digest) and then
# runs the error handler on the unsigned body, which would answer its response_url or DM its user_id.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def signed_by_slack(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str] | Headers) -> bool:
    """Slack's v0 signature over `v0:{timestamp}:{body}`, compared in constant time, within 5 minutes of now."""
    timestamp = headers.get("X-Slack-Request-Timestamp") or ""
    signature = headers.get("X-Slack-Signature") or ""
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:  # never from Slack; the SDK's check would raise decoding it (a 500, a traceback)
        return False
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


REMEMBERED = 1_000_000
"""Signatures a process remembers at most: ten minutes of 1,600 requests a second, far more than a workspace's
Slack sends. Past that the oldest, the nearest to expiring anyway, are forgotten first (where several processes
serve, the database still remembers them)."""


DATABASE_AGAIN_AFTER = 10.0
"""Seconds the replay guard leaves the database alone once it could not reach it."""


class Replays:
    """Signatures accepted lately. Slack signs each delivery anew (a retry has a new timestamp), so the same
    signature twice is a captured request sent again; the 5-minute window alone would let it act twice.

    Each process remembers what it was sent, in a TTL cache (O(1) a request). With an `engine` shared by several
    processes (PostgreSQL, where several workers can serve behind a load balancer) a signature new to this process
    is also recorded in the database, so one replayed to another worker is refused there too; on SQLite only one
    process serves, and memory is enough."""

    def __init__(self, engine: Engine | None = None, *, remember: float = 600.0, most: int = REMEMBERED) -> None:
        # A timestamp is accepted 5 minutes either side of now: a signature is worth replaying for 10 minutes.
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=most, ttl=remember)
        self._lock = threading.Lock()
        self._engine = engine if engine is not None and engine.dialect.name == "postgresql" else None
        self._database_after = 0.0

    def first_time(self, signature: str) -> bool:
        with self._lock:
            if signature in self._seen:
                return False
            self._seen[signature] = True
        if self._engine is None or time.monotonic() < self._database_after:
            return True
        try:
            # Not durable: a crash could forget a signature of the last moment, which only this process had seen.
            return seen.first_time(self._engine, f"slack-signature:{signature}", durable=False)
        except SQLAlchemyError as error:
            # The database is away: a click then still gets its answer ("try again") in time, and this process
            # still refuses what it was sent twice. Waiting on the database for each request would miss Slack's
            # 3 seconds, so it is asked again only after a while.
            self._database_after = time.monotonic() + DATABASE_AGAIN_AFTER
            log.warning(
                "the replay guard cannot reach the database (%s); for %.0f s each worker remembers only what "
                "it was sent",
                type(error).__name__,
                DATABASE_AGAIN_AFTER,
            )
            return True


def unparseable(body: bytes, content_type: str | None) -> str | None:
    """Why Bolt could not read this signed (so UTF-8) body into a request, or None: Bolt's own parser, which
    raises (a 500 and a traceback) on a `payload` or a JSON body that is not JSON, and fails later on one that is
    not an object."""
    try:
        parsed = parse_body(body.decode("utf-8"), extract_content_type({"content-type": [content_type or ""]}))
    except ValueError as error:  # json.JSONDecodeError
        return f"the body or its payload is not JSON ({error})"
    if not isinstance(parsed, dict):
        return "the body or its payload is not a JSON object"
    return None


def _is_ssl_check(body: bytes) -> bool:
    """Slack's certificate probe for slash command URLs: it wants a 200 and nothing happens."""
    try:
        return parse_qs(body.decode("ascii"), strict_parsing=False).get("ssl_check") == ["1"]
    except UnicodeDecodeError:
        return False


def create_web_app(
    bolt_app: App,
    engine: Engine,
    *,
    signing_secret: str,
    listener: Listener,
    webhook_secret: str | None,
    notify: Callable[[], None],
    api_tokens: list[str] | None = None,
    trackers: Trackers | None = None,
) -> Flask:
    """`api_tokens`: the read API's bearer tokens (`[api]`); without them it is not served (a 404). `trackers`: whose
    signed webhooks `/hooks/github`, `/hooks/jira` and `/hooks/linear` take, if any."""
    web = Flask("allears")
    # Flask's documented way to wrap its WSGI app; mypy sees a method replaced.
    web.wsgi_app = answer_first(web.wsgi_app)  # type: ignore[method-assign, assignment]
    prometheus.watch_outbox(engine)
    slack = SlackRequestHandler(bolt_app)
    verifier = SignatureVerifier(signing_secret)
    replays = Replays(engine)

    @web.post("/slack/events")
    def slack_events() -> Response | tuple[Response, int]:
        # The ack is timed from here: `handlers.errors.after_ack` observes it when its listener acks.
        with prometheus.arrived_now(), correlated():
            return _slack_event()

    def _slack_event() -> Response | tuple[Response, int]:
        body = request.get_data()  # cached: Bolt's adapter reads the same bytes
        if not signed_by_slack(verifier, body, request.headers):
            if _is_ssl_check(body):
                return Response(status=200)
            # Neither the body nor the headers are logged: they are the sender's, and a stale but genuine
            # request carries a response_url anyone could post to.
            log.info("refused a request to /slack/events without a valid, fresh Slack signature")
            return jsonify(error="invalid request"), 401
        if not replays.first_time(request.headers["X-Slack-Signature"]):
            log.info("refused a request to /slack/events sent before (same signature)")
            return jsonify(error="invalid request"), 401
        if problem := unparseable(body, request.headers.get("Content-Type")):
            log.warning("refused a signed request to /slack/events that cannot be read: %s", problem)
            return jsonify(error=f"bad request: {problem}"), 400
        return slack.handle(request)

    @web.post("/hooks/mentions")
    def webhook_mention() -> tuple[Response, int]:
        with correlated():
            return _webhook_mention()

    def _webhook_mention() -> tuple[Response, int]:
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
            prometheus.mentions_ingested.labels("webhook").inc()  # senders name sources freely: one label
            notify()
        return jsonify(answer.body), answer.status

    if api_tokens:
        web.register_blueprint(read_api(engine, tokens=api_tokens))

    def tracker_hook(receive: Callable[[bytes], HookAnswer]) -> tuple[Response, int]:
        with correlated():
            if (request.content_length or 0) > MAX_HOOK_BYTES:
                return jsonify(ok=False, error=f"the body is over {MAX_HOOK_BYTES // 1024} KB"), 413
            answer = receive(request.stream.read(MAX_HOOK_BYTES + 1))
            if answer.status == 200:
                notify()
            return jsonify(answer.body), answer.status

    @web.post("/hooks/github")
    def github_hook() -> tuple[Response, int]:
        return tracker_hook(
            lambda body: receive_github_hook(
                engine,
                trackers.github if trackers else None,
                body=body,
                signature=request.headers.get("X-Hub-Signature-256"),
                event=request.headers.get("X-GitHub-Event"),
                delivery=request.headers.get("X-GitHub-Delivery"),
            )
        )

    @web.post("/hooks/jira")
    def jira_hook() -> tuple[Response, int]:
        return tracker_hook(
            lambda body: receive_jira_hook(
                engine,
                trackers.jira if trackers else None,
                body=body,
                signature=request.headers.get("X-Hub-Signature"),
                delivery=request.headers.get("X-Atlassian-Webhook-Identifier"),
            )
        )

    @web.post("/hooks/linear")
    def linear_hook() -> tuple[Response, int]:
        return tracker_hook(
            lambda body: receive_linear_hook(
                engine,
                trackers.linear if trackers else None,
                body=body,
                signature=request.headers.get("Linear-Signature"),
                delivery=request.headers.get("Linear-Delivery"),
            )
        )

    @web.get("/healthz")
    def healthz() -> tuple[Response, int]:
        if database_answers(engine):
            return jsonify(status="ok", database="ok"), 200
        return jsonify(status="unavailable", database="unreachable"), 503

    @web.get("/metrics")
    def metrics() -> Response:
        """Unauthenticated, like /healthz: counts and latencies only, no customer text and no secrets."""
        return Response(prometheus.exposition(), status=200, content_type=prometheus.CONTENT_TYPE)

    return web
