"""Stack Exchange questions through `search/advanced` on one site, newest first, from a creation-date cursor.

The API asks for a pause in the answer itself (`backoff`, seconds), and explains a refusal only in
its body (`error_name`, `error_message`), throttling included: both are honoured.
"""

import html
import re
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.configtypes import secret
from bot.sources import Fetched, Item, PollState, RateLimited, SourceError
from bot.sources.fields import string, whole
from bot.sources.http import HttpStatusError, get_json
from bot.sources.kinds import StackExchangeSource
from bot.text import html_to_text, normalize_space

PAGE_SIZE = 100
_WAIT = re.compile(r"available in (\d+) seconds")
SEARCH = {"order": "desc", "sort": "creation", "filter": "withbody", "pagesize": PAGE_SIZE}


def fetch(source: StackExchangeSource, http: httpx.Client, state: PollState) -> Fetched:
    """Questions created after the newest one seen; the first poll reads the latest page."""
    since = _seconds(state.cursor.get("creation_date")) or 0
    params: dict[str, Any] = {"q": source.query, "site": source.site, **SEARCH}
    if since:
        params["fromdate"] = since  # inclusive: the newest question seen comes back and is dropped below
    key = secret(source.key_env)
    if key:
        params["key"] = key
    try:
        reply = get_json(http, source.base_url + "search/advanced", params=params)
    except HttpStatusError as error:
        if explained := _refusal(error.json(), key):
            raise explained from error
        raise
    if not isinstance(reply, dict):
        raise SourceError("answered without a response wrapper")
    if refusal := _refusal(reply, key):
        raise refusal
    questions = reply.get("items")
    if not isinstance(questions, list):
        raise SourceError("answered without an items list")
    items, newest = [], since
    for question in questions:
        created = _seconds(question.get("creation_date")) if isinstance(question, dict) else None
        if created is None or created <= since:
            continue
        newest = max(newest, created)
        if item := _item(question, created):
            items.append(item)
    # A full page after the cursor means more arrived than one poll reads; the oldest of them are lost.
    problem = "more new questions than one page; the oldest were skipped" if since and reply.get("has_more") else None
    wait = _seconds(reply.get("backoff"))
    return Fetched(items=items, cursor={"creation_date": newest}, wait=wait, problem=problem)


def _item(question: dict[str, Any], created: int) -> Item | None:
    question_id, link = question.get("question_id"), string(question.get("link"))
    # Titles and names come HTML-encoded ("can&#39;t"), bodies as HTML (filter=withbody).
    title = normalize_space(html.unescape(string(question.get("title")))) or None
    text = html_to_text(string(question.get("body")))
    if whole(question_id) is None or not (text or title):
        return None
    owner = question.get("owner")
    owner = owner if isinstance(owner, dict) else {}
    return Item(
        external_id=str(question_id),
        text=text or title or "",
        title=title,
        url=link if link.startswith(("https://", "http://")) else None,
        author=normalize_space(html.unescape(string(owner.get("display_name")))) or None,
        published_at=datetime.fromtimestamp(created, UTC),
        author_reach=whole(owner.get("reputation")),
    )


def _refusal(wrapper: Any, key: str | None) -> SourceError | None:
    """The SourceError for an error wrapper (`throttle_violation` a RateLimited), or None if it is none."""
    name = wrapper.get("error_name") if isinstance(wrapper, dict) else None
    if not isinstance(name, str) or not name:
        return None
    message = normalize_space(string(wrapper.get("error_message")))[:300]
    if key:
        message = message.replace(key, "(key)")
    text = f"answered {name}: {message}" if message else f"answered {name}"
    if name == "throttle_violation":
        wait = _WAIT.search(message)
        return RateLimited(text, retry_after=float(wait.group(1)) if wait else None)
    return SourceError(text)


def _seconds(value: object) -> int | None:
    """A positive number of seconds (a time since the epoch, or a wait), if `value` is a plausible one."""
    number = whole(value)
    return number if number is not None and 0 < number < 32_503_680_000 else None  # before the year 3000
