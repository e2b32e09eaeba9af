"""Hacker News stories and comments through Algolia's `search_by_date`, from a created-at cursor."""

from datetime import datetime
from typing import Any

import httpx

from bot.ground.config_sources import HackerNewsSource
from bot.ground.text import html_to_text, normalize_space
from bot.hear.sources import Fetched, Item, PollState, SourceError
from bot.hear.sources.fields import epoch, fresh, identifier, reread_from, string, unread
from bot.hear.sources.http import get_json

PAGE_SIZE = 100
ITEM_URL = "https://news.ycombinator.com/item?id={}"


def fetch(source: HackerNewsSource, http: httpx.Client, state: PollState) -> Fetched:
    """The newest page since the overlap before the newest item seen; the first poll reads the latest."""
    since = epoch(state.cursor.get("created_at_i"))
    floor = reread_from(since)
    params: dict[str, Any] = {"query": source.query, "tags": source.tags, "hitsPerPage": PAGE_SIZE}
    if floor:
        params["numericFilters"] = f"created_at_i>{int(floor.timestamp())}"
    reply = get_json(http, source.base_url + "search_by_date", params=params)
    hits = reply.get("hits") if isinstance(reply, dict) else None
    if not isinstance(hits, list):
        raise SourceError("answered without a hits list")
    dated = ((hit, epoch(hit.get("created_at_i"))) for hit in hits if isinstance(hit, dict))
    kept, newest, cut_short = fresh(dated, since=since, floor=floor, page_size=PAGE_SIZE)
    return Fetched(
        items=[item for hit, created in kept if (item := _item(hit, created))],
        cursor={"created_at_i": int(newest.timestamp())} if newest else None,
        problem=unread(PAGE_SIZE) if cut_short else None,
    )


def _item(hit: dict[str, Any], created: datetime) -> Item | None:
    object_id = hit.get("objectID")
    text = html_to_text(string(hit.get("comment_text")) or string(hit.get("story_text")))
    title = normalize_space(string(hit.get("title"))) or None
    if not isinstance(object_id, str) or not object_id or not (text or title):
        return None
    story = normalize_space(string(hit.get("story_title")))
    link = string(hit.get("url"))
    return Item(
        external_id=object_id,
        text=text or title or "",
        title=title or (f"Re: {story}" if story else None),
        url=ITEM_URL.format(object_id),
        author=normalize_space(string(hit.get("author"))) or None,
        shared_url=link if link.startswith(("https://", "http://")) else None,
        published_at=created,
        thread=identifier(hit.get("story_id")) or object_id,  # a comment's story; a story is its own
    )
