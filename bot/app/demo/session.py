"""What each demo person sees and does: the stand-in Slack's channels as they hold them, and the signed
requests a Slack client would send to the bot for a click, a slash command or a form."""

import json
import threading
from typing import Any

import httpx

from bot.app.demo.mrkdwn import Names, render_blocks, to_html
from bot.app.demo.workspace import CHANNELS, PEOPLE, USER_GROUPS
from bot.app.standin.slack import FakeSlack, Message, Payload
from bot.app.standin.users import SlackUser
from bot.ground.errors import UserError

COMMANDS = ("/claim", "/unclaim", "/reply", "/escalate", "/resolve", "/reopen", "/snooze", "/allears")
"""The slash commands the app's manifest declares; Slack refuses others before the bot hears of them."""
FIRST_CHANNEL = next(iter(CHANNELS))


class DemoWorkspace:
    def __init__(self, slack: FakeSlack, bot_url: str, *, secret: str) -> None:
        self._slack = slack
        self._http = httpx.Client()
        self._users = {person.id: SlackUser(person.id, bot_url, slack, self._http, secret=secret) for person in PEOPLE}
        self._lock = threading.Lock()
        self._acting = threading.Lock()
        """One request to the bot at a time: a SlackUser remembers only its latest response URL and trigger."""
        self._answers: dict[str, list[tuple[str, str]]] = {person.id: [] for person in PEOPLE}
        """Each person's response URLs (by key) with the channel they acted in: their private answers."""
        self._triggers: dict[str, set[str]] = {person.id: set() for person in PEOPLE}
        self._closed: set[str] = set()
        self._order: dict[tuple[str, ...], int] = {}
        """When each private answer was first seen, so they are listed in the order they arrived."""
        self.names = Names({person.id: person.name for person in PEOPLE}, CHANNELS, USER_GROUPS)

    def close(self) -> None:
        self._http.close()

    def _user(self, user_id: object) -> SlackUser:
        user = self._users.get(user_id) if isinstance(user_id, str) else None
        if user is None:
            raise UserError(f"there is no demo person {user_id!r}")
        return user

    def _sent(self, user: SlackUser, channel: str, response: httpx.Response) -> dict[str, Any]:
        """Remember where the bot answers this person (their response URL) and which modals are theirs."""
        with self._lock:
            self._answers[user.user_id].append((user.last_response_key, channel))
            self._triggers[user.user_id].add(user.last_trigger_id)
        return {"status": response.status_code}

    # --- what a person does ---------------------------------------------------------------------------
    def open_home(self, user_id: str) -> dict[str, Any]:
        """The person opens the app's Home tab: Slack tells the bot, which publishes the tab's view."""
        return {"status": self._user(user_id).open_home().status_code}

    def click(self, user_id: str, *, channel: str, ts: str, action: Payload) -> dict[str, Any]:
        """A button, or an option of a menu, in a message or in the person's Home tab."""
        user = self._user(user_id)
        action_id, value = str(action.get("action_id", "")), str(action.get("value", ""))
        kind = "static_select" if action.get("type") == "static_select" else "button"
        with self._acting:
            if not action.get("home"):
                press = user.choose if kind == "static_select" else user.click
                block_id = str(action.get("block_id") or "card_actions")
                return self._sent(
                    user, channel, press(action_id, value, channel=channel, message_ts=ts, block_id=block_id)
                )
            home = self._slack.home(user_id)
            if home is None:
                raise UserError("open the Home tab first")
            try:
                response = user.click_in_home(action_id, value, home=home, kind=kind)
            except StopIteration:
                raise UserError("that is no longer in your Home tab") from None
            with self._lock:  # answers to the Home's buttons come as direct messages; only a modal is to track
                self._triggers[user_id].add(user.last_trigger_id)
            return {"status": response.status_code}

    def command(self, user_id: str, line: str, *, channel: str) -> dict[str, Any]:
        user = self._user(user_id)
        command, _, text = line.strip().partition(" ")
        if command not in COMMANDS:
            raise UserError(f"{command or 'that'} is not a command here; try {', '.join(COMMANDS)}")
        where = channel if channel in CHANNELS else FIRST_CHANNEL  # a command typed in the app's DMs
        with self._acting:
            return self._sent(user, where, user.command(command, text.strip(), channel=where))

    def submit(self, user_id: str, view_id: str, values: dict[str, Payload]) -> dict[str, Any]:
        """A modal's form, as Slack sends it: each input's state under its block id."""
        user = self._user(user_id)
        view = self._open_view(user_id, view_id)
        elements = {block.get("block_id"): block.get("element", {}) for block in view.get("blocks", [])}
        state = {
            block_id: _state(elements[block_id], value) for block_id, value in values.items() if block_id in elements
        }
        response = user.submit(view, state)
        errors = _field_errors(response)
        if errors:  # as in Slack, the modal stays open, with what was typed, and each error under its field
            return {"status": response.status_code, "errors": errors}
        with self._lock:
            self._closed.add(view_id)
        return {"status": response.status_code}

    def dismiss(self, user_id: str, view_id: str) -> None:
        self._open_view(user_id, view_id)
        with self._lock:
            self._closed.add(view_id)

    def _open_view(self, user_id: str, view_id: str) -> Payload:
        view = next((view for view in self._slack.views if view["id"] == view_id), None)
        with self._lock:
            if view is None or view["trigger_id"] not in self._triggers[user_id] or view_id in self._closed:
                raise UserError("that form is closed")
        return view

    # --- what a person sees ---------------------------------------------------------------------------
    def state(self, user_id: str) -> dict[str, Any]:
        self._user(user_id)
        messages = [m for m in self._slack.messages() if m.channel in CHANNELS or m.channel == user_id]
        files = [
            {
                "thread_ts": upload.thread_ts,
                "channel": upload.channel,
                "url": f"files/{upload.id}",
                "title": upload.title or upload.filename,
            }
            for upload in self._slack.uploads
        ]
        tops = [self._message(m, files) for m in messages if m.thread_ts is None]
        replies: dict[tuple[str, str | None], list[Payload]] = {}
        for message in messages:
            if message.thread_ts is not None:
                replies.setdefault((message.channel, message.thread_ts), []).append(self._message(message, files))
        for top in tops:
            top["thread"] = replies.get((top["channel"], top["ts"]), [])
        channels = [
            {"id": channel, "name": name, "count": sum(1 for top in tops if top["channel"] == channel)}
            for channel, name in CHANNELS.items()
        ]
        channels.append(
            {
                "id": user_id,
                "name": "All Ears",
                "dm": True,
                "count": sum(1 for top in tops if top["channel"] == user_id),
            }
        )
        return {
            "channels": channels,
            "messages": tops,
            "private": self._private(user_id),
            "modal": self._modal(user_id),
            "home": render_blocks(home["blocks"], self.names) if (home := self._slack.home(user_id)) else None,
        }

    def _message(self, message: Message, files: list[Payload]) -> Payload:
        return {
            "channel": message.channel,
            "ts": message.ts,
            "blocks": render_blocks(message.blocks, self.names) if message.blocks else None,
            "html": to_html(message.text, self.names),
            "edited": message.edits > 0,
            "files": [f for f in files if f["channel"] == message.channel and f["thread_ts"] == message.ts],
        }

    def _private(self, user_id: str) -> list[Payload]:
        """Answers only this person sees: through response URLs, and chat.postEphemeral."""
        with self._lock:
            answers = list(self._answers[user_id])
        found: list[tuple[tuple[str, ...], str, Payload]] = []
        for key, channel in answers:
            for index, payload in enumerate(self._slack.responses(key)):
                found.append((("response", key, str(index)), channel, payload))
        for index, payload in enumerate(self._slack.responses(f"ephemeral:{user_id}")):
            found.append((("ephemeral", str(index)), str(payload.get("channel", "")), payload))
        with self._lock:
            for identity, _, _ in found:
                self._order.setdefault(identity, len(self._order))
            ordered = sorted(found, key=lambda item: self._order[item[0]])
        return [
            {"seq": self._order[identity], "channel": channel, **self._content(payload)}
            for identity, channel, payload in ordered
        ]

    def _content(self, payload: Payload) -> Payload:
        blocks = payload.get("blocks")
        if isinstance(blocks, str):  # form-encoded calls carry blocks as JSON text
            blocks = json.loads(blocks)
        return {
            "blocks": render_blocks(blocks, self.names) if blocks else None,
            "html": to_html(str(payload.get("text") or ""), self.names),
        }

    def _modal(self, user_id: str) -> Payload | None:
        with self._lock:
            mine = [
                view
                for view in self._slack.views
                if view["trigger_id"] in self._triggers[user_id] and view["id"] not in self._closed
            ]
        if not mine:
            return None
        view = mine[-1]
        return {key: render_blocks(view.get(key), self.names) for key in ("id", "title", "submit", "close", "blocks")}

    def upload(self, file_id: str) -> bytes | None:
        return next((upload.data for upload in self._slack.uploads if upload.id == file_id), None)


def _state(element: Payload, value: Any) -> Payload:
    """One input's value in a view_submission, shaped by the kind of element it came from."""
    kind = element.get("type")
    options = {option["value"]: option["text"] for option in element.get("options", [])}
    if kind in ("static_select", "radio_buttons"):
        chosen = str(value) if value else None
        selected = {"text": options.get(chosen), "value": chosen} if chosen in options else None
        return {"type": kind, "selected_option": selected}
    if kind == "checkboxes":
        picked = [str(item) for item in value or [] if str(item) in options]
        return {"type": kind, "selected_options": [{"text": options[item], "value": item} for item in picked]}
    if kind == "datetimepicker":
        moment = str(value).strip() if isinstance(value, int | str) else ""
        return {"type": kind, "selected_date_time": int(moment) if moment.isdigit() else None}
    return {"type": kind or "plain_text_input", "value": str(value) if value else None}


def _field_errors(response: httpx.Response) -> dict[str, str]:
    """The bot's `response_action: errors` answer to a submission, if that is what it answered."""
    try:
        answer = response.json() if response.content else {}
    except ValueError:
        return {}
    if not isinstance(answer, dict) or answer.get("response_action") != "errors":
        return {}
    return {str(block): str(message) for block, message in (answer.get("errors") or {}).items()}
