"""Slack's mrkdwn as HTML for the demo page, the way a Slack client shows it.

Safety comes from the order: the text is HTML-escaped first, whole, and only then are fixed tags put
around parts of it, so nothing a customer wrote can become markup. Slack's own `<…>` sequences (links,
mentions) are taken out before escaping and rendered from their parts, each escaped.
"""

import html
import re
from collections.abc import Mapping
from functools import partial
from typing import Any

EMOJI = {
    "alarm_clock": "⏰",
    "arrows_counterclockwise": "🔄",
    "bar_chart": "📊",
    "bulb": "💡",
    "cloud_with_lightning": "🌩️",
    "eyes": "👀",
    "hourglass": "⌛",
    "large_green_circle": "🟢",
    "leftwards_arrow_with_hook": "↩️",
    "link": "🔗",
    "memory": "📝",
    "ok_hand": "👌",
    "outbox_tray": "📤",
    "raised_hand": "✋",
    "red_circle": "🔴",
    "rotating_light": "🚨",
    "speech_balloon": "💬",
    "warning": "⚠️",
    "white_check_mark": "✅",
    "white_circle": "⚪",
    "zzz": "💤",
}
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_SEQUENCE = re.compile(r"<([^<>\n]*)>")
_HOLE = re.compile(r"\x00(\d+)\x00")
_CODE_BLOCK = re.compile(r"```(.+?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
# Slack formats `*bold*` only between a word boundary and a non-space: `2*3*4` stays as written.
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
)


def _in_tag(tag: str, match: re.Match[str]) -> str:
    return f"<{tag}>{match.group(1)}</{tag}>"


_QUOTE = re.compile(r"^&gt; ?(.*)$", re.MULTILINE)
_LINKABLE = ("https://", "http://", "mailto:")


class Names:
    """Who and what `<@U…>`, `<#C…>` and `<!subteam^S…>` stand for in the demo workspace."""

    def __init__(
        self, people: Mapping[str, str], channels: Mapping[str, str], groups: Mapping[str, str] | None = None
    ) -> None:
        self.people, self.channels, self.groups = people, channels, groups or {}


def emojize(text: str) -> str:
    return _EMOJI.sub(lambda match: EMOJI.get(match.group(1), match.group(0)), text)


def _unescape(text: str) -> str:
    """Slack's three entities; anything else that looks like one is text the writer typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _escape(text: str) -> str:
    return html.escape(_unescape(text), quote=True)


def _sequence(inside: str, names: Names) -> str:
    """One `<…>`: a mention, a channel, a user group, a special mention or a link; else its text, escaped."""
    target, _, label = inside.partition("|")
    if target.startswith("@"):
        name = names.people.get(target[1:]) or label or target[1:]
        return f'<span class="mention">@{_escape(name)}</span>'
    if target.startswith("#"):
        name = names.channels.get(target[1:]) or label or target[1:]
        return f'<span class="mention">#{_escape(name)}</span>'
    if target.startswith("!subteam^"):
        group = target.removeprefix("!subteam^")
        name = names.groups.get(group) or label.lstrip("@") or group
        return f'<span class="mention">@{_escape(name)}</span>'
    if target in ("!here", "!channel", "!everyone"):
        return f'<span class="mention">@{target[1:]}</span>'
    if target.startswith("!date^"):
        return _escape(label)
    if target.startswith(_LINKABLE):
        href = html.escape(_unescape(target), quote=True)
        return f'<a href="{href}" target="_blank" rel="noopener noreferrer">{_escape(label or target)}</a>'
    return _escape(f"<{inside}>")


def to_html(text: str, names: Names) -> str:
    """The HTML a Slack client would show for `text` (mrkdwn), with no markup from inside the text."""
    holes: list[str] = []

    def hold(fragment: str) -> str:
        holes.append(fragment)
        return f"\x00{len(holes) - 1}\x00"

    marked = _SEQUENCE.sub(lambda match: hold(_sequence(match.group(1), names)), text.replace("\x00", ""))
    marked = html.escape(_unescape(marked), quote=True)
    marked = _CODE_BLOCK.sub(lambda match: hold(f"<pre>{match.group(1).strip(chr(10))}</pre>"), marked)
    marked = _CODE.sub(lambda match: hold(f"<code>{match.group(1)}</code>"), marked)
    for pattern, tag in _STYLES:
        marked = pattern.sub(partial(_in_tag, tag), marked)
    marked = _QUOTE.sub(lambda match: f"<blockquote>{match.group(1)}</blockquote>", marked)
    marked = emojize(marked).replace("</blockquote>\n", "</blockquote>").replace("\n", "<br>")
    while _HOLE.search(marked):  # a code span can hold a link held before it
        marked = _HOLE.sub(lambda match: holes[int(match.group(1))], marked)
    return marked


def render_blocks(value: Any, names: Names) -> Any:
    """Block Kit with each mrkdwn text object given its `html`, and emoji codes in plain text replaced; the
    page builds everything else from plain text only."""
    if isinstance(value, list):
        return [render_blocks(item, names) for item in value]
    if not isinstance(value, dict):
        return value
    if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
        return {"type": "mrkdwn", "html": to_html(value["text"], names)}
    if value.get("type") == "plain_text" and isinstance(value.get("text"), str):
        return {"type": "plain_text", "text": emojize(value["text"]) if value.get("emoji", True) else value["text"]}
    return {key: render_blocks(item, names) for key, item in value.items()}
