"""A Slack message's markup (`<@W222>`, `<#C123|general>`, `<https://x.example|the docs>`, `<!here>`, `&amp;`) read
as the plain text people see in Slack, for a message forwarded as a customer's words.

The card escapes that text again, as it escapes every customer's words, so nothing read here can ping anyone."""

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from bot.slack.escapes import typed_text

log = logging.getLogger(__name__)

_MARKUP = re.compile(r"<([@#!][^<>|]*|[^<>|\s]+)(?:\|([^<>]*))?>")
"""`<target|label>`; a link's target has no spaces (a date's format may), so a stray `<` a sender typed stays text."""
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?://)?", re.IGNORECASE)
_BROADCASTS = {"here", "channel", "everyone"}

Name = Callable[[str], str]
"""An id's name (a person's, a channel's), or the id itself when it cannot be had."""


def message_text(markup: str, *, person: Name, channel: Name) -> str:
    """The text as Slack shows it: names, labels with their links, plain words. Slack's three escapes are undone
    last, in what the sender wrote only (not in names looked up), so a typed `&lt;@U1&gt;` stays text."""
    parts: list[str] = []
    end = 0
    for found in _MARKUP.finditer(markup):
        parts += [typed_text(markup[end : found.start()]), _read(found[1], typed_text(found[2] or ""), person, channel)]
        end = found.end()
    return "".join([*parts, typed_text(markup[end:])])


def _read(target: str, label: str, person: Name, channel: Name) -> str:
    match target[:1]:
        case "@":
            return "@" + (label or person(target[1:]))
        case "#":
            return "#" + (label or channel(target[1:]))
        case "!":
            return _special(target[1:], label)
    url = typed_text(target)
    if not label or label in (url, _SCHEME.sub("", url)):
        return label or url
    return f"{label} ({url})"


def _special(command: str, label: str) -> str:
    """`<!here>` and the like are read as words; a user group and a date as the text Slack gives with them."""
    name, _, rest = command.partition("^")
    if name in _BROADCASTS:
        return "@" + name
    return label or ("@" + rest if name == "subteam" else name)


class Names:
    """People's and channels' names from the Web API, each kept `keep_for` seconds (at most `most` of them) by
    the process, so a message naming the same people costs no calls; one Slack will not give is shown as its id,
    and asked for again next time."""

    def __init__(
        self, *, keep_for: float = 3600.0, most: int = 5000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._keep_for, self._most, self._clock = keep_for, most, clock
        self._kept: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def person(self, client: WebClient, user_id: str) -> str:
        return self._name(f"@{user_id}", user_id, lambda: _display_name(client.users_info(user=user_id)["user"]))

    def channel(self, client: WebClient, channel_id: str) -> str:
        return self._name(
            f"#{channel_id}", channel_id, lambda: client.conversations_info(channel=channel_id)["channel"]["name"]
        )

    def _name(self, key: str, fallback: str, look_up: Callable[[], Any]) -> str:
        now = self._clock()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[1] > now:
                return kept[0]
        try:
            name = str(look_up() or "").strip()
        except Exception as error:  # a missing scope, a channel the bot cannot see, an outage: the id will do
            log.warning("looking up the name of %s failed (%s); showing its id", fallback, error)
            return fallback
        if not name:
            return fallback
        with self._lock:
            self._kept.pop(key, None)
            self._kept[key] = (name, now + self._keep_for)
            while len(self._kept) > self._most:
                self._kept.popitem(last=False)
        return name


def _display_name(user: dict[str, Any]) -> str:
    """The name Slack shows for a person: their display name, else their full name, else their handle."""
    profile = user.get("profile") or {}
    return profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name") or ""
