"""Bluesky posts through `app.bsky.feed.searchPosts` on an AppView, newest first, from a time cursor.

The cursor is the time Bluesky sorts and filters search results by (`sortAt`: the earlier of the
post's own `createdAt` and the AppView's `indexedAt`), so a post dated in the future cannot freeze it.
The first poll reads one page; later ones follow the answer's `cursor` for at most a few pages.
"""

import re
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.sources import Fetched, Item, PollState, RateLimited, SourceError
from bot.sources.http import get_json
from bot.sources.kinds import BlueskySource
from bot.text import normalize_space

PAGE_SIZE = 100
MAX_PAGES = 3
POST_URL = "https://bsky.app/profile/{}/post/{}"
_HANDLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
_POST_URI = re.compile(r"^at://(did:[a-z]+:[A-Za-z0-9._:%-]+)/app\.bsky\.feed\.post/([A-Za-z0-9._:~-]+)$")


def fetch(source: BlueskySource, http: httpx.Client, state: PollState) -> Fetched:
    """Posts sorted after the newest one seen; a later page that fails leaves the earlier ones heard."""
    since = _time(state.cursor.get("sort_at"))
    params: dict[str, Any] = {"q": source.query, "sort": "latest", "limit": PAGE_SIZE}
    if since:
        params["since"] = _iso(since)  # inclusive: the newest post seen comes back and is dropped below
    items: list[Item] = []
    newest, problem, wait = since, None, None
    for page in range(MAX_PAGES if since else 1):
        try:
            reply = get_json(http, source.base_url + "app.bsky.feed.searchPosts", params=params)
        except SourceError as error:
            if page == 0 and str(error) == "answered HTTP 403":
                raise SourceError(
                    f"{error}: the AppView refused the search (Bluesky's public one does at times)"
                ) from error
            if page == 0:
                raise
            problem, wait = f"read only {page} page(s) of new posts: {error}", _retry_after(error)
            break
        posts = reply.get("posts") if isinstance(reply, dict) else None
        if not isinstance(posts, list):
            raise SourceError("answered without a posts list")
        reached_seen = False
        for post in posts:
            sort_at = _sort_at(post) if isinstance(post, dict) else None
            reached_seen = reached_seen or bool(since and sort_at and sort_at <= since)
            if sort_at is None or (since and sort_at <= since):
                continue
            newest = max(newest, sort_at) if newest else sort_at
            if item := _item(post, sort_at):
                items.append(item)
        next_page = reply.get("cursor")
        if reached_seen or len(posts) < PAGE_SIZE or not isinstance(next_page, str) or not next_page:
            break
        params["cursor"] = next_page
    cursor = {"sort_at": _iso(newest)} if newest else None
    return Fetched(items=items, cursor=cursor, problem=problem, wait=wait)


def _item(post: dict[str, Any], sort_at: datetime) -> Item | None:
    record, author = post.get("record"), post.get("author")
    text = normalize_space(_string(record.get("text"))) if isinstance(record, dict) else ""
    match = _POST_URI.match(_string(post.get("uri")))
    if not text or not match:
        return None
    did, rkey = match.groups()
    handle = normalize_space(_string(author.get("handle"))) if isinstance(author, dict) else ""
    known = handle != "handle.invalid" and _HANDLE.match(handle)
    return Item(
        external_id=match.group(0),
        text=text,
        url=POST_URL.format(handle if known else did, rkey),
        author=f"@{handle}" if known else did,
        published_at=sort_at,
    )


def _sort_at(post: dict[str, Any]) -> datetime | None:
    record = post.get("record")
    times = [_time(record.get("createdAt")) if isinstance(record, dict) else None, _time(post.get("indexedAt"))]
    return min((moment for moment in times if moment), default=None)


def _retry_after(error: SourceError) -> float | None:
    return error.retry_after if isinstance(error, RateLimited) else None


def _time(value: object) -> datetime | None:
    """An ISO 8601 time, in UTC (one without a zone is taken as UTC); None if `value` is none."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: "0001-01-01T00:00:00+01:00" is before year 1 in UTC
        return None


def _iso(moment: datetime) -> str:
    """Exact to the microsecond: a cursor rounded down would let the newest post through again."""
    return moment.isoformat().replace("+00:00", "Z")


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""
