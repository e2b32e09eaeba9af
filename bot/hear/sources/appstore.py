"""App Store customer reviews of one app, from Apple's public JSON feed, in each country the source lists.

Each country keeps its own cursor: the `updated` time of the newest review heard there. A poll reads the
first page (50 reviews, newest first) and the next ones, up to the ten Apple serves, while a whole page is
newer than the overlap before the cursor; a first poll reads one page. A country that fails leaves the
others heard. Apple states no quota; it answers 403 or 429 when an address asks too often.

Replies go through the App Store Connect API, whose reviews have other ids than the feed's: the review is
found among the app's newest there by its author's nickname, title and rating, and answered as the developer
response (shown on the store once Apple publishes it).
"""

import time
from datetime import datetime
from typing import Any

import httpx

from bot.ground.config_sources import AppStoreSource
from bot.ground.config_types import secret
from bot.ground.text import normalize_space
from bot.hear.sources import Fetched, Item, PollState, RateLimited, SourceError
from bot.hear.sources.fields import fresh, iso, iso_datetime, rating, reread_from, string, unread
from bot.hear.sources.http import get_json, post_json
from bot.hear.sources.reply_limits import ReplyLimit

PAGE_SIZE = 50
MAX_PAGES = 10  # the feed serves no page past the tenth
FEED = "{country}/rss/customerreviews/page={page}/id={app_id}/sortby=mostrecent/json"
REVIEWS = "https://apps.apple.com/{country}/app/id{app_id}?see-all=reviews"


def fetch(source: AppStoreSource, http: httpx.Client, state: PollState) -> Fetched:
    """New reviews of every country; the poll fails only if no country answered."""
    cursor, failures, answered = dict(state.cursor), [], 0
    items: dict[str, Item] = {}
    wait: float | None = None
    for country in source.countries:
        try:
            found, newest, problem = _country(source, http, country, iso_datetime(cursor.get(country)))
        except SourceError as error:
            failures.append((country, error))
            if isinstance(error, RateLimited):  # Apple limits the address, so every country would be refused
                wait = error.retry_after
                break
            continue
        answered += 1
        for item in found:
            items.setdefault(item.external_id, item)  # an edited review moves up a page: read twice, kept once
        if newest:
            cursor[country] = iso(newest)
        if problem:
            failures.append((country, SourceError(problem)))
    if not answered:
        raise failures[0][1]
    return Fetched(
        items=list(items.values()),
        cursor=cursor,
        wait=wait,
        problem="; ".join(f"{country}: {error}" for country, error in failures) or None,
    )


def _country(
    source: AppStoreSource, http: httpx.Client, country: str, since: datetime | None
) -> tuple[list[Item], datetime | None, str | None]:
    """One country's reviews since the overlap before its cursor, where its next poll starts, and what went unread."""
    floor = reread_from(since)
    items: list[Item] = []
    newest = since
    for page in range(1, (MAX_PAGES if since else 1) + 1):
        url = source.base_url + FEED.format(country=country, page=page, app_id=source.app_id)
        entries = _entries(get_json(http, url))
        dated = ((entry, iso_datetime(_label(entry.get("updated")))) for entry in entries)
        found = fresh(dated, since=since, floor=floor, page_size=PAGE_SIZE)
        items += [item for entry, at in found.kept if (item := _item(entry, at, country, source.app_id))]
        if found.newest and (newest is None or found.newest > newest):
            newest = found.newest
        if not found.cut_short:
            return items, newest, None
    return items, newest, unread(PAGE_SIZE * MAX_PAGES) if since else None


def _entries(reply: Any) -> list[dict[str, Any]]:
    """The feed's reviews: a feed without any has no `entry`, and one with a single review gives it bare."""
    feed = reply.get("feed") if isinstance(reply, dict) else None
    if not isinstance(feed, dict):
        raise SourceError("answered without a feed of reviews")
    entries = feed.get("entry", [])
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        raise SourceError("answered with a feed whose entries are not a list")
    return [entry for entry in entries if isinstance(entry, dict)]


def _label(node: object) -> str:
    """The feed writes every value as `{"label": …}`."""
    return string(node.get("label")) if isinstance(node, dict) else ""


def _attribute(node: dict[str, Any], name: str) -> str:
    attributes = node.get("attributes")
    return string(attributes.get(name)) if isinstance(attributes, dict) else ""


def _content(entry: dict[str, Any]) -> str:
    """The review's text; older feeds gave it twice, as text and as HTML, in a list."""
    content = entry.get("content")
    if isinstance(content, list):
        texts = (c for c in content if isinstance(c, dict) and _attribute(c, "type") == "text")
        content = next(texts, None)
    return normalize_space(_label(content))


def _item(entry: dict[str, Any], updated: datetime, country: str, app_id: str) -> Item | None:
    review_id = _label(entry.get("id"))
    # Older feeds led with the app itself as an entry, whose id is its store URL.
    if not (review_id.isascii() and review_id.isdigit()) or len(review_id) > 30:
        return None
    title = normalize_space(_label(entry.get("title"))) or None
    text = _content(entry)
    if not (text or title):
        return None
    author = entry.get("author")
    nickname = normalize_space(_label(author.get("name"))) if isinstance(author, dict) else ""
    stars = rating(_label(entry.get("im:rating")))
    return Item(
        external_id=review_id,
        text=text or title or "",
        title=title,
        url=REVIEWS.format(country=country, app_id=app_id),
        author=nickname or None,
        published_at=updated,
        rating=stars,
        app_version=normalize_space(_label(entry.get("im:version")))[:50] or None,
        reply_to={"country": country, "nickname": nickname, "title": title or "", "rating": stars},
    )


# Replies through App Store Connect.

MAX_RESPONSE = ReplyLimit(5970)  # the longest developer response App Store Connect takes
TOKEN_LIFETIME = 20 * 60  # the longest Apple accepts
REVIEWS_LOOKED_AT = 200  # the most one page of `customerReviews` holds


def describe_reply(source: AppStoreSource) -> str | None:
    if not secret(source.private_key_env):
        return None
    return f"as the developer response in App Store Connect, with the API key {source.key_id}"


def reply_limit(source: AppStoreSource, reply_to: dict[str, Any]) -> ReplyLimit:
    return MAX_RESPONSE


def token(source: AppStoreSource, *, now: float | None = None) -> str:
    """An App Store Connect token: a JWT signed with the team's `.p8` key (ES256), valid for 20 minutes."""
    issued = int(now if now is not None else time.time())
    # A one-line .env holds the PEM with its line breaks written as \n.
    key = (secret(source.private_key_env) or "").replace("\\n", "\n")
    claims = {"iss": source.issuer_id, "iat": issued, "exp": issued + TOKEN_LIFETIME, "aud": "appstoreconnect-v1"}
    import jwt  # PyJWT and its cryptography are loaded by a first reply, not by every process's start

    try:
        return jwt.encode(claims, key, algorithm="ES256", headers={"kid": source.key_id, "typ": "JWT"})
    except (ValueError, TypeError, jwt.PyJWTError) as error:  # never the key itself in the message
        raise SourceError(f"the key in {source.private_key_env} is not an App Store Connect .p8 key") from error


def reply(source: AppStoreSource, http: httpx.Client, reply_to: dict[str, Any], text: str, key: str) -> str | None:
    """The developer response to the review, found in App Store Connect; the link is the app's reviews page."""
    if problem := MAX_RESPONSE.problem(text):
        raise SourceError(f"the reply is too long for the App Store: {problem}")
    headers = {"Authorization": f"Bearer {token(source)}"}
    review_id = _connect_review(source, http, reply_to, headers)
    document = {
        "data": {
            "type": "customerReviewResponses",
            "attributes": {"responseBody": text},
            "relationships": {"review": {"data": {"type": "customerReviews", "id": review_id}}},
        }
    }
    post_json(http, source.connect_url + "v1/customerReviewResponses", json=document, headers=headers)
    return REVIEWS.format(country=string(reply_to.get("country")) or "us", app_id=source.app_id)


def _connect_review(
    source: AppStoreSource, http: httpx.Client, reply_to: dict[str, Any], headers: dict[str, str]
) -> str:
    """The App Store Connect id of the review the feed showed, among the app's newest reviews there."""
    params = {"sort": "-createdDate", "limit": REVIEWS_LOOKED_AT}
    listed = get_json(http, source.connect_url + f"v1/apps/{source.app_id}/customerReviews", params=params,
                      headers=headers)  # fmt: skip
    reviews = listed.get("data") if isinstance(listed, dict) else None
    if not isinstance(reviews, list):
        raise SourceError("App Store Connect answered without a list of reviews")
    wanted = (string(reply_to.get("nickname")), string(reply_to.get("title")), reply_to.get("rating"))
    for review in reviews:
        attributes = review.get("attributes") if isinstance(review, dict) else None
        if not isinstance(attributes, dict) or not string(review.get("id")):
            continue
        seen = (
            normalize_space(string(attributes.get("reviewerNickname"))),
            normalize_space(string(attributes.get("title"))),
            rating(attributes.get("rating")),
        )
        if seen == wanted:
            return string(review["id"])
    raise SourceError(f"App Store Connect lists no review by {wanted[0] or 'this author'} among the app's newest")
