"""Posts of one Discourse forum: every new one (`/posts.json`, newest first, paged with `before`), or those
its search finds (`/search.json`, `order:latest`, paged with `page`), from a created-at cursor.

A poll reads on while a whole page is newer than the overlap before the cursor, three pages at most; a
first poll reads one. Only regular posts are heard (not whispers or moderator notes), and never the
source's own API user's, which are the team's replies. With an API key the forum's private categories are
read too, and a reply is posted in the topic, answering the post.
"""

from datetime import datetime
from typing import Any

import httpx

from bot.ground.config_sources import DiscourseSource
from bot.ground.config_types import host_of, secret
from bot.ground.text import html_to_text, normalize_space
from bot.hear.sources import Fetched, Item, PollState, SourceError
from bot.hear.sources.fields import fresh, iso, iso_datetime, reread_from, string, unread, whole
from bot.hear.sources.http import HttpStatusError, get_json, post_json
from bot.hear.sources.reply_limits import ReplyLimit

PAGE_SIZE = 50  # what both `/posts.json` and a full page of `/search.json` hold
MAX_PAGES = 3
REGULAR = 1  # `post_type`: 2 is a moderator action, 3 a small action, 4 a whisper


def fetch(source: DiscourseSource, http: httpx.Client, state: PollState) -> Fetched:
    """Posts since the overlap before the newest seen; a later page that fails leaves the earlier ones heard."""
    since = iso_datetime(state.cursor.get("created_at"))
    floor = reread_from(since)
    items: dict[str, Item] = {}
    newest, problem, before = since, None, None
    for page in range(1, (MAX_PAGES if since else 1) + 1):
        try:
            posts, topics = _page(source, http, page=page, before=before)
        except SourceError as error:
            if page == 1:
                raise
            problem = f"read only {page - 1} page(s) of new posts: {error}"
            break
        dated = ((post, iso_datetime(post.get("created_at"))) for post in posts)
        found = fresh(dated, since=since, floor=floor, page_size=PAGE_SIZE)
        for post, created in found.kept:
            if (item := _item(source, post, topics, created)) and item.external_id not in items:
                items[item.external_id] = item
        if found.newest and (newest is None or found.newest > newest):
            newest = found.newest
        ids = [number for post in posts if (number := whole(post.get("id"))) is not None]
        if not found.cut_short or not ids:
            break
        before = min(ids)
    else:
        problem = unread(PAGE_SIZE * MAX_PAGES)
    return Fetched(items=list(items.values()), cursor={"created_at": iso(newest)} if newest else None, problem=problem)


def _page(
    source: DiscourseSource, http: httpx.Client, *, page: int, before: int | None
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """One page of posts, and the topics the search names them by (the latest posts carry their topic's title)."""
    headers = _headers(source)
    try:
        if source.query:
            params: dict[str, Any] = {"q": f"{source.query} order:latest", "page": page}
            reply = get_json(http, source.base_url + "search.json", params=params, headers=headers)
        else:
            params = {"before": before} if before else {}
            reply = get_json(http, source.base_url + "posts.json", params=params, headers=headers)
    except HttpStatusError as error:
        raise _explained(error) from error
    posts = reply.get("posts" if source.query else "latest_posts") if isinstance(reply, dict) else None
    if source.query and isinstance(reply, dict) and "grouped_search_result" in reply and posts is None:
        posts = []  # a search that found nothing leaves `posts` out
    if not isinstance(posts, list):
        raise SourceError(f"answered without a list of {'found' if source.query else 'latest'} posts")
    listed = reply.get("topics") if isinstance(reply, dict) else None
    topics = {
        number: topic
        for topic in (listed if isinstance(listed, list) else [])
        if isinstance(topic, dict) and (number := whole(topic.get("id"))) is not None
    }
    return [post for post in posts if isinstance(post, dict)], topics


def _explained(error: HttpStatusError) -> SourceError:
    """Discourse says why in its body: `{"errors": ["You are not permitted to view the requested resource."]}`."""
    body = error.json()
    errors = body.get("errors") if isinstance(body, dict) else None
    said = normalize_space(string(errors[0]))[:200] if isinstance(errors, list) and errors else ""
    return SourceError(f"{error} ({said})") if said else error


def _item(
    source: DiscourseSource, post: dict[str, Any], topics: dict[int, dict[str, Any]], created: datetime
) -> Item | None:
    post_id, topic_id, number = whole(post.get("id")), whole(post.get("topic_id")), whole(post.get("post_number"))
    post_type = post.get("post_type", REGULAR)
    username = normalize_space(string(post.get("username")))
    if post_id is None or topic_id is None or post_type != REGULAR:
        return None
    if source.api_username and username.casefold() == source.api_username.casefold():
        return None  # the team's own reply, posted through this source
    topic = topics.get(topic_id, {})
    title = normalize_space(string(post.get("topic_title")) or string(topic.get("title"))) or None
    cooked = string(post.get("cooked"))
    text = html_to_text(cooked) if cooked else normalize_space(string(post.get("blurb")))
    if not (text or title):
        return None
    slug = string(post.get("topic_slug")) or string(topic.get("slug"))
    path = f"t/{slug}/{topic_id}" if slug.isascii() and slug.replace("-", "").isalnum() else f"t/{topic_id}"
    return Item(
        external_id=str(post_id),
        text=text or title or "",
        title=title,
        url=source.base_url + path + (f"/{number}" if number else ""),
        author=username or None,
        published_at=created,
        reply_to={"topic_id": topic_id, "post_number": number},
        thread=f"topic/{topic_id}",  # not the bare number: a post's id could be another topic's
    )


def _headers(source: DiscourseSource) -> dict[str, str]:
    key = secret(source.api_key_env)
    return {"Api-Key": key, "Api-Username": source.api_username or ""} if key else {}


MAX_POST = ReplyLimit(32_000)  # Discourse's default `max_post_length`


def describe_reply(source: DiscourseSource) -> str | None:
    if not secret(source.api_key_env):
        return None
    return f"in the topic on {host_of(source.base_url)}, as {source.api_username}"


def reply_limit(source: DiscourseSource, reply_to: dict[str, Any]) -> ReplyLimit:
    return MAX_POST


def reply(source: DiscourseSource, http: httpx.Client, reply_to: dict[str, Any], text: str, key: str) -> str | None:
    """A post in the customer's topic that answers their post (`reply_to_post_number`)."""
    if problem := MAX_POST.problem(text):
        raise SourceError(f"the reply is too long for the forum: {problem}")
    document: dict[str, Any] = {"topic_id": whole(reply_to.get("topic_id")), "raw": text}
    if number := whole(reply_to.get("post_number")):
        document["reply_to_post_number"] = number
    try:
        posted = post_json(http, source.base_url + "posts.json", json=document, headers=_headers(source))
    except HttpStatusError as error:  # 422 says why: "Body is too short (minimum is 20 characters)"
        raise _explained(error) from error
    if not isinstance(posted, dict) or whole(posted.get("topic_id")) is None:
        return None
    slug = string(posted.get("topic_slug")) or "-"
    return source.base_url + f"t/{slug}/{posted['topic_id']}/{whole(posted.get('post_number')) or ''}".rstrip("/")
