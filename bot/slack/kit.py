"""Block Kit primitives that enforce Slack's limits, so no builder can produce a rejected payload.

Free text written by customers or colleagues goes through `bot.ground.text.safe_mrkdwn` and into `verbatim`
text objects: `<!channel>`, `<@U123>` or `@here` in it can never notify anyone.
"""

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from bot.ground.text import REORDERING_OR_HIDING, safe_mrkdwn, truncate, without_reordering_or_hiding

Block = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
SECTION_TEXT = 3000
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 2000
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
FALLBACK_TEXT = 3000
MODAL_TITLE = 24
OPTION_TEXT = 75
OPTION_VALUE = 150
OVERFLOW_OPTIONS = 5
INPUT_LABEL = 2000
INPUT_MAX_LENGTH = 3000
PRIVATE_METADATA = 3000
MAX_LINKED_URL = 1500
MAX_SHOWN_HOST = 255

_C0_OR_SPACE = "".join(map(chr, range(0x21)))
"""What `urlsplit` strips from a URL's start before it reads the scheme, as browsers do."""
_UNSAFE_URL_CHARS = re.compile(r"[<>|\s\"\x00-\x1f\x7f-\x9f]|" + REORDERING_OR_HIDING.pattern)


def mrkdwn(text: str, *, limit: int = SECTION_TEXT) -> Block:
    """A mrkdwn text object for text the bot composed; parts from users must already be escaped."""
    return {"type": "mrkdwn", "text": truncate(text, limit), "verbatim": True}


def plain(text: str, *, limit: int) -> Block:
    """plain_text pings nobody, but shows what would reorder or hide a customer's words, so that is dropped."""
    return {"type": "plain_text", "text": truncate(without_reordering_or_hiding(text), limit) or " ", "emoji": True}


def section(text: str, *, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text, limit=CONTEXT_TEXT) for text in texts[:CONTEXT_ELEMENTS]]}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(text, limit=BUTTON_TEXT),
        "action_id": action_id,
        "value": value[:BUTTON_VALUE],
    }
    if style:
        element["style"] = style
    return element


def overflow(action_id: str, options: list[tuple[str, str]]) -> Block:
    """A "⋯" menu of (label, value) options: Slack shows at most five."""
    if not 1 <= len(options) <= OVERFLOW_OPTIONS or any(len(value) > OPTION_VALUE for _, value in options):
        raise ValueError(f"an overflow menu takes 1 to {OVERFLOW_OPTIONS} options of values up to {OPTION_VALUE}")
    return {
        "type": "overflow",
        "action_id": action_id,
        "options": [{"text": plain(label, limit=OPTION_TEXT), "value": value} for label, value in options],
    }


def actions(block_id: str, *elements: Block) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def user(user_id: str) -> str:
    """A user reference; the id comes from Slack's own payload, never from customer text."""
    return f"<@{user_id}>"


def link(url: str | None, label: str) -> str:
    """`label` (already escaped) linked to `url` when it is a plain http(s) URL, else the label alone."""
    url = (url or "").lstrip(_C0_OR_SPACE)
    if not url:
        return label
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return label
    safe_url = _UNSAFE_URL_CHARS.sub(lambda match: quote(match.group()), url)
    if scheme not in ("http", "https") or len(safe_url) > MAX_LINKED_URL:
        return label
    return f"<{safe_url}|{label}>"


def link_with_host(url: str | None, label: str, *, bold: bool = False) -> str:
    """`link` for a label the sender chose (a title, their words), with the host it really goes to beside it: a
    title "bank.com" cannot hide a link to evil.example. Labels the bot writes itself need no host."""
    linked = link(url, label)
    if not url or linked == label:
        return f"*{label}*" if bold else label
    shown = f"*{linked}*" if bold else linked
    host = urlsplit(url).hostname  # lower-case, without who or which port; `xn--` names stay as written
    return f"{shown} ({safe_mrkdwn(host, MAX_SHOWN_HOST)})" if host else shown


def date(moment: datetime, *, style: str = "{date_short_pretty} at {time}") -> str:
    """Shown in each reader's own time zone; the fallback text is UTC."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{style}|{fallback}>"
