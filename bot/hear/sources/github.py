"""GitHub issues (and, when the query says so, pull requests) through the search API, newest first,
from a created-at cursor that becomes a `created:>=` qualifier of the query."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx

from bot.ground.config_sources import GitHubSource
from bot.ground.config_types import secret
from bot.ground.text import normalize_space
from bot.hear.sources import Fetched, Item, PollState, RateLimited, SourceError
from bot.hear.sources.fields import fresh, iso, iso_datetime, reread_from, string, unread
from bot.hear.sources.http import HttpStatusError, get_json, post_json, retry_after
from bot.hear.sources.reply_limits import ReplyLimit

PAGE_SIZE = 100
API_VERSION = "2022-11-28"
# GitHub refuses (422) an issue search that does not say whether it wants issues or pull requests.
_SAYS_WHICH = re.compile(r"(?:^|\s)-?(?:is|type):(?:issue|pr|pull-request)\b", re.IGNORECASE)

HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}


def fetch(source: GitHubSource, http: httpx.Client, state: PollState) -> Fetched:
    """Issues (and discussions, when asked), each from its own cursor."""
    fetched = _issues(source, http, state)
    if not source.discussions:
        return fetched
    talk = _discussions(source, http, state)
    return Fetched(
        items=fetched.items + talk.items,
        cursor={**state.cursor, **(fetched.cursor or {}), **(talk.cursor or {})},
        problem=fetched.problem or talk.problem,
    )


def _issues(source: GitHubSource, http: httpx.Client, state: PollState) -> Fetched:
    """Issues since the overlap before the newest seen; customers file issues, so a bare query hears only those."""
    since = iso_datetime(state.cursor.get("created_at"))
    floor = reread_from(since)
    query = source.query if _SAYS_WHICH.search(source.query) else f"{source.query} is:issue"
    if floor:
        query += f" created:>={iso(floor.replace(microsecond=0))}"  # GitHub's times are whole seconds
    params = {"q": query, "sort": "created", "order": "desc", "per_page": PAGE_SIZE}
    with _rate_limits():
        reply = get_json(http, source.base_url + "search/issues", params=params, headers=_headers(source))
    found = reply.get("items") if isinstance(reply, dict) else None
    if not isinstance(found, list):
        raise SourceError("answered without an items list")
    dated = ((issue, iso_datetime(issue.get("created_at"))) for issue in found if isinstance(issue, dict))
    kept, newest, cut_short = fresh(dated, since=since, floor=floor, page_size=PAGE_SIZE)
    return Fetched(
        items=[item for issue, created in kept if (item := _item(issue, created))],
        cursor={"created_at": iso(newest)} if newest else None,
        problem=unread(PAGE_SIZE) if cut_short else None,
    )


def _item(issue: dict[str, Any], created: datetime) -> Item | None:
    title = normalize_space(string(issue.get("title"))) or None
    text = normalize_space(string(issue.get("body")))  # Markdown reads well enough as plain text
    url = string(issue.get("html_url"))
    user = issue.get("user")
    login = normalize_space(string(user.get("login"))) if isinstance(user, dict) else ""
    issue_id = issue.get("id")
    if isinstance(issue_id, bool) or not isinstance(issue_id, int | str) or not str(issue_id) or not (text or title):
        return None
    return Item(
        external_id=str(issue_id),
        text=text or title or "",
        title=title,
        url=url if url.startswith(("https://", "http://")) else None,
        author=login or None,
        published_at=created,
        reply_to={"comments_url": comments} if (comments := string(issue.get("comments_url"))) else None,
        thread=url or None,  # the issue or discussion is the conversation its comments belong to
    )


def describe_reply(source: GitHubSource) -> str | None:
    if not secret(source.token_env):
        return None
    return f"as a comment on GitHub, from the account whose token is in {source.token_env}"


MAX_COMMENT = ReplyLimit(65_536)  # GitHub refuses a longer comment body with 422


def reply_limit(source: GitHubSource, reply_to: dict[str, Any]) -> ReplyLimit:
    return MAX_COMMENT


def reply(source: GitHubSource, http: httpx.Client, reply_to: dict[str, Any], text: str, key: str) -> str | None:
    """A comment on the issue or pull request; only ever to the API the source polls, with its token."""
    comments_url = string(reply_to.get("comments_url"))
    if not comments_url.startswith(source.base_url):
        raise SourceError("the issue lives on another GitHub than this source's base_url")
    posted = post_json(
        http,
        comments_url,
        json={"body": text},
        headers=_headers(source),
    )
    return string(posted.get("html_url")) or None if isinstance(posted, dict) else None


DISCUSSIONS_PAGE = 50
_DISCUSSIONS = """query($q: String!, $n: Int!) { search(query: $q, type: DISCUSSION, first: $n) { nodes {
  ... on Discussion { id url title body createdAt author { login } } } } }"""


def _discussions(source: GitHubSource, http: httpx.Client, state: PollState) -> Fetched:
    """Discussions through GraphQL (the REST search has none), from their own created-at cursor."""
    since = iso_datetime(state.cursor.get("discussion_created_at"))
    floor = reread_from(since)
    query = source.query + (f" created:>={iso(floor.replace(microsecond=0))}" if floor else "")
    with _rate_limits():
        reply = post_json(
            http,
            source.base_url + "graphql",
            json={"query": _DISCUSSIONS, "variables": {"q": query, "n": DISCUSSIONS_PAGE}},
            headers=_headers(source),
        )
    nodes = ((reply.get("data") or {}).get("search") or {}).get("nodes") if isinstance(reply, dict) else None
    if not isinstance(nodes, list):
        errors = reply.get("errors") if isinstance(reply, dict) else None
        detail = (
            string(errors[0].get("message"))
            if isinstance(errors, list) and errors and isinstance(errors[0], dict)
            else ""
        )
        raise SourceError(f"answered the discussion search without results{': ' + detail if detail else ''}")
    dated = ((node, iso_datetime(node.get("createdAt"))) for node in nodes if isinstance(node, dict))
    kept, newest, cut_short = fresh(dated, since=since, floor=floor, page_size=DISCUSSIONS_PAGE)
    items = []
    for node, created in kept:
        author = node.get("author")
        issue_like = {
            "id": node.get("id"),
            "title": node.get("title"),
            "body": node.get("body"),
            "html_url": node.get("url"),
            "user": {"login": author.get("login")} if isinstance(author, dict) else None,
        }
        if item := _item(issue_like, created):
            items.append(item)
    return Fetched(
        items=items,
        cursor={"discussion_created_at": iso(newest)} if newest else None,
        problem=unread(DISCUSSIONS_PAGE) if cut_short else None,
    )


def _headers(source: GitHubSource) -> dict[str, str]:
    token = secret(source.token_env)
    return {**HEADERS, "Authorization": f"Bearer {token}"} if token else dict(HEADERS)


@contextmanager
def _rate_limits() -> Iterator[None]:
    """A spent quota (`x-ratelimit-remaining: 0`) or a secondary limit (`Retry-After`) comes as a 403."""
    try:
        yield
    except HttpStatusError as error:
        wait = retry_after(error.headers) if error.status == 403 else None
        if wait is not None:
            raise RateLimited(f"{error} (rate limited)", retry_after=wait) from error
        raise
