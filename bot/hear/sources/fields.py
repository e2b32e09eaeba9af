"""Reading an API's loosely typed JSON, and keeping what is new since the last poll. A value of the wrong
type reads as nothing instead of raising, so one odd field skips one item rather than the whole poll."""

import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, NamedTuple, TypeVar

from bot.hear.sources import SourceError


def decode_json(body: bytes) -> Any:
    """The document, or a SourceError saying what came instead (usually a proxy's or a login's HTML page)."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        kind = "an HTML page" if body.lstrip()[:1] == b"<" else "something"
        raise SourceError(f"answered with {kind}, not JSON") from None


def string(value: object) -> str:
    return value if isinstance(value, str) else ""


def identifier(value: object) -> str | None:
    """An id that APIs give as a number or as text, as text; None when it is missing."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None


def whole(value: object) -> int | None:
    """An integer, not a boolean (JSON's `true` is an int to Python)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rating(value: object) -> int | None:
    """A review's stars from 1 to 5, given as a number (Google Play) or as text (the App Store's feed); anything
    else (0, 6, "4.5", "", a boolean) is no rating."""
    text = value if isinstance(value, str) else str(value) if whole(value) is not None else ""
    return int(text) if text in ("1", "2", "3", "4", "5") else None


def iso_datetime(value: object) -> datetime | None:
    """An ISO 8601 time, in UTC (one without a zone is taken as UTC); None if `value` is none."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: "0001-01-01T00:00:00+01:00" is before year 1 in UTC
        return None


def epoch(value: object) -> datetime | None:
    """A time sent as seconds since the epoch (Reddit sends floats, Algolia and Stack Exchange integers)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return datetime.fromtimestamp(value, UTC) if 0 < value < 32_503_680_000 else None  # before the year 3000


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, as the APIs write it; fractions of a second only where there are some."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


OVERLAP = timedelta(minutes=10)
"""How far before the newest post seen each poll reads again. Search indexes (Reddit's, GitHub's, Bluesky's,
Algolia's, Mastodon's) lag by minutes, so a post can turn up after a newer one was heard; the database keeps
one mention per source and id, so what is read twice is stored once."""


def reread_from(since: datetime | None) -> datetime | None:
    """Where a poll starts reading: the overlap before the newest post seen, or anywhere on a first poll."""
    return since - OVERLAP if since else None


Thing = TypeVar("Thing")
Key = TypeVar("Key", datetime, int)


class Fresh(NamedTuple, Generic[Thing, Key]):
    """What one poll keeps of a page, and what the poll learns from it."""

    kept: list[tuple[Thing, Key]]
    newest: Key | None
    """The newest key seen, never older than the cursor: where the next poll starts."""
    cut_short: bool
    """A full page that never went back to the cursor: posts newer than the cursor went unread."""


def fresh(
    keyed: Iterable[tuple[Thing, Key | None]], *, since: Key | None, floor: Key | None, page_size: int
) -> Fresh[Thing, Key]:
    """What a newest-first page holds after `floor` (usually the cursor less the overlap), keyed by time or by
    an id that grows with it; a thing without a key cannot be placed against the cursor, so it is skipped."""
    kept: list[tuple[Thing, Key]] = []
    newest, read, reached = since, 0, since is None  # a first poll never meant to read everything
    for thing, key in keyed:
        read += 1
        if key is None:
            continue
        reached = reached or (since is not None and key <= since)
        if floor is None or key > floor:
            kept.append((thing, key))
            newest = key if newest is None else max(newest, key)
    return Fresh(kept, newest, read >= page_size and not reached)


def unread(count: int) -> str:
    """What `Fetched.problem` says when more arrived than a poll reads."""
    return f"more than {count} new items since the last poll; the oldest were not read"
