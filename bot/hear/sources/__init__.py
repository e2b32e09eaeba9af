"""Where mentions come from. A source fetches documents and turns them into items; it knows nothing
of keywords, scoring or Slack."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Item:
    """One thing a customer wrote, as the source gave it, reduced to plain text."""

    external_id: str
    text: str
    title: str | None = None
    url: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    author_reach: int | None = None
    """Followers, karma or reputation, where the source tells it."""
    shared_url: str | None = None
    """The page a link post points to (a Hacker News story's link), for recognising one post seen twice."""
    reply_to: dict[str, Any] | None = None
    """What the source's API needs to answer this post, where it can."""
    thread: str | None = None
    """The conversation this post belongs to (the story, issue or thread it answers), where the source tells it."""
    rating: int | None = None
    """A review's stars, 1 to 5, where the source rates (an app store); anything else reads as None."""
    app_version: str | None = None
    """The app version a review is about, where the store tells it."""


@dataclass(frozen=True)
class PollState:
    """What a source remembered from its last successful poll."""

    etag: str | None = None
    last_modified: str | None = None
    cursor: dict[str, Any] = field(default_factory=dict)


@dataclass
class Fetched:
    items: list[Item] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    cursor: dict[str, Any] | None = None
    """Where the next poll starts; None keeps the current one."""
    wait: float | None = None
    """Seconds the service asked us to leave it alone (a quota or backoff field), even on success."""
    problem: str | None = None
    """Set when the document was readable only in part (a malformed feed)."""


class SourceError(Exception):
    """A poll failed (network, HTTP status, unreadable body); the message says which and why."""


class RateLimited(SourceError):
    def __init__(self, message: str, *, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
