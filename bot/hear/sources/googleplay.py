"""Google Play reviews of the team's own app through the Google Play Developer API (`reviews.list`,
`reviews.reply`), signed in as a service account whose JSON key is in an environment variable.

The token exchange (a JWT signed with the account's key, traded at its `token_uri` for an hour's access
token) is google-auth's, over this process's bounded HTTP; the token is kept per account until it expires.
`reviews.list` answers with the reviews created or changed in the last week, the newest first, paged with
`tokenPagination`; the cursor is the `lastModified` time of the newest review heard. The API allows 200
reads an hour and 2,000 replies a day per app.
"""

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from bot.ground.config_sources import GooglePlaySource
from bot.ground.text import normalize_space
from bot.hear.sources import Fetched, Item, PollState, SourceError
from bot.hear.sources.fields import epoch, fresh, iso, iso_datetime, rating, reread_from, string, unread
from bot.hear.sources.http import HttpStatusError, get_json, post_json
from bot.hear.sources.reply_limits import ReplyLimit

if TYPE_CHECKING:
    from google.oauth2.service_account import Credentials

SCOPE = "https://www.googleapis.com/auth/androidpublisher"
PAGE_SIZE = 100
MAX_PAGES = 3
REVIEW_URL = "https://play.google.com/store/apps/details?id={package}&reviewId={review}"


def fetch(source: GooglePlaySource, http: httpx.Client, state: PollState) -> Fetched:
    """Reviews changed since the overlap before the newest heard; a first poll reads one page."""
    since = iso_datetime(state.cursor.get("last_modified"))
    floor = reread_from(since)
    headers = {"Authorization": f"Bearer {ACCOUNTS.token(source, http)}"}
    params: dict[str, Any] = {"maxResults": PAGE_SIZE}
    url = source.base_url + f"applications/{source.package}/reviews"
    items: dict[str, Item] = {}
    newest, problem = since, None
    for _ in range(MAX_PAGES if since else 1):
        reply = _explained(lambda: get_json(http, url, params=params, headers=headers))
        reviews = reply.get("reviews", []) if isinstance(reply, dict) else None  # no review this week: no list
        if not isinstance(reviews, list) or not isinstance(reply, dict):
            raise SourceError("answered without a list of reviews")
        dated = ((review, _modified(review)) for review in reviews if isinstance(review, dict))
        found = fresh(dated, since=since, floor=floor, page_size=PAGE_SIZE)
        for review, at in found.kept:
            if (item := _item(source, review, at)) and item.external_id not in items:
                items[item.external_id] = item
        if found.newest and (newest is None or found.newest > newest):
            newest = found.newest
        pages = reply.get("tokenPagination")
        token = string(pages.get("nextPageToken")) if isinstance(pages, dict) else ""
        if not found.cut_short or not token:
            break
        params["token"] = token
    else:
        problem = unread(PAGE_SIZE * MAX_PAGES)
    return Fetched(
        items=list(items.values()), cursor={"last_modified": iso(newest)} if newest else None, problem=problem
    )


def _user_comment(review: dict[str, Any]) -> dict[str, Any]:
    """The customer's own words among the review's comments (the developer's answer is another)."""
    comments = review.get("comments")
    for comment in comments if isinstance(comments, list) else []:
        user = comment.get("userComment") if isinstance(comment, dict) else None
        if isinstance(user, dict):
            return user
    return {}


def _modified(review: dict[str, Any]) -> datetime | None:
    """`lastModified` is a protobuf Timestamp: seconds (as a string) and nanos."""
    stamp = _user_comment(review).get("lastModified")
    seconds = stamp.get("seconds") if isinstance(stamp, dict) else None
    if isinstance(seconds, str) and seconds.isascii() and seconds.isdigit() and len(seconds) < 12:
        return epoch(int(seconds))
    return epoch(seconds) if isinstance(seconds, int) else None


def _item(source: GooglePlaySource, review: dict[str, Any], modified: datetime) -> Item | None:
    review_id = string(review.get("reviewId"))
    comment = _user_comment(review)
    text = normalize_space(string(comment.get("text")))  # Play puts a tab before text it holds no title for
    if not review_id or not text:
        return None
    version = normalize_space(string(comment.get("appVersionName")))[:50]
    return Item(
        external_id=review_id,
        text=text,
        url=REVIEW_URL.format(package=source.package, review=review_id),
        author=normalize_space(string(review.get("authorName"))) or None,
        published_at=modified,
        rating=rating(comment.get("starRating")),
        app_version=version or None,
        reply_to={"review_id": review_id},
    )


def _explained(call: Callable[[], Any]) -> Any:
    """Google explains a refusal in its body: `{"error": {"code": 403, "message": "…", "status": "…"}}`."""
    try:
        return call()
    except HttpStatusError as error:
        body = error.json()
        failure = body.get("error") if isinstance(body, dict) else None
        said = normalize_space(string(failure.get("message")))[:200] if isinstance(failure, dict) else ""
        if said:
            raise SourceError(f"{error} ({said})") from error
        raise


class Accounts:
    """Service-account credentials by source, kept while their token lasts (an hour), one sign-in at a time."""

    def __init__(self) -> None:
        self._credentials: dict[str, Credentials] = {}
        self._lock = threading.Lock()

    def token(self, source: GooglePlaySource, http: httpx.Client) -> str:
        from bot.hear.sources import google_signin  # google-auth is loaded by a first sign-in, not by every process

        with self._lock:
            credentials = self._credentials.get(source.key)
            if credentials is None:
                credentials = self._credentials[source.key] = google_signin.credentials(source, SCOPE)
            if not credentials.valid:
                google_signin.refresh(credentials, http)
            return str(credentials.token)

    def clear(self) -> None:
        with self._lock:
            self._credentials.clear()


ACCOUNTS = Accounts()


MAX_REPLY = ReplyLimit(350)  # Google Play refuses a longer developer reply


def describe_reply(source: GooglePlaySource) -> str | None:
    return f"as the developer reply on Google Play, as the service account in {source.credentials_env}"


def reply_limit(source: GooglePlaySource, reply_to: dict[str, Any]) -> ReplyLimit:
    return MAX_REPLY


def reply(source: GooglePlaySource, http: httpx.Client, reply_to: dict[str, Any], text: str, key: str) -> str | None:
    """The developer's reply under the review; writing it again replaces the earlier one."""
    if problem := MAX_REPLY.problem(text):
        raise SourceError(f"the reply is too long for Google Play: {problem}")
    review_id = string(reply_to.get("review_id"))
    headers = {"Authorization": f"Bearer {ACCOUNTS.token(source, http)}"}
    url = source.base_url + f"applications/{source.package}/reviews/{quote(review_id, safe=':')}:reply"
    _explained(lambda: post_json(http, url, json={"replyText": text}, headers=headers))
    return REVIEW_URL.format(package=source.package, review=review_id)
