"""Stack Exchange questions through `search/advanced` on one site, newest first, from a creation-date cursor.

The API asks for a pause in the answer itself (`backoff`, seconds), and explains a refusal only in
its body (`error_name`, `error_message`), throttling included: both are honoured.
"""

import html
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import httpx

from bot.configtypes import secret
from bot.sources import Fetched, Item, PollState, RateLimited, SourceError
from bot.sources.http import get_json
from bot.sources.kinds import StackExchangeSource
from bot.text import html_to_text, normalize_space

PAGE_SIZE = 100
ERROR_BODY_BYTES = 16 * 1024
ERROR_BODY_SECONDS = 5.0
_WAIT = re.compile(r"available in (\d+) seconds")
SEARCH = {"order": "desc", "sort": "creation", "filter": "withbody", "pagesize": PAGE_SIZE}


def fetch(source: StackExchangeSource, http: httpx.Client, state: PollState) -> Fetched:
    """Questions created after the newest one seen; the first poll reads the latest page."""
    since = _whole(state.cursor.get("creation_date")) or 0
    params: dict[str, Any] = {"q": source.query, "site": source.site, **SEARCH}
    if since:
        params["fromdate"] = since  # inclusive: the newest question seen comes back and is dropped below
    key = secret(source.key_env)
    if key:
        params["key"] = key
    client = _KeepingRefusal(http)
    try:
        reply = get_json(cast(httpx.Client, client), source.base_url + "search/advanced", params=params)
    except SourceError:
        explained = _refusal(client.refusal, key)
        if explained is None:
            raise
        raise explained from None
    if not isinstance(reply, dict):
        raise SourceError("answered without a response wrapper")
    if refusal := _refusal(reply, key):
        raise refusal
    questions = reply.get("items")
    if not isinstance(questions, list):
        raise SourceError("answered without an items list")
    items, newest = [], since
    for question in questions:
        created = _whole(question.get("creation_date")) if isinstance(question, dict) else None
        if created is None or created <= since:
            continue
        newest = max(newest, created)
        if item := _item(question, created):
            items.append(item)
    # A full page after the cursor means more arrived than one poll reads; the oldest of them are lost.
    problem = "more new questions than one page; the oldest were skipped" if since and reply.get("has_more") else None
    wait = _whole(reply.get("backoff"))
    return Fetched(items=items, cursor={"creation_date": newest}, wait=wait, problem=problem)


def _item(question: dict[str, Any], created: int) -> Item | None:
    question_id, link = question.get("question_id"), _string(question.get("link"))
    # Titles and names come HTML-encoded ("can&#39;t"), bodies as HTML (filter=withbody).
    title = normalize_space(html.unescape(_string(question.get("title")))) or None
    text = html_to_text(_string(question.get("body")))
    if isinstance(question_id, bool) or not isinstance(question_id, int) or not (text or title):
        return None
    owner = question.get("owner") if isinstance(question.get("owner"), dict) else {}
    reputation = owner.get("reputation")
    return Item(
        external_id=str(question_id),
        text=text or title or "",
        title=title,
        url=link if link.startswith(("https://", "http://")) else None,
        author=normalize_space(html.unescape(_string(owner.get("display_name")))) or None,
        published_at=datetime.fromtimestamp(created, UTC),
        author_reach=reputation if isinstance(reputation, int) and not isinstance(reputation, bool) else None,
    )


def _refusal(wrapper: Any, key: str | None) -> SourceError | None:
    """The SourceError for an error wrapper (`throttle_violation` a RateLimited), or None if it is none."""
    name = wrapper.get("error_name") if isinstance(wrapper, dict) else None
    if not isinstance(name, str) or not name:
        return None
    message = normalize_space(_string(wrapper.get("error_message")))[:300]
    if key:
        message = message.replace(key, "(key)")
    text = f"answered {name}: {message}" if message else f"answered {name}"
    if name == "throttle_violation":
        wait = _WAIT.search(message)
        return RateLimited(text, retry_after=float(wait.group(1)) if wait else None)
    return SourceError(text)


class _KeepingRefusal:
    """Stands in for the client so that `http.get` works as always, keeping the JSON of a refusal,
    which `http.get` drops: only there does Stack Exchange say why, and how long to wait."""

    def __init__(self, http: httpx.Client) -> None:
        self._http, self.refusal = http, None

    @contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[httpx.Response]:
        with self._http.stream(method, url, **kwargs) as response:
            if response.status_code >= 400:
                self.refusal = _json_start(response)
            yield response


def _json_start(response: httpx.Response) -> Any:
    """A refusal's JSON, read up to a size and a deadline; None if it is something else."""
    body, deadline = b"", time.monotonic() + ERROR_BODY_SECONDS
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) >= ERROR_BODY_BYTES or time.monotonic() > deadline:
            break
    try:
        return json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return None


def _whole(value: object) -> int | None:
    """A positive number of seconds (a time since the epoch, or a wait), if `value` is a plausible one."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value < 32_503_680_000 else None  # before the year 3000


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""
