"""YouTube comments through the Data API v3 with an API key: every comment on a channel's videos
(`commentThreads?allThreadsRelatedToChannelId=`), or the comments on the newest videos a search finds
(`search` for videos, then `commentThreads?videoId=` for each), from a published-at cursor.

The API is metered in quota units, 10,000 a day per project unless Google grants more: a page of comment
threads costs 1, a search 100. The default intervals follow from that (see `YouTubeSource`). A spent quota
(403 `quotaExceeded`) rests the source until it resets, at midnight Pacific time. Replies need OAuth for the
channel's owner and are not offered: the card links to the comment.
"""

import html
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bot.ground.clock import utcnow
from bot.ground.config_sources import YouTubeSource
from bot.ground.config_types import secret
from bot.ground.text import normalize_space
from bot.hear.sources import Fetched, Item, PollState, RateLimited, SourceError
from bot.hear.sources.fields import fresh, iso, iso_datetime, reread_from, string, unread
from bot.hear.sources.http import HttpStatusError, get_json

PAGE_SIZE = 100  # the most comment threads one page holds
MAX_PAGES = 3
VIDEOS_PER_SEARCH = 10
COMMENT_URL = "https://www.youtube.com/watch?v={video}&lc={comment}"
QUOTA_DAY = ZoneInfo("America/Los_Angeles")
"""Where the daily quota's midnight is."""


def fetch(source: YouTubeSource, http: httpx.Client, state: PollState) -> Fetched:
    """New comments since the overlap before the newest one heard; a first poll reads one page."""
    since = iso_datetime(state.cursor.get("published_at"))
    floor = reread_from(since)
    key = secret(source.key_env) or ""
    items: dict[str, Item] = {}
    newest, problems = since, []
    reads: list[tuple[dict[str, str], str | None]] = (
        [({"allThreadsRelatedToChannelId": source.channel_id}, None)]
        if source.channel_id
        else _videos(source, http, key)
    )
    for params, title in reads:
        try:
            found, latest, cut_short = _threads(source, http, key, params, title, since=since, floor=floor)
        except _CommentsClosed:
            continue
        for item in found:
            items.setdefault(item.external_id, item)
        if latest and (newest is None or latest > newest):
            newest = latest
        if cut_short:
            problems.append(unread(PAGE_SIZE * MAX_PAGES))
    return Fetched(
        items=list(items.values()),
        cursor={"published_at": iso(newest)} if newest else None,
        problem=problems[0] if problems else None,
    )


class _CommentsClosed(Exception):
    """A video found by the search whose comments are turned off (403 `commentsDisabled`): it is skipped."""


def _videos(source: YouTubeSource, http: httpx.Client, key: str) -> list[tuple[dict[str, str], str | None]]:
    """The newest videos the search finds, each with its title: the comments on it are heard with it."""
    params = {"part": "snippet", "q": source.query or "", "type": "video", "order": "date",
              "maxResults": VIDEOS_PER_SEARCH, "key": key}  # fmt: skip
    reply = _get(http, source.base_url + "search", params, key)
    results = reply.get("items") if isinstance(reply, dict) else None
    if not isinstance(results, list):
        raise SourceError("answered the search without an items list")
    videos = []
    for result in results:
        found = result.get("id") if isinstance(result, dict) else None
        video = string(found.get("videoId")) if isinstance(found, dict) else ""
        snippet = result.get("snippet") if isinstance(result, dict) else None
        # Search results' titles come HTML-escaped ("Acme&#39;s update").
        title = normalize_space(html.unescape(string(snippet.get("title")))) if isinstance(snippet, dict) else ""
        if video:
            videos.append(({"videoId": video}, title or None))
    return videos


def _threads(
    source: YouTubeSource,
    http: httpx.Client,
    key: str,
    which: dict[str, str],
    title: str | None,
    *,
    since: datetime | None,
    floor: datetime | None,
) -> tuple[list[Item], datetime | None, bool]:
    """The comments of one read, newest first, following `nextPageToken` while a whole page is new."""
    params: dict[str, Any] = {"part": "snippet", **which, "order": "time", "maxResults": PAGE_SIZE,
                              "textFormat": "plainText", "key": key}  # fmt: skip
    items: list[Item] = []
    newest = since
    for _ in range(MAX_PAGES if since else 1):
        reply = _get(http, source.base_url + "commentThreads", params, key, skip_closed="videoId" in which)
        threads = reply.get("items") if isinstance(reply, dict) else None
        if not isinstance(threads, list):
            raise SourceError("answered without an items list of comment threads")
        comments = [comment for thread in threads if (comment := _top_comment(thread))]
        found = fresh(
            ((comment, iso_datetime(comment.get("publishedAt"))) for comment in comments),
            since=since,
            floor=floor,
            page_size=PAGE_SIZE,
        )
        items += [item for comment, at in found.kept if (item := _item(comment, at, title))]
        if found.newest and (newest is None or found.newest > newest):
            newest = found.newest
        page = reply.get("nextPageToken") if isinstance(reply, dict) else None
        if not found.cut_short or not isinstance(page, str) or not page:
            return items, newest, False
        params["pageToken"] = page
    return items, newest, since is not None


def _top_comment(thread: object) -> dict[str, Any] | None:
    """The thread's first comment, with its id beside its snippet."""
    snippet = thread.get("snippet") if isinstance(thread, dict) else None
    top = snippet.get("topLevelComment") if isinstance(snippet, dict) else None
    if not isinstance(top, dict) or not isinstance(inner := top.get("snippet"), dict) or not string(top.get("id")):
        return None
    return {**inner, "id": string(top["id"])}


def _item(comment: dict[str, Any], published: datetime, title: str | None) -> Item | None:
    text = normalize_space(string(comment.get("textOriginal")) or string(comment.get("textDisplay")))
    video, comment_id = string(comment.get("videoId")), string(comment["id"])
    if not text or not video:
        return None
    author = normalize_space(string(comment.get("authorDisplayName")))  # "@handle" since handles came
    return Item(
        external_id=comment_id,
        text=text,
        title=title,
        url=COMMENT_URL.format(video=video, comment=comment_id),
        author=author or None,
        published_at=published,
        thread=f"video/{video}",
    )


def _get(http: httpx.Client, url: str, params: dict[str, Any], key: str, *, skip_closed: bool = False) -> Any:
    """One read; the refusals the API explains in its body (a spent quota, a wrong key) say so."""
    try:
        return get_json(http, url, params=params)
    except HttpStatusError as error:
        body = error.json()
        failure = body.get("error") if isinstance(body, dict) else None
        failure = failure if isinstance(failure, dict) else {}
        details = failure.get("errors")
        first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
        reason = string(first.get("reason"))
        if reason == "commentsDisabled" and skip_closed:
            raise _CommentsClosed from error
        message = normalize_space(string(failure.get("message")))[:200]
        detail = ": ".join(part for part in (reason, message.replace(key, "(key)") if key else message) if part)
        said = f" ({detail})" if detail else ""
        if reason in ("quotaExceeded", "dailyLimitExceeded"):
            raise RateLimited(f"{error}{said}", retry_after=_until_quota_resets()) from error
        if reason in ("rateLimitExceeded", "userRateLimitExceeded"):
            raise RateLimited(f"{error}{said}", retry_after=None) from error
        raise SourceError(f"{error}{said}") from error


def _until_quota_resets() -> float:
    now = utcnow().astimezone(QUOTA_DAY)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), QUOTA_DAY)
    return (midnight - now).total_seconds()
