"""A stand-in for Slack, used by the tests and by `allears demo`: a real HTTP server on 127.0.0.1
answering the Web API methods the bot uses, with Slack's response shapes. It keeps the messages
like a workspace would (channels, threads, edits), records every call, rejects Block Kit over
Slack's limits, and can be told to answer 429 with Retry-After or 500 for a while."""

import itertools
import json
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.app.standin.serving import serve_in_thread
from bot.slack.scopes import ALL_SCOPES

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-test"
BOT_USER_ID = "U0BOT"
TEAM_ID = "T0TEST"
RESPONSE_URL = "response_url"
"""What `fail()` names to make response URLs fail (as an expired one does), and what their calls are recorded as."""

Payload = dict[str, Any]


@dataclass
class Call:
    method: str
    args: Payload
    status: int
    at: float


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[Payload]
    thread_ts: str | None = None
    metadata: Payload | None = None
    edits: int = 0

    def all_text(self) -> str:
        """Everything a reader could see, as one string, for assertions."""
        return self.text + "\n" + json.dumps(self.blocks, ensure_ascii=False)


@dataclass
class Fault:
    method: str | None
    status: int
    remaining: int | None
    until: float | None
    retry_after: int | None
    error: str | None = None

    def applies(self, method: str) -> bool:
        if self.method not in (None, method):
            return False
        if self.until is not None:
            return time.monotonic() < self.until
        return bool(self.remaining)


@dataclass
class Upload:
    """A file sent the way Slack wants it now: reserve an upload URL, POST the bytes, then complete."""

    id: str
    filename: str
    length: int
    data: bytes = b""
    completed: bool = False
    channel: str | None = None
    thread_ts: str | None = None
    title: str | None = None
    initial_comment: str | None = None


@dataclass
class _Workspace:
    channels: set[str] = field(default_factory=set)
    messages: list[Message] = field(default_factory=list)
    responses: dict[str, list[Payload]] = field(default_factory=dict)
    views: list[Payload] = field(default_factory=list)
    homes: dict[str, list[Payload]] = field(default_factory=dict)
    """Each user's published Home tab views, oldest first."""
    uploads: dict[str, Upload] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)
    """The channels a user is in; a user not listed is in every channel."""
    private: set[str] = field(default_factory=set)
    usergroups: dict[str, str] = field(default_factory=dict)
    """Each user group's id and handle."""
    scopes: frozenset[str] = ALL_SCOPES
    """What the app was granted, sent in every answer's `x-oauth-scopes` header as Slack does."""
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    random_fault: "tuple[float, random.Random, frozenset[str] | None] | None" = None
    """A fraction of calls (to some methods, or any) answered 500, drawn from a seeded RNG."""
    delay: float = 0.0
    """Seconds every Web API call waits before it is answered, as a slow Slack does."""
    unanswered: dict[str, tuple[int, float]] = field(default_factory=dict)
    """Per method: how many more calls are done but never answered, and how long each connection hangs first."""


MAX_MESSAGE_TEXT = 40_000
"""Slack cuts a message's `text` beyond this (msg_too_long for chat.postMessage)."""


def block_kit_problems(blocks: list[Payload], *, max_blocks: int = 50) -> list[str]:
    """What Slack would reject as invalid_blocks, for the limits the bot's builders must respect."""
    problems = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks > {max_blocks}")

    def text_limit(text_object: Payload | None, limit: int, where: str) -> None:
        if text_object is None:
            return
        if not text_object.get("text"):
            problems.append(f"{where}: empty text")  # "must be more than 0 characters"
        elif len(text_object["text"]) > limit:
            problems.append(f"{where}: text {len(text_object['text'])} > {limit}")

    def options_limit(element: Payload, where: str, *, most: int = 100) -> None:
        options = element.get("options", [])
        if len(options) > most:
            problems.append(f"{where}: {len(options)} options > {most}")
        for option in options:
            text_limit(option.get("text"), 75, where + " option")
            if "description" in option:
                text_limit(option["description"], 75, where + " option description")
            if not 1 <= len(option.get("value", "")) <= 150:
                problems.append(f"{where}: option value empty or longer than 150")

    def element_limits(element: Payload, where: str) -> None:
        if len(element.get("action_id", "")) > 255:
            problems.append(f"{where}: action_id too long")
        if "placeholder" in element:
            text_limit(element["placeholder"], 150, where + " placeholder")
        kind = element.get("type")
        if kind == "button":
            text_limit(element.get("text"), 75, where + " button")
            if len(element.get("value", "")) > 2000:
                problems.append(f"{where}: button value too long")
        elif kind in ("static_select", "multi_static_select", "radio_buttons"):
            options_limit(element, where)
        elif kind == "checkboxes":
            options_limit(element, where, most=10)
        elif kind == "overflow":
            options_limit(element, where, most=5)
            if not element.get("options"):
                problems.append(f"{where}: overflow without options")
        elif kind == "plain_text_input" and element.get("max_length", 0) > 3000:
            problems.append(f"{where}: max_length over 3000")

    for index, block in enumerate(blocks):
        where = f"blocks[{index}] ({block.get('type')})"
        kind = block.get("type")
        if len(block.get("block_id", "")) > 255:
            problems.append(f"{where}: block_id too long")
        if kind == "section":
            text_limit(block.get("text"), 3000, where)
            fields = block.get("fields", [])
            if len(fields) > 10:
                problems.append(f"{where}: {len(fields)} fields > 10")
            for field_object in fields:
                text_limit(field_object, 2000, where + " field")
            if "text" not in block and not fields:
                problems.append(f"{where}: section without text or fields")
            if "accessory" in block:
                element_limits(block["accessory"], where + " accessory")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 10:
                problems.append(f"{where}: {len(elements)} elements (1 to 10 allowed)")
            for element in elements:
                if element.get("type") in ("mrkdwn", "plain_text"):
                    text_limit(element, 2000, where)
        elif kind == "header":
            text_limit(block.get("text"), 150, where)
        elif kind == "actions":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 25:
                problems.append(f"{where}: {len(elements)} elements (1 to 25 allowed)")
            for element in elements:
                element_limits(element, where)
        elif kind == "input":
            text_limit(block.get("label"), 2000, where + " label")
            element_limits(block.get("element", {}), where + " element")
        elif kind not in ("divider", "image"):
            problems.append(f"{where}: unexpected block type")
    return problems


def message_problems(text: str | None, blocks: list[Payload]) -> list[str]:
    """A message's blocks, and its fallback text (what notifications show), within Slack's limits."""
    problems = block_kit_problems(blocks)
    if text is not None and len(text) > MAX_MESSAGE_TEXT:
        problems.append(f"text {len(text)} > {MAX_MESSAGE_TEXT}")
    return problems


def view_problems(view: Payload) -> list[str]:
    problems = block_kit_problems(view.get("blocks", []), max_blocks=100)
    for key in ("title", "submit", "close"):
        if key in view and len(view[key].get("text", "")) > 24:
            problems.append(f"view {key} longer than 24 characters")
    if len(view.get("private_metadata", "")) > 3000:
        problems.append("private_metadata longer than 3000 characters")
    if len(view.get("callback_id", "")) > 255:
        problems.append("callback_id longer than 255 characters")
    return problems


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # else a bot killed mid-call
            super().handle_error(request, client_address)


class FakeSlack:
    def __init__(self, *, channels: set[str] | None = None, post_interval: float | None = None) -> None:
        """`post_interval`: like Slack, answer 429 to a second chat.postMessage in a channel sooner than this."""
        self._post_interval = post_interval
        self._last_post: dict[str, float] = {}
        self._lock = threading.RLock()
        self._state = _Workspace(channels=set(channels or ()))
        self._ts = itertools.count(1)
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.socket_mode = SocketModeServer()

    # --- life cycle -------------------------------------------------------------------------------
    def start(self) -> "FakeSlack":
        serve_in_thread(self._server, "fake-slack")
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.socket_mode.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base_url}/respond/{key}"

    # --- steering ---------------------------------------------------------------------------------
    def fail(
        self,
        method: str | None = None,
        *,
        status: int = 500,
        times: int | None = None,
        seconds: float | None = None,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        """Answer `status` (and `error`) to `method` (any Web API method when None; `RESPONSE_URL` for response
        URLs) the next `times` calls or for `seconds`."""
        until = time.monotonic() + seconds if seconds is not None else None
        with self._lock:
            self._state.faults.append(Fault(method, status, times, until, retry_after, error))

    def fail_randomly(self, fraction: float, *, seed: int, methods: set[str] | None = None) -> None:
        """Answer 500 (storing nothing) to `fraction` of the calls to `methods` (any when None), reproducibly."""
        with self._lock:
            self._state.random_fault = (fraction, random.Random(seed), frozenset(methods) if methods else None)

    def slow_down(self, seconds: float) -> None:
        """Wait `seconds` before answering each Web API call (0 for full speed again)."""
        with self._lock:
            self._state.delay = seconds

    def accept_then_drop(self, method: str = "chat.postMessage", *, times: int = 1, stall: float = 0.0) -> None:
        """Do the next `times` calls to `method` (a post is stored), then hold each connection `stall` seconds and
        close it unanswered: the caller cannot tell whether Slack has its message, as when the network fails or
        the caller dies after Slack accepted a post."""
        with self._lock:
            self._state.unanswered[method] = (times, stall)

    def _unanswered(self, method: str) -> float | None:
        """How long to hold this call's connection before dropping it; None to answer it."""
        with self._lock:
            times, stall = self._state.unanswered.get(method, (0, 0.0))
            if times <= 0:
                return None
            self._state.unanswered[method] = (times - 1, stall)
            return stall

    def heal(self) -> None:
        with self._lock:
            self._state.faults.clear()
            self._state.random_fault = None
            self._state.unanswered.clear()

    def set_title(self, user_id: str, title: str) -> None:
        """The job title on the user's Slack profile."""
        with self._lock:
            self._state.titles[user_id] = title

    def grant_scopes(self, *scopes: str) -> None:
        """The app's scopes from now on, as if it was reinstalled with these (by default, the manifest's)."""
        with self._lock:
            self._state.scopes = frozenset(scopes)

    def make_private(self, *channels: str) -> None:
        with self._lock:
            self._state.channels.update(channels)
            self._state.private.update(channels)

    def add_usergroup(self, group_id: str, handle: str) -> None:
        with self._lock:
            self._state.usergroups[group_id] = handle

    def set_channels(self, user_id: str, *channels: str) -> None:
        """The channels the user is a member of (by default, every channel)."""
        with self._lock:
            self._state.members[user_id] = set(channels)

    # --- what happened ----------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._state.calls)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def messages(self, channel: str | None = None) -> list[Message]:
        with self._lock:
            return [m for m in self._state.messages if channel in (None, m.channel)]

    def cards(self, channel: str | None = None) -> list[Message]:
        """Top-level messages (not thread replies)."""
        return [m for m in self.messages(channel) if m.thread_ts is None]

    def thread(self, channel: str, ts: str) -> list[Message]:
        return [m for m in self.messages(channel) if m.thread_ts == ts]

    def responses(self, key: str) -> list[Payload]:
        with self._lock:
            return list(self._state.responses.get(key, []))

    @property
    def views(self) -> list[Payload]:
        with self._lock:
            return list(self._state.views)

    def home(self, user_id: str) -> Payload | None:
        """The Home tab the user sees now: the last view published for them."""
        with self._lock:
            published = self._state.homes.get(user_id)
            return published[-1] if published else None

    def homes_published(self, user_id: str) -> int:
        with self._lock:
            return len(self._state.homes.get(user_id, []))

    @property
    def uploads(self) -> list[Upload]:
        """Files whose upload was completed into a channel."""
        with self._lock:
            return [upload for upload in self._state.uploads.values() if upload.completed]

    def wait_for(self, condition: Callable[[], Any], *, timeout: float = 15.0, what: str = "condition") -> Any:
        """Poll `condition` until it returns something truthy; the bot works in the background."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.05)

    # --- the Web API ------------------------------------------------------------------------------
    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _api(self, method: str, args: Payload, token: str | None) -> tuple[int, Payload, dict[str, str]]:
        if self._state.delay:
            time.sleep(self._state.delay)
        injected = self._injected_fault(method)
        if injected is not None:
            return injected
        if token != (APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN):
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        answer = handler(args)
        status = answer.pop("_status", 200)
        headers = {"x-oauth-scopes": ",".join(sorted(self._state.scopes))}
        return status, answer, headers | ({"Retry-After": "1"} if status == 429 else {})

    def _injected_fault(self, method: str) -> tuple[int, Payload, dict[str, str]] | None:
        """The failure a test asked for, if this call gets one. Response URLs fail only when a fault names
        `response_url` itself: they are not Web API methods."""
        with self._lock:
            if self._state.random_fault is not None and method != RESPONSE_URL:
                fraction, rng, methods = self._state.random_fault
                if (methods is None or method in methods) and rng.random() < fraction:
                    return 500, {"ok": False, "error": "internal_error"}, {}
            for fault in self._state.faults:
                if fault.applies(method) and (method != RESPONSE_URL or fault.method == RESPONSE_URL):
                    if fault.remaining:
                        fault.remaining -= 1
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                    error = fault.error or ("ratelimited" if fault.status == 429 else "internal_error")
                    return fault.status, {"ok": False, "error": error}, headers
        return None

    def _auth_test(self, args: Payload) -> Payload:
        return {
            "ok": True,
            "url": "https://allears-test.slack.com/",
            "team": "All Ears Test",
            "user": "allears",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": "B0BOT",
            "is_enterprise_install": False,
        }

    def _check_message(self, args: Payload) -> Payload | None:
        # A user id (`U…`, or `W…` on Enterprise Grid) is the app's direct messages with them (its Messages tab),
        # as Slack allows.
        if args.get("channel") not in self._state.channels and not is_user_id(str(args.get("channel", ""))):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if len(args.get("text") or "") > MAX_MESSAGE_TEXT:
            return {"ok": False, "error": "msg_too_long"}
        blocks = _json_field(args.get("blocks")) or []
        problems = block_kit_problems(blocks)
        if problems:
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        return None

    def _chat_postMessage(self, args: Payload) -> Payload:
        with self._lock:
            refusal = self._check_message(args)
            if refusal:
                return refusal
            if self._post_interval is not None:
                last = self._last_post.get(args["channel"], float("-inf"))
                if time.monotonic() - last < self._post_interval:
                    return {"ok": False, "error": "ratelimited", "_status": 429}
                self._last_post[args["channel"]] = time.monotonic()
            thread_ts = args.get("thread_ts")
            if thread_ts and not any(m.ts == thread_ts and m.channel == args["channel"] for m in self._state.messages):
                return {"ok": False, "error": "thread_not_found"}
            message = Message(
                channel=args["channel"],
                ts=self._next_ts(),
                text=args.get("text", ""),
                blocks=_json_field(args.get("blocks")) or [],
                thread_ts=thread_ts,
                metadata=_json_field(args.get("metadata")),
            )
            self._state.messages.append(message)
            return {
                "ok": True,
                "channel": message.channel,
                "ts": message.ts,
                "message": {"type": "message", "text": message.text, "user": BOT_USER_ID, "ts": message.ts},
            }

    def _chat_update(self, args: Payload) -> Payload:
        with self._lock:
            refusal = self._check_message(args)
            if refusal:
                return refusal
            for message in self._state.messages:
                if message.channel == args["channel"] and message.ts == args.get("ts"):
                    message.text = args.get("text", "")
                    message.blocks = _json_field(args.get("blocks")) or []
                    message.edits += 1
                    return {"ok": True, "channel": message.channel, "ts": message.ts, "text": message.text}
            return {"ok": False, "error": "message_not_found"}

    def _chat_postEphemeral(self, args: Payload) -> Payload:
        with self._lock:
            refusal = self._check_message(args)
            if refusal:
                return refusal
            self._state.responses.setdefault(f"ephemeral:{args.get('user')}", []).append(args)
            return {"ok": True, "message_ts": self._next_ts()}

    def _views_open(self, args: Payload) -> Payload:
        view = _json_field(args.get("view")) or {}
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        problems = view_problems(view)
        if problems:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        with self._lock:
            number = len(self._state.views) + 1
            stored = {**view, "id": f"V{number:06d}", "hash": f"{number}.0", "trigger_id": args["trigger_id"]}
            self._state.views.append(stored)
        return {"ok": True, "view": stored}

    def _views_update(self, args: Payload) -> Payload:
        """Replaces an open modal; a `hash` other than the view's latest is refused, as Slack refuses a stale one."""
        view = _json_field(args.get("view")) or {}
        problems = view_problems(view)
        if problems:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        with self._lock:
            index = next((n for n, old in enumerate(self._state.views) if old["id"] == args.get("view_id")), None)
            if index is None:
                return {"ok": False, "error": "not_found"}
            old = self._state.views[index]
            if args.get("hash") and args["hash"] != old["hash"]:
                return {"ok": False, "error": "hash_conflict"}
            number, edits = old["hash"].split(".")
            updated = {**view, "id": old["id"], "hash": f"{number}.{int(edits) + 1}", "trigger_id": old["trigger_id"]}
            self._state.views[index] = updated
        return {"ok": True, "view": updated}

    def _apps_connections_open(self, args: Payload) -> Payload:
        return {"ok": True, "url": self.socket_mode.url}

    def _chat_getPermalink(self, args: Payload) -> Payload:
        channel, ts = args.get("channel"), args.get("message_ts")
        if channel not in self._state.channels:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://allears-test.slack.com/archives/{channel}/p{str(ts).replace('.', '')}",
        }

    def _users_info(self, args: Payload) -> Payload:
        user_id = args.get("user", "")
        name = user_name(user_id)
        return {
            "ok": True,
            "user": {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": name,
                "real_name": name.title(),
                "profile": {"title": self._state.titles.get(user_id, ""), "display_name": name},
            },
        }

    def _conversations_info(self, args: Payload) -> Payload:
        channel = args.get("channel")
        with self._lock:
            if channel not in self._state.channels:
                return {"ok": False, "error": "channel_not_found"}
            is_member = channel in self._state.members.get(BOT_USER_ID, self._state.channels)
            is_private = channel in self._state.private
        about = {"id": channel, "name": channel.lower(), "is_channel": True, "is_private": is_private}
        return {"ok": True, "channel": about | {"is_member": is_member, "is_archived": False}}

    def _conversations_open(self, args: Payload) -> Payload:
        """The app's direct message with one user (`users`), opened on first use as Slack does."""
        users = str(args.get("users") or "")
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        with self._lock:
            self._state.channels.add(im_channel(users))
        return {"ok": True, "channel": {"id": im_channel(users), "is_im": True, "user": users}}

    def _usergroups_list(self, args: Payload) -> Payload:
        with self._lock:
            groups = [
                {"id": group, "handle": handle, "date_delete": 0} for group, handle in self._state.usergroups.items()
            ]
        return {"ok": True, "usergroups": groups}

    def _views_publish(self, args: Payload) -> Payload:
        view = _json_field(args.get("view")) or {}
        user_id = args.get("user_id")
        if not user_id:
            return {"ok": False, "error": "invalid_arguments"}
        if view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["type must be home"]}}
        problems = view_problems(view)
        if problems:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        with self._lock:
            stored = {**view, "id": f"VH{user_id}"}
            self._state.homes.setdefault(user_id, []).append(stored)
        return {"ok": True, "view": stored}

    def _conversations_history(self, args: Payload) -> Payload:
        """A channel's messages, newest first; thread replies are only in `conversations.replies`. A bot reads
        only the channels it is in (`set_channels(BOT_USER_ID, …)`), though it may post in any public one."""
        with self._lock:
            if args.get("channel") not in self._state.channels:
                return {"ok": False, "error": "channel_not_found"}
            if args["channel"] not in self._state.members.get(BOT_USER_ID, self._state.channels):
                return {"ok": False, "error": "not_in_channel"}
            listed = [m for m in self._state.messages if m.channel == args["channel"] and m.thread_ts is None]
            return _history_page(listed[::-1], args)

    def _conversations_replies(self, args: Payload) -> Payload:
        """A thread: its parent, then its replies, oldest first."""
        with self._lock:
            if args.get("channel") not in self._state.channels:
                return {"ok": False, "error": "channel_not_found"}
            ts = args.get("ts")
            thread = [m for m in self._state.messages if m.channel == args["channel"] and ts in (m.ts, m.thread_ts)]
            if not thread:
                return {"ok": False, "error": "thread_not_found"}
            return _history_page(thread, args)

    def _users_conversations(self, args: Payload) -> Payload:
        user_id = args.get("user", BOT_USER_ID)
        with self._lock:
            channels = self._state.members.get(user_id, self._state.channels)
            listed = [{"id": channel, "name": channel.lower(), "is_channel": True} for channel in sorted(channels)]
        return {"ok": True, "channels": listed, "response_metadata": {"next_cursor": ""}}

    def _files_getUploadURLExternal(self, args: Payload) -> Payload:
        try:
            length = int(args.get("length", ""))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not args.get("filename") or length <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            file_id = f"F{len(self._state.uploads) + 1:06d}"
            self._state.uploads[file_id] = Upload(file_id, args["filename"], length)
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: Payload) -> Payload:
        files = _json_field(args.get("files")) or []
        channel = args.get("channel_id") or args.get("channels")
        with self._lock:
            if channel and channel not in self._state.channels:
                return {"ok": False, "error": "channel_not_found"}
            uploads = [self._state.uploads.get(entry.get("id", "")) for entry in files]
            if not files or any(upload is None or len(upload.data) != upload.length for upload in uploads):
                return {"ok": False, "error": "file_not_found"}
            for entry, upload in zip(files, uploads, strict=True):
                assert upload is not None
                upload.completed, upload.channel = True, channel
                upload.thread_ts, upload.title = args.get("thread_ts"), entry.get("title")
                upload.initial_comment = args.get("initial_comment")
            return {"ok": True, "files": [{"id": upload.id, "title": upload.title} for upload in uploads if upload]}

    def _receive_upload(self, file_id: str, data: bytes) -> bool:
        with self._lock:
            upload = self._state.uploads.get(file_id)
            if upload is None:
                return False
            upload.data = data
            return True

    def _respond(self, key: str, payload: Payload) -> None:
        with self._lock:
            self._state.responses.setdefault(key, []).append(payload)

    def _record(self, method: str, args: Payload, status: int) -> None:
        with self._lock:
            self._state.calls.append(Call(method, args, status, time.monotonic()))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _args(self) -> Payload:
                query = dict(parse_qsl(urlsplit(self.path).query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if "json" in (self.headers.get("Content-Type") or ""):
                    return query | (json.loads(raw) if raw else {})
                return query | dict(parse_qsl(raw))

            def _send(self, status: int, body: Payload, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                path = urlsplit(self.path).path
                if path.startswith("/upload/"):
                    length = int(self.headers.get("Content-Length") or 0)
                    received = fake._receive_upload(path.removeprefix("/upload/"), self.rfile.read(length))
                    fake._record("upload", {"file_id": path.removeprefix("/upload/"), "bytes": length}, 200)
                    self.send_response(200 if received else 404)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")
                    return
                args = self._args()
                if path.startswith("/respond/"):
                    injected = fake._injected_fault(RESPONSE_URL)
                    if injected is not None:
                        fake._record(RESPONSE_URL, args, injected[0])
                        self._send(*injected)
                        return
                    fake._respond(path.removeprefix("/respond/"), args)
                    fake._record(RESPONSE_URL, args, 200)
                    self._send(200, {"ok": True})
                    return
                if not path.startswith("/api/"):
                    self._send(404, {"ok": False, "error": "not_found"})
                    return
                method = path.removeprefix("/api/")
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip() or args.get("token")
                status, body, headers = fake._api(method, args, token)
                fake._record(method, args, status)
                stall = fake._unanswered(method) if body.get("ok") else None
                if stall is not None:
                    time.sleep(stall)
                    self.close_connection = True  # closed with no answer at all
                    return
                self._send(status, body, headers)

            do_GET = do_POST = _handle

        return Handler


class SocketModeServer:
    """Slack's Socket Mode end: a WebSocket that says hello, sends envelopes and collects their acks."""

    def __init__(self) -> None:
        self._server: Any = None
        self._connections: list[Any] = []
        self._acks: dict[str, Payload] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        if self._server is None:
            from websockets.sync.server import serve

            self._server = serve(self._session, "127.0.0.1", 0)
            threading.Thread(target=self._server.serve_forever, name="fake-socket-mode", daemon=True).start()
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link/?ticket=test"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()

    @property
    def connected(self) -> bool:
        with self._lock:
            return bool(self._connections)

    def send(self, kind: str, payload: Payload) -> str:
        """Deliver an envelope (slash_commands, interactive, events_api) to the connected app."""
        envelope_id = f"envelope-{next(self._ids)}"
        message = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        with self._lock:
            connection = self._connections[-1]
        connection.send(json.dumps(message))
        return envelope_id

    def ack(self, envelope_id: str) -> Payload | None:
        with self._lock:
            return self._acks.get(envelope_id)

    def _session(self, connection: Any) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}}))
        with self._lock:
            self._connections.append(connection)
        try:
            for raw in connection:
                message = json.loads(raw)
                if "envelope_id" in message:
                    with self._lock:
                        self._acks[message["envelope_id"]] = message
        finally:
            with self._lock:
                self._connections.remove(connection)


def is_user_id(text: str) -> bool:
    """A person's id: `U…`, or `W…` for people of an Enterprise Grid organization."""
    return text[:1] in ("U", "W")


def user_name(user_id: str) -> str:
    """The handle the stand-in gives a person: `U_ANA` and `W_ANA` are both `ana`."""
    return user_id.removeprefix("U_").removeprefix("W_").lower()


def im_channel(user_id: str) -> str:
    """The id of the app's direct message with the user, once `conversations.open` opened it."""
    return f"D{user_id}"


def _history_page(messages: list[Message], args: Payload) -> Payload:
    """Slack's reading of history: `oldest` and `latest` exclusive, `limit` per page, a cursor to the next one, and
    message metadata only when `include_all_metadata` asks for it."""
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
    within = [message for message in messages if oldest < float(message.ts) < latest]
    start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
    with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
    listed = []
    for message in within[start : start + limit]:
        item: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": "B0BOT",
            "text": message.text,
            "ts": message.ts,
        }
        item |= {"thread_ts": message.thread_ts} if message.thread_ts else {}
        item |= {"metadata": message.metadata} if with_metadata and message.metadata else {}
        listed.append(item)
    more = start + limit < len(within)
    cursor = str(start + limit) if more else ""
    return {"ok": True, "messages": listed, "has_more": more, "response_metadata": {"next_cursor": cursor}}


def _json_field(value: Any) -> Any:
    """Form-encoded calls carry blocks and views as JSON strings; JSON calls carry them as objects."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value
