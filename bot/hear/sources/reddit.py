"""Reddit posts through `search.json` (optionally within one subreddit), from a created-at cursor.

Reddit has no "since" parameter: each poll reads the newest page and keeps what is newer than the
cursor less the overlap. It states its quota in headers on every answer, so a spent quota is honoured
before a 429.
"""

from datetime import datetime
from typing import Any

import httpx

from bot.ground.config_sources import RedditSource
from bot.ground.text import normalize_space
from bot.hear.sources import Fetched, Item, PollState, SourceError
from bot.hear.sources.fields import decode_json, epoch, fresh, reread_from, string, unread
from bot.hear.sources.http import get, rate_limit_wait

PAGE_SIZE = 100
SITE = "https://www.reddit.com"


def fetch(source: RedditSource, http: httpx.Client, state: PollState) -> Fetched:
    """The newest page of posts; those from before the overlap before the newest one seen are dropped."""
    since = epoch(state.cursor.get("created_utc"))
    path = f"r/{source.subreddit}/search.json" if source.subreddit else "search.json"
    # raw_json=1: without it Reddit escapes &, < and > in every text field.
    params: dict[str, Any] = {"q": source.query, "sort": "new", "t": "all", "limit": PAGE_SIZE, "raw_json": 1}
    if source.subreddit:
        params["restrict_sr"] = 1
    response = get(http, source.base_url + path, params=params, headers={"Accept": "application/json"})
    listing = decode_json(response.body)
    data = listing.get("data") if isinstance(listing, dict) else None
    children = data.get("children") if isinstance(data, dict) else None
    if not isinstance(children, list):
        raise SourceError("answered without a listing of posts")
    posts = [post for child in children if isinstance(child, dict) and isinstance(post := child.get("data"), dict)]
    dated = ((post, epoch(post.get("created_utc"))) for post in posts)
    kept, newest, cut_short = fresh(dated, since=since, floor=reread_from(since), page_size=PAGE_SIZE)
    return Fetched(
        items=[item for post, created in kept if (item := _item(post, created))],
        cursor={"created_utc": newest.timestamp()} if newest else None,
        wait=rate_limit_wait(response.headers),
        problem=unread(PAGE_SIZE) if cut_short else None,
    )


def _item(post: dict[str, Any], created: datetime) -> Item | None:
    name = post.get("name")  # the fullname, t3_… for a post, t1_… for a comment
    title = normalize_space(string(post.get("title"))) or None
    text = normalize_space(string(post.get("selftext")) or string(post.get("body")))
    if not isinstance(name, str) or not name or not (text or title):
        return None
    permalink, link = string(post.get("permalink")), string(post.get("url"))
    author = normalize_space(string(post.get("author")))
    return Item(
        external_id=name,
        text=text or title or "",
        title=title,
        # The permalink's query (`?ref=search_posts`) only tracks where the click came from.
        url=SITE + permalink.split("?", 1)[0] if permalink.startswith("/") else None,
        author=author if author and author != "[deleted]" else None,
        published_at=created,
        # A link post is about the page it links, as a Hacker News story is: heard twice, it joins.
        shared_url=link if post.get("is_self") is False and link.startswith(("https://", "http://")) else None,
        thread=string(post.get("link_id")) or name,  # a comment's post (t3_…); a post is its own
    )
