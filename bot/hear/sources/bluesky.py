"""Bluesky posts through `app.bsky.feed.searchPosts` on an AppView, newest first, from a time cursor.

The cursor is the time Bluesky sorts and filters search results by (`sortAt`: the earlier of the
post's own `createdAt` and the AppView's `indexedAt`), so a post dated in the future cannot freeze it.
The first poll reads one page; later ones follow the answer's `cursor` for at most a few pages.
With an account the source signs in once per process and sends the session's token with each search.
"""

import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from bot.ground.clock import utcnow
from bot.ground.config_sources import BlueskySource
from bot.ground.config_types import secret
from bot.ground.text import normalize_space
from bot.hear.sources import Fetched, Item, PollState, RateLimited, SourceError
from bot.hear.sources.fields import fresh, iso, iso_datetime, reread_from, string, unread
from bot.hear.sources.http import HttpStatusError, get_json, post_json
from bot.hear.sources.reply_limits import ReplyLimit

PAGE_SIZE = 100
MAX_PAGES = 3
POST_URL = "https://bsky.app/profile/{}/post/{}"
_HANDLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
_POST_URI = re.compile(r"^at://(did:[a-z]+:[A-Za-z0-9._:%-]+)/app\.bsky\.feed\.post/([A-Za-z0-9._:~-]+)$")


class Sessions:
    """Access tokens by (base_url, handle), shared by every poll of the process: signing in is itself rate
    limited, and a token lasts for hours. Polls run on several threads, so one signs in at a time per account,
    and a poll whose token was refused signs in again only if no other poll has renewed it meanwhile."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], str] = {}
        self._accounts: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()

    def token(self, key: tuple[str, str], sign_in: Callable[[], str], *, refused: str | None = None) -> str:
        """The account's token; `sign_in` gets a new one when there is none yet or the one there is `refused`."""
        with self._lock:
            account = self._accounts.setdefault(key, threading.Lock())
        with account:
            current = self._tokens.get(key)
            if current is not None and current != refused:
                return current
            self._tokens[key] = sign_in()
            return self._tokens[key]

    def clear(self) -> None:
        """Forget every token: the next poll of each account signs in."""
        with self._lock:
            self._tokens.clear()


SESSIONS = Sessions()


def fetch(source: BlueskySource, http: httpx.Client, state: PollState) -> Fetched:
    """Posts since the overlap before the newest seen; a later page that fails leaves the earlier ones heard."""
    since = iso_datetime(state.cursor.get("sort_at"))
    floor = reread_from(since)
    params: dict[str, Any] = {"q": source.query, "sort": "latest", "limit": PAGE_SIZE}
    if floor:
        params["since"] = iso(floor)
    items: list[Item] = []
    newest, problem, wait = since, None, None
    for page in range(MAX_PAGES if since else 1):
        try:
            reply = _search(source, http, params)
        except SourceError as error:
            if page == 0 and isinstance(error, HttpStatusError) and error.status == 403 and not source.handle:
                raise SourceError(
                    f"{error}: the AppView refused the search (Bluesky's public one does at times; "
                    "set handle and app_password_env to sign in)"
                ) from error
            if page == 0:
                raise
            problem, wait = f"read only {page} page(s) of new posts: {error}", _retry_after(error)
            break
        posts = reply.get("posts") if isinstance(reply, dict) else None
        if not isinstance(posts, list):
            raise SourceError("answered without a posts list")
        dated = ((post, _sort_at(post)) for post in posts if isinstance(post, dict))
        found = fresh(dated, since=since, floor=floor, page_size=PAGE_SIZE)
        items += [item for post, sort_at in found.kept if (item := _item(post, sort_at))]
        if found.newest and (newest is None or found.newest > newest):
            newest = found.newest
        next_page = reply.get("cursor")
        if not found.cut_short or not isinstance(next_page, str) or not next_page:
            break
        params["cursor"] = next_page
    else:
        problem = unread(PAGE_SIZE * MAX_PAGES)
    return Fetched(items=items, cursor={"sort_at": iso(newest)} if newest else None, problem=problem, wait=wait)


def _search(source: BlueskySource, http: httpx.Client, params: dict[str, Any]) -> Any:
    """One page of results, signed in when the source has an account."""
    url = source.base_url + "app.bsky.feed.searchPosts"
    if not source.handle:
        return get_json(http, url, params=params)
    return _signed_in(source, http, lambda headers: get_json(http, url, params=params, headers=headers))


def _signed_in(source: BlueskySource, http: httpx.Client, call: Callable[[dict[str, str]], Any]) -> Any:
    """`call` with the session's token, renewed once if refused (expired: 400 ExpiredToken; revoked: 401)."""
    key = (source.base_url, source.handle or "")
    token = SESSIONS.token(key, lambda: _sign_in(source, http))
    try:
        return call(_bearer(token))
    except HttpStatusError as error:
        if error.status != 401 and _reason(error)[0] != "ExpiredToken":
            raise
    return call(_bearer(SESSIONS.token(key, lambda: _sign_in(source, http), refused=token)))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _sign_in(source: BlueskySource, http: httpx.Client) -> str:
    """A new session's access token (`createSession`)."""
    handle, password = source.handle or "", secret(source.app_password_env) or ""
    login = {"identifier": handle.removeprefix("@"), "password": password}
    try:
        session = post_json(http, source.base_url + "com.atproto.server.createSession", json=login)
    except HttpStatusError as error:
        name, message = _reason(error)
        said = message or name
        if password:  # a server that echoes the login must not put the password in logs and Slack
            said = said.replace(password, "(password)")
        raise SourceError(f"could not sign in as {handle}: {error}" + (f" ({said})" if said else "")) from error
    token = session.get("accessJwt") if isinstance(session, dict) else None
    if not isinstance(token, str) or not token:
        raise SourceError("answered the sign-in without an accessJwt")
    return token


def _reason(error: HttpStatusError) -> tuple[str, str]:
    """XRPC explains a refusal in its body: `{"error": "ExpiredToken", "message": "Token has expired"}`."""
    body = error.json()
    body = body if isinstance(body, dict) else {}
    return string(body.get("error")), normalize_space(string(body.get("message")))[:200]


def _item(post: dict[str, Any], sort_at: datetime) -> Item | None:
    record, author = post.get("record"), post.get("author")
    text = normalize_space(string(record.get("text"))) if isinstance(record, dict) else ""
    match = _POST_URI.match(string(post.get("uri")))
    if not text or not match:
        return None
    did, rkey = match.groups()
    handle = normalize_space(string(author.get("handle"))) if isinstance(author, dict) else ""
    known = handle != "handle.invalid" and _HANDLE.match(handle)
    return Item(
        external_id=match.group(0),
        text=text,
        url=POST_URL.format(handle if known else did, rkey),
        author=f"@{handle}" if known else did,
        published_at=sort_at,
        reply_to=_thread(post, record),
        thread=_root_uri(record) or match.group(0),
    )


def _sort_at(post: dict[str, Any]) -> datetime | None:
    record = post.get("record")
    created = iso_datetime(record.get("createdAt")) if isinstance(record, dict) else None
    return min((moment for moment in (created, iso_datetime(post.get("indexedAt"))) if moment), default=None)


def _retry_after(error: SourceError) -> float | None:
    return error.retry_after if isinstance(error, RateLimited) else None


def _root_uri(record: Any) -> str | None:
    """The first post of the thread a reply belongs to."""
    root = ((record or {}).get("reply") or {}).get("root") if isinstance(record, dict) else None
    return string(root.get("uri")) or None if isinstance(root, dict) else None


def _thread(post: dict[str, Any], record: Any) -> dict[str, str] | None:
    """The post's strong reference, and its thread's root: a reply must name both."""
    uri, cid = string(post.get("uri")), string(post.get("cid"))
    if not uri or not cid:
        return None
    root = ((record or {}).get("reply") or {}).get("root") if isinstance(record, dict) else None
    root = root if isinstance(root, dict) and string(root.get("uri")) and string(root.get("cid")) else None
    return {
        "uri": uri,
        "cid": cid,
        "root_uri": string(root["uri"]) if root else uri,
        "root_cid": string(root["cid"]) if root else cid,
    }


MAX_POST = ReplyLimit(300, "graphemes")


def describe_reply(source: BlueskySource) -> str | None:
    return f"on Bluesky, as {source.handle}" if source.handle else None


def reply_limit(source: BlueskySource, reply_to: dict[str, Any]) -> ReplyLimit:
    return MAX_POST


def reply(source: BlueskySource, http: httpx.Client, reply_to: dict[str, Any], text: str, key: str) -> str | None:
    """A reply post in the customer's thread, from the signed-in account."""
    if problem := MAX_POST.problem(text):
        raise SourceError(f"the reply is too long for Bluesky: {problem}")
    record = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": iso(utcnow()),
        "reply": {
            "root": {"uri": string(reply_to.get("root_uri")), "cid": string(reply_to.get("root_cid"))},
            "parent": {"uri": string(reply_to.get("uri")), "cid": string(reply_to.get("cid"))},
        },
    }
    document = {"repo": (source.handle or "").removeprefix("@"), "collection": "app.bsky.feed.post", "record": record}
    url = source.base_url + "com.atproto.repo.createRecord"
    created = _signed_in(source, http, lambda headers: post_json(http, url, json=document, headers=headers))
    match = _POST_URI.match(string(created.get("uri")) if isinstance(created, dict) else "")
    return POST_URL.format((source.handle or "").removeprefix("@"), match.group(2)) if match else None
