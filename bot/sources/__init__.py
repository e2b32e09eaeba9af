"""Where mentions come from. A source fetches documents and turns them into items; it knows nothing
of keywords, scoring or Slack."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Item:
    """One thing a customer wrote, as the source gave it, reduced to plain text."""

    external_id: str
    text: str
    title: str | None = None
    url: str | None = None
    author: str | None = None
    published_at: datetime | None = None


@dataclass
class Fetched:
    items: list[Item] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    problem: str | None = None
    """Set when the document was readable only in part (a malformed feed)."""


class SourceError(Exception):
    """A poll failed (network, HTTP status, unreadable body); the message says which and why."""
