"""Requests to the bot signed exactly as Slack signs them (v0 HMAC-SHA256 of `v0:{timestamp}:{body}`),
and posts to its inbound webhook signed as its README tells senders to."""

import hashlib
import hmac
import itertools
import json
import time
from functools import cache
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from bot.app.standin.slack import TEAM_ID, user_name
from bot.ground.errors import UserError
from bot.slack.payloads import MentionRef

SIGNING_SECRET = "test-signing-secret"
WEBHOOK_SECRET = "webhook-secret-for-tests"
_counter = itertools.count(1)


@cache
def _shared_http() -> httpx.Client:
    """The client of stand-ins given none: `httpx.post` builds one, with an SSL context that reads every trusted
    certificate, for each request (28 ms of CPU)."""
    return httpx.Client()


def signature(body: str, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def webhook_signature(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_to_webhook(bot_url: str, payload: dict[str, Any] | bytes, *, secret: str = WEBHOOK_SECRET) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return _shared_http().post(
        bot_url + "/hooks/mentions",
        content=body,
        headers={"Content-Type": "application/json", "X-Allears-Signature": webhook_signature(body, secret)},
        timeout=10,
    )


def escaped_as_slack_does(text: str) -> str:
    """Slack escapes `&`, `<` and `>` in what a person types before it sends a slash command's text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ResponseUrls(Protocol):
    """Where Slack would take a command's or a click's delayed answers: a `FakeSlack`, or its address alone."""

    def response_url(self, key: str) -> str: ...


class SlackUser:
    """One person in the workspace, sending what their Slack client would send to the bot."""

    def __init__(
        self,
        user_id: str,
        bot_url: str,
        fake: ResponseUrls,
        http: httpx.Client | None = None,
        *,
        secret: str = SIGNING_SECRET,
    ) -> None:
        """`secret`: the signing secret of the bot's Slack app, when a test gives the bot its own."""
        self.user_id = user_id
        self._http = http or _shared_http()
        self._secret = secret
        self.name = user_name(user_id)
        self._bot_url = bot_url.rstrip("/") + "/slack/events"
        self._fake = fake
        self.last_response_key = ""
        self.last_trigger_id = ""
        """The trigger of this person's latest command or click: a modal it opens carries it."""

    def _new_response_key(self) -> str:
        self.last_response_key = f"{self.name}-{next(_counter)}"
        return self.last_response_key

    def _new_trigger_id(self) -> str:
        self.last_trigger_id = f"trigger-{next(_counter)}"
        return self.last_trigger_id

    def signed_headers(self, body: str, content_type: str, **overrides: str) -> dict[str, str]:
        """Slack's headers for `body`; `timestamp` and `signature` overrides forge them."""
        timestamp = overrides.pop("timestamp", str(int(time.time())))
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": overrides.pop("signature", signature(body, timestamp, self._secret)),
        }

    def post(
        self, body: str, content_type: str = "application/x-www-form-urlencoded", **overrides: str
    ) -> httpx.Response:
        headers = self.signed_headers(body, content_type, **overrides)
        return self._http.post(self._bot_url, content=body, headers=headers, timeout=10)

    def command(self, command: str, text: str = "", *, channel: str = "C0LISTEN") -> httpx.Response:
        body = urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "channel_id": channel,
                "user_id": self.user_id,
                "user_name": self.name,
                "command": command,
                "text": escaped_as_slack_does(text),
                "api_app_id": "A0ALLEARS",
                "response_url": self._fake.response_url(self._new_response_key()),
                "trigger_id": self._new_trigger_id(),
            }
        )
        return self.post(body)

    def click(
        self, action_id: str, value: str, *, channel: str, message_ts: str, block_id: str = "card_actions"
    ) -> httpx.Response:
        return self._press(action_id, value, block_id=block_id, where=self._in_message(channel, message_ts))

    def choose(
        self, action_id: str, value: str, *, channel: str, message_ts: str, block_id: str = "card_actions"
    ) -> httpx.Response:
        """An option picked in a message's menu (static_select): Slack sends the option, not a value."""
        where = self._in_message(channel, message_ts)
        return self._press(action_id, value, block_id=block_id, where=where, kind="static_select")

    def _in_message(self, channel: str, message_ts: str) -> dict[str, Any]:
        return {
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel, "name": channel.lower()},
            "message": {"type": "message", "ts": message_ts},
            "response_url": self._fake.response_url(self._new_response_key()),
        }

    def click_in_home(
        self, action_id: str, value: str, *, home: dict[str, Any], kind: str = "button"
    ) -> httpx.Response:
        """A button (or, `kind="static_select"`, a menu's option) in the Home tab: no channel and no
        response_url, only the view it sits in."""

        def offered(element: dict[str, Any]) -> str | None:
            """The value the element sends for `value`: a button's own (its mention, or `value` itself), or an
            option's."""
            if element.get("action_id") != action_id:
                return None
            values = [element.get("value")] + [option.get("value") for option in element.get("options", [])]
            if value in values:
                return value
            button = element.get("value")
            return button if button and value.isdigit() and _mention_of(button) == int(value) else None

        block_id, sent = next(
            (block["block_id"], sent)
            for block in home["blocks"]
            if block["type"] == "actions"
            for element in block["elements"]
            if (sent := offered(element)) is not None
        )
        where = {"container": {"type": "view", "view_id": home["id"]}, "view": home}
        return self._press(action_id, sent, block_id=block_id, where=where, kind=kind)

    def _press(
        self, action_id: str, value: str, *, block_id: str, where: dict[str, Any], kind: str = "button"
    ) -> httpx.Response:
        """A button click or a menu choice (block_actions); `where` says what it was in: a message or a view."""
        chosen_or_clicked = (
            {"selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}
            if kind in ("static_select", "overflow")
            else {"value": value}
        )
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "allears-test"},
            "user": {"id": self.user_id, "username": self.name, "team_id": TEAM_ID},
            "api_app_id": "A0ALLEARS",
            "token": "legacy-verification-token",
            "trigger_id": self._new_trigger_id(),
            **where,
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "type": kind,
                    **chosen_or_clicked,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def event(self, event: dict[str, Any]) -> httpx.Response:
        """An Events API callback about this person, as Slack posts it (JSON, signed like the rest)."""
        body = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": "A0ALLEARS",
            "event": {"user": self.user_id, "event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": f"Ev{next(_counter):08d}",
            "event_time": int(time.time()),
        }
        return self.post(json.dumps(body), content_type="application/json")

    def open_home(self) -> httpx.Response:
        return self.event({"type": "app_home_opened", "channel": f"D{self.user_id}", "tab": "home"})

    def shortcut(self, callback_id: str, *, channel: str, message: dict[str, Any]) -> httpx.Response:
        """A message shortcut from the message's ⋯ menu (payload type message_action)."""
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            "team": {"id": TEAM_ID, "domain": "allears-test"},
            "user": {"id": self.user_id, "username": self.name, "team_id": TEAM_ID},
            "channel": {"id": channel, "name": channel.lower()},
            "message": {"type": "message", **message},
            "message_ts": message.get("ts"),
            "response_url": self._fake.response_url(self._new_response_key()),
            "trigger_id": f"trigger-{next(_counter)}",
            "token": "legacy-verification-token",
            "action_ts": f"{time.time():.6f}",
        }
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def type_in(self, view: dict[str, Any], block_id: str, text: str) -> httpx.Response:
        """Enter pressed in a modal's text input that dispatches its actions (block_actions from the view)."""
        where = {"container": {"type": "view", "view_id": view["id"]}, "view": view}
        return self._press(block_id, text, block_id=block_id, where=where, kind="plain_text_input")

    def submit(self, view: dict[str, Any], values: dict[str, dict[str, Any]]) -> httpx.Response:
        """Submit an opened modal; `values` maps each input's block id to its state, as Slack sends it."""
        state = {block_id: {block_id: value} for block_id, value in values.items()}
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "allears-test"},
            "user": {"id": self.user_id, "username": self.name, "team_id": TEAM_ID},
            "api_app_id": "A0ALLEARS",
            "token": "legacy-verification-token",
            "trigger_id": f"trigger-{next(_counter)}",
            "view": {**view, "state": {"values": state}},
            "response_urls": [],
        }
        return self.post(urlencode({"payload": json.dumps(payload)}))


def typed(text: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": text}


def chosen(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}


class Drafts(SlackUser):
    """The same person's requests as (body, content type), built but not sent, for a test that signs
    (or mis-signs) them its own way."""

    def post(self, body: str, content_type: str = "application/x-www-form-urlencoded", **overrides: str) -> Any:
        return body, content_type


def _mention_of(value: str) -> int | None:
    try:
        return MentionRef.of(value).mention
    except UserError:
        return None
