"""Mastodon statuses from one instance's tag timeline and/or its v2 status search, each from its own cursor.

Cursors are status ids (numeric strings, compared as numbers), passed as `min_id`. The tag timeline then
answers with the statuses right after the cursor, so a burst larger than a page arrives over the next
polls. The search turns `min_id` into "created after" that id's time yet still answers with the newest
statuses, so it is asked from the overlap before the cursor (its index lags too), and a full page that
does not reach back to the cursor is reported: its oldest statuses went unread. Boosts are skipped: the
boosted status is heard on its own.
"""

from typing import Any
from urllib.parse import quote

import httpx

from bot.ground.config_sources import MastodonSource
from bot.ground.config_types import host_of, secret
from bot.ground.text import html_to_text, normalize_space
from bot.hear.sources import Fetched, Item, PollState, SourceError
from bot.hear.sources.fields import OVERLAP, fresh, identifier, iso_datetime, string, unread, whole
from bot.hear.sources.http import HttpStatusError, get_json, post_json
from bot.hear.sources.reply_limits import ReplyLimit

PAGE_SIZE = 40  # the most either endpoint returns at once
# Status ids are snowflakes: milliseconds since the epoch, shifted 16 bits left.
OVERLAP_IDS = int(OVERLAP.total_seconds() * 1000) << 16


def fetch(source: MastodonSource, http: httpx.Client, state: PollState) -> Fetched:
    """New statuses of the tag timeline and of the search, merged; each read advances its own cursor."""
    reads: list[tuple[str, str, dict[str, Any]]] = []
    if source.tag:
        reads.append(("tag", f"api/v1/timelines/tag/{quote(source.tag, safe='')}", {}))
    if source.query:
        reads.append(("search", "api/v2/search", {"q": source.query, "type": "statuses"}))
    token = secret(source.token_env)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    cursor, items, problem = dict(state.cursor), {}, None
    for name, path, params in reads:
        searching = name == "search"
        since = _id(cursor.get(name))
        floor = max(since - OVERLAP_IDS, 0) if since and searching else since
        if floor:
            params["min_id"] = str(floor)
        statuses = _statuses(http, source.base_url + path, {**params, "limit": PAGE_SIZE}, headers, searching=searching)
        numbered = ((status, _id(status.get("id"))) for status in statuses)
        kept, newest, cut_short = fresh(numbered, since=since, floor=floor, page_size=PAGE_SIZE)
        for status, _ in kept:
            if (item := _item(status)) and item.external_id not in items:
                items[item.external_id] = item
        if newest:
            cursor[name] = str(newest)  # as text: ids exceed the integers JSON readers keep exactly
        if searching and cut_short:
            problem = unread(PAGE_SIZE)
    return Fetched(items=list(items.values()), cursor=cursor, problem=problem)


def _statuses(
    http: httpx.Client, url: str, params: dict[str, Any], headers: dict[str, str], *, searching: bool
) -> list[dict[str, Any]]:
    try:
        reply = get_json(http, url, params=params, headers=headers)
    except HttpStatusError as error:
        if searching and not headers and error.status in (401, 403):
            raise SourceError(
                f"{error}: this instance searches statuses only with an access token (token_env)"
            ) from error
        raise
    if searching:
        reply = reply.get("statuses") if isinstance(reply, dict) else None
    if not isinstance(reply, list):
        raise SourceError(f"answered the {'search' if searching else 'tag timeline'} without a list of statuses")
    return [status for status in reply if isinstance(status, dict)]


def _item(status: dict[str, Any]) -> Item | None:
    if isinstance(status.get("reblog"), dict):
        return None
    text = html_to_text(string(status.get("content")))
    warning = normalize_space(string(status.get("spoiler_text"))) or None  # a content warning reads as a title
    if not (text or warning):
        return None
    account = status.get("account")
    account = account if isinstance(account, dict) else {}
    acct = normalize_space(string(account.get("acct")))
    links = (string(status.get("url")), string(status.get("uri")))  # a remote status may lack `url`
    url = next((link for link in links if link.startswith(("https://", "http://"))), None)
    return Item(
        external_id=str(status["id"]),
        text=text or warning or "",
        title=warning,
        url=url,
        # The handle, not the display name: anyone can call themselves "Acme Support".
        author=f"@{acct}" if acct else None,
        published_at=iso_datetime(status.get("created_at")),
        author_reach=whole(account.get("followers_count")),
        reply_to={"status_id": str(status["id"]), "acct": acct},
        # Mastodon names only the status answered, not the thread's root; a chain is followed link by link.
        thread=identifier(status.get("in_reply_to_id")) or str(status["id"]),
    )


def _id(value: object) -> int | None:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 40 else None


MAX_STATUS = 500  # Mastodon's default limit; an instance may allow more, never less


def describe_reply(source: MastodonSource) -> str | None:
    if not secret(source.token_env):
        return None
    return f"on {host_of(source.base_url)}, from the account whose token is in {source.token_env}"


def _status(reply_to: dict[str, Any], text: str) -> str:
    """The reply as posted: it names the author, so they are notified."""
    acct = string(reply_to.get("acct"))
    return text if not acct or text.startswith(f"@{acct}") else f"@{acct} {text}"


def reply_limit(source: MastodonSource, reply_to: dict[str, Any]) -> ReplyLimit:
    """What is left of the status for the person's words once it names the author."""
    return ReplyLimit(MAX_STATUS - len(_status(reply_to, "")))


def reply(source: MastodonSource, http: httpx.Client, reply_to: dict[str, Any], text: str, key: str) -> str | None:
    """A public reply that names the author (so they are notified), sent with an idempotency key."""
    status = _status(reply_to, text)
    if problem := ReplyLimit(MAX_STATUS).problem(status):
        raise SourceError(f"the reply is too long for Mastodon: {problem}")
    posted = post_json(
        http,
        source.base_url + "api/v1/statuses",
        json={"status": status, "in_reply_to_id": string(reply_to.get("status_id"))},
        headers={"Authorization": f"Bearer {secret(source.token_env)}", "Idempotency-Key": key},
    )
    return string(posted.get("url")) or None if isinstance(posted, dict) else None
