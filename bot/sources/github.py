"""GitHub issues (and, when the query says so, pull requests) through the search API, newest first,
from a created-at cursor that becomes a `created:>=` qualifier of the query."""

import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.configtypes import secret
from bot.sources import Fetched, Item, PollState, RateLimited, SourceError
from bot.sources.http import get_json
from bot.sources.kinds import GitHubSource
from bot.text import normalize_space

PAGE_SIZE = 100
API_VERSION = "2022-11-28"
# GitHub refuses (422) an issue search that does not say whether it wants issues or pull requests.
_SAYS_WHICH = re.compile(r"(?:^|\s)-?(?:is|type):(?:issue|pr|pull-request)\b", re.IGNORECASE)


def fetch(source: GitHubSource, http: httpx.Client, state: PollState) -> Fetched:
    """Issues created after the newest one seen; customers file issues, so a bare query hears only those."""
    since = _time(state.cursor.get("created_at"))
    query = source.query if _SAYS_WHICH.search(source.query) else f"{source.query} is:issue"
    if since:
        query += f" created:>={_iso(since)}"  # inclusive: the newest issue seen comes back and is dropped
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
    if token := secret(source.token_env):
        headers["Authorization"] = f"Bearer {token}"
    params = {"q": query, "sort": "created", "order": "desc", "per_page": PAGE_SIZE}
    try:
        reply = get_json(http, source.base_url + "search/issues", params=params, headers=headers)
    except SourceError as error:
        if str(error) == "answered HTTP 403":
            _raise_if_quota_spent(http, source.base_url, headers)
        raise
    found = reply.get("items") if isinstance(reply, dict) else None
    if not isinstance(found, list):
        raise SourceError("answered without an items list")
    items, newest = [], since
    for issue in found:
        created = _time(issue.get("created_at")) if isinstance(issue, dict) else None
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
    return isinstance(total, int) and not isinstance(total, bool) and total > len(found)


def _raise_if_quota_spent(http: httpx.Client, base_url: str, headers: dict[str, str]) -> None:
    """GitHub answers a spent quota with 403; its free `rate_limit` endpoint tells whether that was why.

    `http.get` keeps no headers of a refusal, where `x-ratelimit-reset` would say the same thing."""
    try:
        limits = get_json(http, base_url + "rate_limit", headers=headers)
        search = limits["resources"]["search"]
        remaining, reset = int(search["remaining"]), float(search["reset"])
    except (SourceError, KeyError, TypeError, ValueError):
        return  # no better explanation than the 403 itself
    if remaining < 1:
        raise RateLimited("answered HTTP 403 (search quota spent)", retry_after=max(0.0, reset - time.time()))


def _item(issue: dict[str, Any], created: datetime) -> Item | None:
    title = normalize_space(_string(issue.get("title"))) or None
    text = normalize_space(_string(issue.get("body")))  # Markdown reads well enough as plain text
    url = _string(issue.get("html_url"))
    user = issue.get("user")
    login = normalize_space(_string(user.get("login"))) if isinstance(user, dict) else ""
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
    )


def _time(value: object) -> datetime | None:
    """An ISO 8601 time, in UTC (one without a zone is taken as UTC); None if `value` is none."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: "0001-01-01T00:00:00+01:00" is before year 1 in UTC
        return None


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""
