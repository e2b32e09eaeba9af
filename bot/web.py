"""The HTTP face: Slack's requests (signature-checked here, before Bolt sees them), the inbound mention
webhook, a health check for load balancers and Prometheus metrics.

Each Slack or webhook request is one unit of work with its own correlation id (`bot.logs`)."""

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs

from flask import Flask, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine

from bot import telemetry
from bot.answer_first import answer_first
from bot.db import database_answers
from bot.intake import MAX_WEBHOOK_BYTES, receive_webhook
from bot.logs import correlated
from bot.polling import Listener

log = logging.getLogger(__name__)

# What Slack sends: seconds since 1970 and `v0=` with a lowercase hex HMAC-SHA256. Anything else is refused
# before the HMAC, because Bolt's own check raises on it (int("abc"), a non-ASCII compare_digest) and then
# runs the error handler on the unsigned body, which would answer its response_url or DM its user_id.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def signed_by_slack(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's v0 signature over `v0:{timestamp}:{body}`, compared in constant time, within 5 minutes of now."""
    timestamp = headers.get("X-Slack-Request-Timestamp") or ""
    signature = headers.get("X-Slack-Signature") or ""
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return False
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


class Replays:
    """Signatures accepted lately. Slack signs each delivery anew (a retry has a new timestamp), so the same
    signature twice is a captured request sent again; the 5-minute window alone would let it act twice.
    Kept per process: each worker behind a load balancer remembers what it was sent."""

    def __init__(self, *, remember: float = 600.0) -> None:
        self._remember = remember  # a timestamp is accepted 5 minutes either side of now
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, signature: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._until) > 1000:  # only signed requests get here, so this stays small
                self._until = {seen: until for seen, until in self._until.items() if until > now}
            if self._until.get(signature, 0.0) > now:
                return False
            self._until[signature] = now + self._remember
            return True


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
) -> Flask:
    web = Flask("allears")
    web.wsgi_app = answer_first(web.wsgi_app)  # type: ignore[method-assign]
    telemetry.watch_outbox(engine)
    slack = SlackRequestHandler(bolt_app)
    verifier = SignatureVerifier(signing_secret)
    replays = Replays()

    @web.post("/slack/events")
    def slack_events() -> Response | tuple[Response, int]:
        # The ack is timed from here: `handlers.errors.after_ack` observes it when its listener acks.
        with telemetry.arrived_now(), correlated():
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
            telemetry.mentions_ingested.labels("webhook").inc()  # senders name sources freely: one label
            notify()
        return jsonify(answer.body), answer.status

    @web.get("/healthz")
    def healthz() -> tuple[Response, int]:
        if database_answers(engine):
            return jsonify(status="ok", database="ok"), 200
        return jsonify(status="unavailable", database="unreachable"), 503

    @web.get("/metrics")
    def metrics() -> Response:
        """Unauthenticated, like /healthz: counts and latencies only, no customer text and no secrets."""
        return Response(telemetry.exposition(), status=200, content_type=telemetry.CONTENT_TYPE)

    return web
