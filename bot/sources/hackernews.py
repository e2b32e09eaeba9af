"""Hacker News stories and comments through Algolia's `search_by_date`, from a created-at cursor."""

from datetime import UTC, datetime
from typing import Any

import httpx

from bot.sources import Fetched, Item, PollState, SourceError
from bot.sources.http import get_json
from bot.sources.kinds import HackerNewsSource
from bot.text import html_to_text, normalize_space

PAGE_SIZE = 100
ITEM_URL = "https://news.ycombinator.com/item?id={}"


def fetch(source: HackerNewsSource, http: httpx.Client, state: PollState) -> Fetched:
    """Everything created after the newest item seen; the first poll reads the latest page."""
    since = int(state.cursor.get("created_at_i", 0))
    params: dict[str, Any] = {"query": source.query, "tags": source.tags, "hitsPerPage": PAGE_SIZE}
    if since:
        params["numericFilters"] = f"created_at_i>{since}"
    reply = get_json(http, source.base_url + "search_by_date", params=params)
    hits = reply.get("hits") if isinstance(reply, dict) else None
    if not isinstance(hits, list):
        raise SourceError("answered without a hits list")
    items = [item for hit in hits if isinstance(hit, dict) and (item := _item(hit))]
    newest = max((int(hit.get("created_at_i") or 0) for hit in hits if isinstance(hit, dict)), default=since)
    return Fetched(items=items, cursor={"created_at_i": max(newest, since)})


def _item(hit: dict[str, Any]) -> Item | None:
    object_id = str(hit.get("objectID") or "")
    text = html_to_text(str(hit.get("comment_text") or hit.get("story_text") or ""))
    title = normalize_space(str(hit.get("title") or "")) or None
    if not object_id or not (text or title):
        return None
    created = hit.get("created_at_i")
    return Item(
        external_id=object_id,
        text=text or title or "",
        title=title or (f"Re: {normalize_space(str(hit['story_title']))}" if hit.get("story_title") else None),
        url=ITEM_URL.format(object_id),
        author=normalize_space(str(hit.get("author") or "")) or None,
        shared_url=str(hit["url"]) if hit.get("url") else None,
        published_at=datetime.fromtimestamp(int(created), UTC) if isinstance(created, int | float) else None,
    )
