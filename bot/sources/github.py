"""GitHub issues (and, when the query says so, pull requests) through the search API, newest first,
from a created-at cursor that becomes a `created:>=` qualifier of the query."""

import re
from datetime import datetime
from typing import Any

import httpx

from bot.configtypes import secret
from bot.sources import Fetched, Item, PollState, RateLimited, SourceError
from bot.sources.fields import iso_datetime, string, whole
from bot.sources.http import HttpStatusError, get_json, post_json, retry_after
from bot.sources.kinds import GitHubSource
from bot.text import normalize_space

PAGE_SIZE = 100
API_VERSION = "2022-11-28"
# GitHub refuses (422) an issue search that does not say whether it wants issues or pull requests.
_SAYS_WHICH = re.compile(r"(?:^|\s)-?(?:is|type):(?:issue|pr|pull-request)\b", re.IGNORECASE)

HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}


def fetch(source: GitHubSource, http: httpx.Client, state: PollState) -> Fetched:
    """Issues created after the newest one seen; customers file issues, so a bare query hears only those."""
    since = iso_datetime(state.cursor.get("created_at"))
    query = source.query if _SAYS_WHICH.search(source.query) else f"{source.query} is:issue"
    if since:
        query += f" created:>={_iso(since)}"  # inclusive: the newest issue seen comes back and is dropped
    headers = dict(HEADERS)
    if token := secret(source.token_env):
        headers["Authorization"] = f"Bearer {token}"
    params = {"q": query, "sort": "created", "order": "desc", "per_page": PAGE_SIZE}
    try:
        reply = get_json(http, source.base_url + "search/issues", params=params, headers=headers)
    except HttpStatusError as error:
        # A spent quota (`x-ratelimit-remaining: 0`) or a secondary limit (`Retry-After`) comes as a 403.
        wait = retry_after(error.headers) if error.status == 403 else None
        if wait is not None:
            raise RateLimited(f"{error} (rate limited)", retry_after=wait) from error
        raise
    found = reply.get("items") if isinstance(reply, dict) else None
    if not isinstance(found, list):
        raise SourceError("answered without an items list")
    items, newest = [], since
    for issue in found:
        created = iso_datetime(issue.get("created_at")) if isinstance(issue, dict) else None
        if created is None or (since and created <= since):
            continue
        newest = max(newest, created) if newest else created
        if item := _item(issue, created):
            items.append(item)
    total = reply.get("total_count")
    # More after the cursor than one page holds: the oldest of them are not heard.
    problem = "more new issues than one page; the oldest were skipped" if since and _more(total, found) else None
    return Fetched(items=items, cursor={"created_at": _iso(newest)} if newest else None, problem=problem)


def _more(total: object, found: list[Any]) -> bool:
    count = whole(total)
    return count is not None and count > len(found)


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
    )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def describe_reply(source: GitHubSource) -> str | None:
    if not secret(source.token_env):
        return None
    return f"as a comment on GitHub, from the account whose token is in {source.token_env}"


def reply(source: GitHubSource, http: httpx.Client, reply_to: dict[str, Any], text: str, key: str) -> str | None:
    """A comment on the issue or pull request; only ever to the API the source polls, with its token."""
    comments_url = string(reply_to.get("comments_url"))
    if not comments_url.startswith(source.base_url):
        raise SourceError("the issue lives on another GitHub than this source's base_url")
    posted = post_json(
        http,
        comments_url,
        json={"body": text},
        headers={**HEADERS, "Authorization": f"Bearer {secret(source.token_env)}"},
    )
    return string(posted.get("html_url")) or None if isinstance(posted, dict) else None
