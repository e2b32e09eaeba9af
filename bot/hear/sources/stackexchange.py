"""Stack Exchange questions through `search/advanced` on one site, newest first, from a creation-date cursor.

The answer itself asks for a pause (`backoff`, seconds) and tells what is left of the daily quota
(`quota_remaining`, reset when the UTC day turns); a refusal is explained only in the body
(`error_name`, `error_message`), throttling included. All are honoured.
"""

import html
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx

from bot.ground.clock import utcnow
from bot.ground.config_sources import StackExchangeSource
from bot.ground.config_types import secret
from bot.ground.text import html_to_text, normalize_space
from bot.hear.sources import Fetched, Item, PollState, RateLimited, SourceError
from bot.hear.sources.fields import epoch, fresh, reread_from, string, unread, whole
from bot.hear.sources.http import HttpStatusError, get_json

PAGE_SIZE = 100
_WAIT = re.compile(r"available in (\d+) seconds")
SEARCH = {"order": "desc", "sort": "creation", "filter": "withbody", "pagesize": PAGE_SIZE}
QUOTA_RESERVE = 10
"""Requests of the daily quota left for restarts and whoever else shares the key or the address."""


def fetch(source: StackExchangeSource, http: httpx.Client, state: PollState) -> Fetched:
    """Questions since the overlap before the newest one seen; the first poll reads the latest page."""
    since = epoch(state.cursor.get("creation_date"))
    floor = reread_from(since)
    params: dict[str, Any] = {"q": source.query, "site": source.site, **SEARCH}
    if floor:
        params["fromdate"] = int(floor.timestamp())
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
    dated = ((question, epoch(question.get("creation_date"))) for question in questions if isinstance(question, dict))
    kept, newest, cut_short = fresh(dated, since=since, floor=floor, page_size=PAGE_SIZE)
    return Fetched(
        items=[item for question, created in kept if (item := _item(question, created))],
        cursor={"creation_date": int(newest.timestamp())} if newest else None,
        wait=_wait(reply),
        problem=unread(PAGE_SIZE) if cut_short else None,
    )


def _wait(reply: dict[str, Any]) -> float | None:
    """The pause asked for (`backoff`), or the rest of the UTC day once the daily quota runs low."""
    backoff = whole(reply.get("backoff"))
    wait = float(backoff) if backoff and backoff > 0 else None
    remaining = whole(reply.get("quota_remaining"))
    if remaining is not None and remaining < QUOTA_RESERVE:
        now = utcnow()
        tomorrow = datetime.combine(now.date() + timedelta(days=1), time(), UTC)
        wait = max(wait or 0.0, (tomorrow - now).total_seconds())
    return wait


def _item(question: dict[str, Any], created: datetime) -> Item | None:
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
        published_at=created,
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
